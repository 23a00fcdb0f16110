"""The STREAM payload: ChaCha20-Poly1305 over 64 KiB chunks, each nonce a counter and a last flag.

Memory stays bounded by a few chunks whatever the size of the payload.
"""

from __future__ import annotations

from typing import Protocol

from .errors import PayloadError
from .primitives import TAG_SIZE, open_sealed, seal

CHUNK_SIZE = 64 * 1024
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE


class Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Writer(Protocol):
    def write(self, data: bytes, /) -> int | None: ...


class SeekableWriter(Writer, Protocol):
    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...


def chunk_nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def read_full(src: Reader, size: int) -> bytes:
    """Read exactly ``size`` bytes unless the stream ends first (pipes and sockets read short)."""
    data = src.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    missing = size - len(data)
    while missing:
        more = src.read(missing)
        if not more:
            break
        parts.append(more)
        missing -= len(more)
    return b"".join(parts)


class StreamWriter:
    """Encrypts what is written to it; ``close()`` writes the final chunk.

    With ``patchable=True`` the first chunk's plaintext can still be changed by ``patch`` until
    ``close``: until then a placeholder of zeros stands in its place, so no nonce is ever used
    twice. The destination must then be seekable if the payload is longer than one chunk.
    """

    def __init__(self, key: bytes, dst: Writer, *, patchable: bool = False) -> None:
        self._key = key
        self._dst = dst
        # The chunk being filled, ``_filled`` bytes of it so far. Allocated once and filled in
        # place: growing and trimming a bytearray per chunk cost more than the cipher itself.
        self._buffer = bytearray(CHUNK_SIZE)
        self._filled = 0
        # Or, instead, a whole chunk written as one bytes object (immutable), held as it is: the
        # common case of writes of exactly CHUNK_SIZE then needs no copy at all.
        self._held: bytes | None = None
        self._counter = 0
        self._patchable = patchable
        self._first: bytearray | None = None
        self._first_offset = 0
        self._closed = False

    def write(self, data: bytes) -> int:
        if self._closed:
            raise ValueError("write to a closed StreamWriter")
        with memoryview(data) as view, view.cast("B") as octets:
            start = 0
            while start < len(octets):
                # More follows, so a full chunk waiting here is not the last.
                if self._held is not None:
                    self._emit(self._held, last=False)
                    self._held = None
                elif self._filled == CHUNK_SIZE:
                    self._emit(bytes(self._buffer), last=False)
                    self._filled = 0
                whole = start == 0 and self._filled == 0 and len(octets) == CHUNK_SIZE
                if whole and type(data) is bytes and not (self._patchable and self._counter == 0):
                    self._held = data  # (the first chunk of a patchable writer stays patchable)
                    break
                take = min(CHUNK_SIZE - self._filled, len(octets) - start)
                self._buffer[self._filled : self._filled + take] = octets[start : start + take]
                self._filled += take
                start += take
        return len(data)

    def patch(self, offset: int, data: bytes) -> None:
        """Replace plaintext at ``offset`` of the first chunk (patchable writers only)."""
        if not self._patchable or self._closed:
            raise ValueError("this StreamWriter cannot be patched")
        if self._first is not None:
            target, size = self._first, len(self._first)
        else:
            target, size = self._buffer, self._filled
        if offset < 0 or offset + len(data) > size:
            raise ValueError("patch outside the first chunk")
        target[offset : offset + len(data)] = data

    def close(self) -> None:
        if self._closed:
            return
        last = self._held if self._held is not None else bytes(self._buffer[: self._filled])
        self._emit(last, last=True)
        self._buffer = bytearray()
        self._filled = 0
        self._held = None
        if self._first is not None:
            dst: SeekableWriter = self._dst  # type: ignore[assignment]
            end = dst.tell()
            dst.seek(self._first_offset)
            dst.write(seal(self._key, bytes(self._first), chunk_nonce(0, last=False)))
            dst.seek(end)
            self._first = None
        self._closed = True

    def _emit(self, plaintext: bytes, last: bool) -> None:
        if self._patchable and self._counter == 0 and not last:
            dst: SeekableWriter = self._dst  # type: ignore[assignment]
            self._first = bytearray(plaintext)
            self._first_offset = dst.tell()
            dst.write(bytes(ENCRYPTED_CHUNK_SIZE))
        else:
            self._dst.write(seal(self._key, plaintext, chunk_nonce(self._counter, last)))
        self._counter += 1


def decrypt_stream(key: bytes, src: Reader, dst: Writer) -> None:
    """Decrypt the payload, writing each chunk only once it has authenticated."""
    chunk = read_full(src, ENCRYPTED_CHUNK_SIZE)
    if not chunk:
        raise PayloadError("the encrypted content is missing (the file is truncated)")
    counter = 0
    while True:
        ahead = read_full(src, ENCRYPTED_CHUNK_SIZE) if len(chunk) == ENCRYPTED_CHUNK_SIZE else b""
        last = not ahead
        plaintext = open_sealed(key, chunk, chunk_nonce(counter, last))
        if plaintext is None:
            raise PayloadError(
                "the encrypted content is truncated, extended or modified "
                f"(chunk {counter} does not authenticate)"
            )
        if last and not plaintext and counter > 0:
            raise PayloadError("the encrypted content ends with an empty chunk")
        dst.write(plaintext)
        if last:
            return
        chunk = ahead
        counter += 1
