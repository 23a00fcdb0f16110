"""Ciphertext stored as database rows, written and read in bounded memory.

``BlobWriter`` is the seekable destination a sealed item needs: the first row stays in memory
until ``close()`` so the item's first STREAM chunk can be patched in place (keys.sealed); later
rows go to the database as they fill.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .models import Chunk, ReplyChunk

ROW_SIZE = 1 << 20


class BlobWriter:
    def __init__(self, store_row: Callable[[int, bytes], None]) -> None:
        self._store_row = store_row
        self._first = bytearray()
        # Later rows as the pieces written, joined once per row: appending to a bytearray and
        # slicing rows off it copied every byte three times.
        self._tail: deque[bytes | memoryview] = deque()
        self._tail_size = 0
        self._next_seq = 1
        self._size = 0
        self._pos = 0

    def write(self, data: bytes | memoryview) -> int:
        if self._pos < self._size:
            if self._pos + len(data) > len(self._first):
                raise ValueError("only the first row of a blob can be rewritten")
            self._first[self._pos : self._pos + len(data)] = data
            self._pos += len(data)
            return len(data)
        size = len(data)
        room = ROW_SIZE - len(self._first)
        if room:
            self._first += data[:room]
            data = data[room:]
        if data:
            self._tail.append(data if type(data) is bytes else bytes(data))  # kept, so immutable
            self._tail_size += len(data)
            while self._tail_size >= ROW_SIZE:
                self._flush(ROW_SIZE)
        self._size += size
        self._pos = self._size
        return size

    def _flush(self, size: int) -> None:
        pieces: list[bytes | memoryview] = []
        missing = size
        while missing:
            piece = self._tail.popleft()
            if len(piece) > missing:
                view = memoryview(piece)
                piece, rest = view[:missing], view[missing:]
                self._tail.appendleft(rest)
            pieces.append(piece)
            missing -= len(piece)
        self._tail_size -= size
        self._store_row(self._next_seq, b"".join(pieces))
        self._next_seq += 1

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or not 0 <= offset <= self._size:
            raise ValueError("unsupported seek on a blob")
        self._pos = offset
        return offset

    def tell(self) -> int:
        return self._pos

    def close(self) -> int:
        """Store what is left and the first row; returns the blob's size."""
        if self._tail_size:
            self._flush(self._tail_size)
        self._store_row(0, bytes(self._first))
        return self._size


class BlobReader:
    """Reads a blob's rows in order (an item's ``Chunk``s or a reply's ``ReplyChunk``s), one row
    in memory at a time."""

    def __init__(
        self, sessions: sessionmaker[Session], owner_id: str, rows: type[Chunk | ReplyChunk] = Chunk
    ) -> None:
        self._sessions = sessions
        self._owner_id = owner_id
        self._rows = rows
        self._seq = 0
        self._buffer = b""
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            with self._sessions() as session:
                row = session.scalar(
                    select(self._rows.data).where(
                        self._rows.owner_id == self._owner_id, self._rows.seq == self._seq
                    )
                )
            if row is None:
                self._done = True
            else:
                self._buffer += row
                self._seq += 1
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data
