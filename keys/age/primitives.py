"""The few primitives age is built from: HKDF-SHA-256, ChaCha20-Poly1305 and canonical base64."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from nacl import bindings
from nacl.exceptions import CryptoError

from .errors import HeaderError

_ZERO_NONCE = bytes(12)
TAG_SIZE = 16


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 HKDF with SHA-256."""
    prk = hmac.digest(salt or bytes(32), ikm, hashlib.sha256)
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.digest(prk, block + info + bytes([counter]), hashlib.sha256)
        out += block
        counter += 1
    return out[:length]


def seal(key: bytes, plaintext: bytes, nonce: bytes = _ZERO_NONCE) -> bytes:
    """ChaCha20-Poly1305 (IETF) with no associated data."""
    return bindings.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, None, nonce, key)


def open_sealed(key: bytes, ciphertext: bytes, nonce: bytes = _ZERO_NONCE) -> bytes | None:
    """The plaintext, or None if the ciphertext does not authenticate under ``key``."""
    if len(ciphertext) < TAG_SIZE:
        return None
    try:
        return bindings.crypto_aead_chacha20poly1305_ietf_decrypt(ciphertext, None, nonce, key)
    except CryptoError:
        return None


def b64encode(data: bytes) -> bytes:
    """Unpadded standard base64, as age writes it."""
    return base64.b64encode(data).rstrip(b"=")


def b64decode(text: bytes) -> bytes:
    """Strict unpadded base64: rejects padding, stray characters and non-canonical encodings."""
    if b"=" in text:
        raise HeaderError("base64 padding is not allowed in an age header")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise HeaderError("invalid base64 in the age header") from None
    if b64encode(data) != text:
        raise HeaderError("non-canonical base64 in the age header")
    return data
