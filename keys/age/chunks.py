"""Sealing and opening runs of consecutive STREAM chunks, between buffers the caller owns.

PyNaCl's public binding allocates and zeroes a new buffer for every call, copies the result into
a new ``bytes``, and holds the GIL while it does: at 64 KiB a chunk that costs as much as the
cipher itself. Here each chunk is one libsodium call through PyNaCl's own cffi binding, from the
caller's buffer into the caller's buffer, and cffi releases the GIL during the call, so several
runs can be sealed at once on several cores. ``tests/keys/test_chunks.py`` holds these functions
to the public binding, byte for byte.
"""

from __future__ import annotations

from nacl import bindings
from nacl._sodium import ffi, lib  # PyNaCl's binding of libsodium; PyNaCl is pinned

from .errors import PayloadError
from .primitives import TAG_SIZE

CHUNK_SIZE = 64 * 1024
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE

# libsodium picks its fastest implementations (AVX2 and so on) only once sodium_init has run.
bindings.sodium_init()


def chunk_nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def seal_run(
    key: bytes, plaintext: bytes | bytearray, size: int, first: int, final: bool, out: bytearray
) -> int:
    """Seal ``plaintext[:size]`` as chunks numbered from ``first`` into ``out``.

    Every chunk but the run's last is full. The last is flagged final when ``final`` says this
    run ends the payload (an empty final run is the one empty chunk of an empty payload). Returns
    the number of bytes written to ``out``.
    """
    count = max(1, -(-size // CHUNK_SIZE))
    _check_run(size, CHUNK_SIZE, final, len(plaintext), len(out), size + count * TAG_SIZE)
    src, dst = ffi.from_buffer(plaintext), ffi.from_buffer(out, require_writable=True)
    for i in range(count):
        length = min(CHUNK_SIZE, size - i * CHUNK_SIZE)
        nonce = chunk_nonce(first + i, final and i == count - 1)
        lib.crypto_aead_chacha20poly1305_ietf_encrypt(
            dst + i * ENCRYPTED_CHUNK_SIZE,
            ffi.NULL,
            src + i * CHUNK_SIZE,
            length,
            ffi.NULL,
            0,
            ffi.NULL,
            nonce,
            key,
        )
    return size + count * TAG_SIZE


def open_run(
    key: bytes, ciphertext: bytes | bytearray, size: int, first: int, final: bool, out: bytearray
) -> int:
    """Open ``ciphertext[:size]``, chunks numbered from ``first``, into ``out``; all or nothing.

    Raises ``PayloadError`` naming the first chunk that does not authenticate, in which case
    ``out`` holds nothing the caller may use. Returns the number of plaintext bytes.
    """
    if size == 0:
        raise PayloadError("the encrypted content is missing (the file is truncated)")
    count = -(-size // ENCRYPTED_CHUNK_SIZE)
    room = max(0, size - count * TAG_SIZE)
    _check_run(size, ENCRYPTED_CHUNK_SIZE, final, len(ciphertext), len(out), room)
    src, dst = ffi.from_buffer(ciphertext), ffi.from_buffer(out, require_writable=True)
    for i in range(count):
        counter = first + i
        length = min(ENCRYPTED_CHUNK_SIZE, size - i * ENCRYPTED_CHUNK_SIZE)
        last = final and i == count - 1
        if length < TAG_SIZE or lib.crypto_aead_chacha20poly1305_ietf_decrypt(
            dst + i * CHUNK_SIZE,
            ffi.NULL,
            ffi.NULL,
            src + i * ENCRYPTED_CHUNK_SIZE,
            length,
            ffi.NULL,
            0,
            chunk_nonce(counter, last),
            key,
        ):
            raise PayloadError(
                "the encrypted content is truncated, extended or modified "
                f"(chunk {counter} does not authenticate)"
            )
        if last and length == TAG_SIZE and counter > 0:
            raise PayloadError("the encrypted content ends with an empty chunk")
    return size - count * TAG_SIZE


def _check_run(size: int, chunk: int, final: bool, have: int, room: int, needed: int) -> None:
    """Guard the pointer arithmetic above: cffi does no bounds checks."""
    if not 0 <= size <= have or room < needed:
        raise ValueError("the run does not fit its buffers")
    if not final and (size == 0 or size % chunk):
        raise ValueError("only the final chunk of a payload may be short")
