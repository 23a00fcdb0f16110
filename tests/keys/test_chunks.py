"""keys/age/chunks.py and the pipeline in keys/age/stream.py that runs it on several threads.

``seal_run`` and ``open_run`` call libsodium through PyNaCl's private cffi binding with pointer
arithmetic, so they are held here to PyNaCl's public binding byte for byte, and their bounds
checks are tried. ``encrypt_stream`` must write exactly what the one-chunk-at-a-time
``StreamWriter`` writes (I7: it is the same age file), whatever the run and pipeline sizes, and
``decrypt_stream`` must stop at the first run that does not authenticate, having released only
whole runs before it (I8).
"""

from __future__ import annotations

import io
import os

import pytest
from nacl import bindings

from keys.age import PayloadError, stream
from keys.age.chunks import (
    CHUNK_SIZE,
    ENCRYPTED_CHUNK_SIZE,
    chunk_nonce,
    open_run,
    seal_run,
)

KEY = bytes(range(32))


def reference_payload(key: bytes, plaintext: bytes) -> bytes:
    """STREAM as the age spec writes it, through PyNaCl's public binding, one chunk at a time."""
    starts = range(0, max(len(plaintext), 1), CHUNK_SIZE)
    return b"".join(
        bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
            plaintext[start : start + CHUNK_SIZE],
            None,
            chunk_nonce(counter, last=start + CHUNK_SIZE >= len(plaintext)),
            key,
        )
        for counter, start in enumerate(starts)
    )


def sealed_with_stream_writer(plaintext: bytes) -> bytes:
    out = io.BytesIO()
    writer = stream.StreamWriter(KEY, out)
    writer.write(plaintext)
    writer.close()
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE])
def test_seal_run_matches_the_public_binding(size: int) -> None:
    plaintext = os.urandom(size)
    out = bytearray(4 * ENCRYPTED_CHUNK_SIZE)
    written = seal_run(KEY, bytearray(plaintext), size, 0, True, out)
    assert bytes(out[:written]) == reference_payload(KEY, plaintext)


def test_runs_number_their_chunks_from_first() -> None:
    """A run that starts at chunk 5 uses counters 5, 6, ...; not 0, 1, ..."""
    plaintext = os.urandom(2 * CHUNK_SIZE)
    out = bytearray(2 * ENCRYPTED_CHUNK_SIZE)
    seal_run(KEY, bytearray(plaintext), len(plaintext), 5, False, out)
    second = bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
        plaintext[CHUNK_SIZE:], None, chunk_nonce(6, last=False), KEY
    )
    assert bytes(out[ENCRYPTED_CHUNK_SIZE:]) == second


def test_open_run_inverts_seal_run() -> None:
    plaintext = os.urandom(2 * CHUNK_SIZE + 10)
    sealed = bytearray(3 * ENCRYPTED_CHUNK_SIZE)
    size = seal_run(KEY, bytearray(plaintext), len(plaintext), 7, True, sealed)
    out = bytearray(3 * CHUNK_SIZE)
    assert open_run(KEY, sealed, size, 7, True, out) == len(plaintext)
    assert bytes(out[: len(plaintext)]) == plaintext


@pytest.mark.parametrize("chunk", [0, 1, 2])
def test_i8_open_run_names_the_chunk_that_fails(chunk: int) -> None:
    plaintext = os.urandom(3 * CHUNK_SIZE)
    sealed = bytearray(3 * ENCRYPTED_CHUNK_SIZE)
    size = seal_run(KEY, bytearray(plaintext), len(plaintext), 4, True, sealed)
    sealed[chunk * ENCRYPTED_CHUNK_SIZE + 100] ^= 1
    with pytest.raises(PayloadError, match=f"chunk {4 + chunk} does not authenticate"):
        open_run(KEY, sealed, size, 4, True, bytearray(3 * CHUNK_SIZE))


def test_open_run_checks_the_last_flag() -> None:
    """A final chunk opened as a middle one (or the reverse) does not authenticate."""
    sealed = bytearray(ENCRYPTED_CHUNK_SIZE)
    size = seal_run(KEY, bytearray(CHUNK_SIZE), CHUNK_SIZE, 0, True, sealed)
    with pytest.raises(PayloadError, match="chunk 0 does not authenticate"):
        open_run(KEY, sealed, size, 0, False, bytearray(CHUNK_SIZE))


def test_an_empty_final_chunk_after_others_is_refused() -> None:
    sealed = bytearray(ENCRYPTED_CHUNK_SIZE)
    size = seal_run(KEY, bytearray(), 0, 1, True, sealed)
    with pytest.raises(PayloadError, match="ends with an empty chunk"):
        open_run(KEY, sealed, size, 1, True, bytearray(CHUNK_SIZE))


@pytest.mark.parametrize("size", [0, 15])
def test_a_missing_or_tagless_payload_is_refused(size: int) -> None:
    with pytest.raises(PayloadError):
        open_run(KEY, bytearray(size), size, 0, True, bytearray(CHUNK_SIZE))


