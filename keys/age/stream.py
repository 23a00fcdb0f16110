"""The STREAM payload: ChaCha20-Poly1305 over 64 KiB chunks, each nonce a counter and a last flag.

Memory stays bounded whatever the size of the payload: a chunk or two for the streaming
``StreamWriter``, about 10 MiB for a whole payload sealed or opened on several cores.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from .chunks import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, chunk_nonce, open_run, seal_run
from .primitives import TAG_SIZE, seal

# Whole payloads (``encrypt_stream``, ``decrypt_stream``) go through in runs of RUN_CHUNKS chunks,
# up to IN_FLIGHT runs at once on worker threads, while this thread reads and writes. Memory:
# (IN_FLIGHT + 1) input and output buffers of one run each, about 10 MiB.
RUN_CHUNKS = 16
IN_FLIGHT = 4
WORKERS = min(IN_FLIGHT, os.cpu_count() or 1)


class Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Writer(Protocol):
    """A destination: it must be done with ``data`` when ``write`` returns (files, BytesIO)."""

    def write(self, data: bytes | memoryview, /) -> int | None: ...


class SeekableWriter(Writer, Protocol):
    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...


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


def _fill(src: Reader, buffer: bytearray) -> int:
    """Fill ``buffer`` from ``src`` unless it ends first; ``readinto`` where there is one."""
    readinto: Callable[[memoryview], int | None] | None = getattr(src, "readinto", None)
    view = memoryview(buffer)
    filled = 0
    while filled < len(buffer):
        if readinto is not None:
            got = readinto(view[filled:]) or 0
        else:
            data = src.read(len(buffer) - filled)
            got = len(data)
            view[filled : filled + got] = data
        if not got:
            break
        filled += got
    return filled


Transform = Callable[[bytes, bytes | bytearray, int, int, bool, bytearray], int]


def _in_runs(src: Reader, dst: Writer, key: bytes, transform: Transform, in_size: int) -> None:
    """Read ``src`` in runs of ``in_size`` bytes, ``transform`` each and write them in order.

    ``transform(key, data, size, first_counter, final, out)`` runs on worker threads, several
    runs at once; a run's output is written only once it and every run before it are done, so
    an exception stops the output at a run boundary. A payload of one short run needs no thread.
    """
    # Most payloads (tips, notes) are one short run: no big buffers and no threads for those.
    data: bytes | bytearray = read_full(src, in_size)
    size = len(data)
    if size < in_size:
        out = bytearray(size + RUN_CHUNKS * TAG_SIZE)
        with memoryview(out) as view:
            dst.write(view[: transform(key, data, size, 0, True, out)])
        return
    out_size = RUN_CHUNKS * ENCRYPTED_CHUNK_SIZE
    slots = [(bytearray(in_size), bytearray(out_size)) for _ in range(IN_FLIGHT + 1)]
    out = slots[0][1]
    pending: deque[tuple[Future[int], bytearray]] = deque()

    def write_oldest() -> None:
        done, buffer = pending.popleft()
        with memoryview(buffer) as view:
            dst.write(view[: done.result()])

    with ThreadPoolExecutor(WORKERS, thread_name_prefix="age-stream") as pool:
        try:
            run = 0
            while True:
                # The next slot was last used IN_FLIGHT + 1 runs ago: written out by now.
                while len(pending) >= IN_FLIGHT:
                    write_oldest()
                next_data, next_out = slots[(run + 1) % len(slots)]
                next_size = _fill(src, next_data) if size == in_size else 0
                final = next_size == 0
                job = pool.submit(transform, key, data, size, run * RUN_CHUNKS, final, out)
                pending.append((job, out))
                if final:
                    break
                run += 1
                data, out, size = next_data, next_out, next_size
            while pending:
                write_oldest()
        finally:
            for job, _ in pending:
                job.cancel()


def encrypt_stream(key: bytes, src: Reader, dst: Writer) -> None:
    """Encrypt all of ``src`` as the STREAM payload, runs of chunks sealed on several cores."""
    _in_runs(src, dst, key, seal_run, RUN_CHUNKS * CHUNK_SIZE)


def decrypt_stream(key: bytes, src: Reader, dst: Writer) -> None:
    """Decrypt the payload, writing each run of chunks only once all of it has authenticated."""
    _in_runs(src, dst, key, open_run, RUN_CHUNKS * ENCRYPTED_CHUNK_SIZE)


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
