"""Ciphertext stored as database rows, written and read in bounded memory.

``BlobWriter`` is the seekable destination a sealed item needs: the first row stays in memory
until ``close()`` so the item's first STREAM chunk can be patched in place (keys.sealed); later
rows go to the database as they fill.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .models import Chunk

ROW_SIZE = 1 << 20


class BlobWriter:
    def __init__(self, store_row: Callable[[int, bytes], None]) -> None:
        self._store_row = store_row
        self._first = bytearray()
        self._tail = bytearray()
        self._next_seq = 1
        self._size = 0
        self._pos = 0

    def write(self, data: bytes) -> int:
        if self._pos < self._size:
            if self._pos + len(data) > len(self._first):
                raise ValueError("only the first row of a blob can be rewritten")
            self._first[self._pos : self._pos + len(data)] = data
            self._pos += len(data)
            return len(data)
        room = ROW_SIZE - len(self._first)
        self._first += data[:room]
        self._tail += data[room:]
        while len(self._tail) >= ROW_SIZE:
            self._flush(ROW_SIZE)
        self._size += len(data)
        self._pos = self._size
        return len(data)

    def _flush(self, size: int) -> None:
        self._store_row(self._next_seq, bytes(self._tail[:size]))
        del self._tail[:size]
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
        if self._tail:
            self._flush(len(self._tail))
        self._store_row(0, bytes(self._first))
        return self._size


class BlobReader:
    """Reads an item's rows in order, one row in memory at a time."""

    def __init__(self, sessions: sessionmaker[Session], item_id: str) -> None:
        self._sessions = sessions
        self._item_id = item_id
        self._seq = 0
        self._buffer = b""
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            with self._sessions() as session:
                row = session.scalar(
                    select(Chunk.data).where(Chunk.item_id == self._item_id, Chunk.seq == self._seq)
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