def test_buffers_too_small_are_refused_before_libsodium_writes() -> None:
    """cffi does no bounds checks: the functions must, or a short buffer is memory corruption."""
    plaintext = bytearray(2 * CHUNK_SIZE)
    with pytest.raises(ValueError, match="does not fit"):
        seal_run(KEY, plaintext, len(plaintext), 0, True, bytearray(2 * ENCRYPTED_CHUNK_SIZE - 1))
    with pytest.raises(ValueError, match="does not fit"):
        seal_run(KEY, plaintext, len(plaintext) + 1, 0, True, bytearray(3 * ENCRYPTED_CHUNK_SIZE))
    sealed = bytearray(2 * ENCRYPTED_CHUNK_SIZE)
    with pytest.raises(ValueError, match="does not fit"):
        open_run(KEY, sealed, len(sealed), 0, True, bytearray(2 * CHUNK_SIZE - 1))


def test_only_a_final_run_may_end_short() -> None:
    with pytest.raises(ValueError, match="final chunk"):
        seal_run(KEY, bytearray(CHUNK_SIZE), CHUNK_SIZE - 1, 0, False, bytearray(CHUNK_SIZE * 2))
    with pytest.raises(ValueError, match="final chunk"):
        open_run(KEY, bytearray(100), 100, 0, False, bytearray(CHUNK_SIZE))


# The pipeline ---------------------------------------------------------------------------------


class ShortReads:
    """A pipe-like reader with no ``readinto`` that returns at most 1000 bytes at a time."""

    def __init__(self, data: bytes) -> None:
        self._src = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._src.read(min(size, 1000) if size >= 0 else 1000)


@pytest.fixture(params=[(1, 1), (1, 2), (2, 3), (16, 4)], ids=lambda p: f"run{p[0]}-inflight{p[1]}")
def pipeline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Run sizes and pipeline depths, small ones so that a few chunks reuse every buffer slot."""
    run_chunks, in_flight = request.param
    monkeypatch.setattr(stream, "RUN_CHUNKS", run_chunks)
    monkeypatch.setattr(stream, "IN_FLIGHT", in_flight)
    monkeypatch.setattr(stream, "WORKERS", 2)
    return int(run_chunks)


SIZES = [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 7 * CHUNK_SIZE, 7 * CHUNK_SIZE - 3, 40 * CHUNK_SIZE + 5]


@pytest.mark.parametrize("size", SIZES)
def test_i7_encrypt_stream_writes_what_stream_writer_writes(pipeline: int, size: int) -> None:
    """Byte for byte, so the threaded pipeline writes the same age payload (I7)."""
    plaintext = os.urandom(size)
    out = io.BytesIO()
    stream.encrypt_stream(KEY, io.BytesIO(plaintext), out)
    assert out.getvalue() == sealed_with_stream_writer(plaintext)
    assert out.getvalue() == reference_payload(KEY, plaintext)


@pytest.mark.parametrize("size", SIZES)
def test_decrypt_stream_round_trips_from_short_reads(pipeline: int, size: int) -> None:
    plaintext = os.urandom(size)
    out = io.BytesIO()
    stream.decrypt_stream(KEY, ShortReads(reference_payload(KEY, plaintext)), out)
    assert out.getvalue() == plaintext


@pytest.mark.parametrize("bad_chunk", [0, 5, 39, 40])
def test_i8_decrypt_stream_stops_at_the_first_bad_run(pipeline: int, bad_chunk: int) -> None:
    """I8: whole authenticated runs before the bad one at most; nothing from it or after it."""
    plaintext = os.urandom(40 * CHUNK_SIZE + 5)
    payload = bytearray(reference_payload(KEY, plaintext))
    payload[bad_chunk * ENCRYPTED_CHUNK_SIZE + 3] ^= 0x80
    out = io.BytesIO()
    with pytest.raises(PayloadError, match=f"chunk {bad_chunk} does not authenticate"):
        stream.decrypt_stream(KEY, io.BytesIO(bytes(payload)), out)
    released = out.getvalue()
    assert released == plaintext[: len(released)]
    assert len(released) % (pipeline * CHUNK_SIZE) == 0, "released part of a run"
    assert len(released) <= bad_chunk * CHUNK_SIZE


def test_i8_a_payload_cut_at_a_run_boundary_is_refused(pipeline: int) -> None:
    """The last full run read is taken as final, so its last chunk fails as a middle one."""
    plaintext = os.urandom(8 * CHUNK_SIZE)
    payload = reference_payload(KEY, plaintext)[: 4 * ENCRYPTED_CHUNK_SIZE]
    with pytest.raises(PayloadError, match="chunk 3 does not authenticate"):
        stream.decrypt_stream(KEY, io.BytesIO(payload), io.BytesIO())
