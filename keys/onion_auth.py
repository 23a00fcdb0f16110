"""Client authorization for a Tor v3 onion service: an x25519 key pair in the formats tor reads.

The courier's onion service is reachable only by clients whose public key sits in the service's
``authorized_clients/NAME.auth`` file; the client keeps the private half in its
``ClientOnionAuthDir`` as ``NAME.auth_private``. Both are plain text lines::

    descriptor:x25519:<base32 public key>                                  (server side)
    <56-char onion address>:descriptor:x25519:<base32 private key>         (client side)

Keys are 32 bytes, written as RFC 4648 base32 without padding (52 characters), as tor writes
them. An onion address is checked as tor checks it: version 3 and its SHA3-256 checksum.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from nacl import bindings
from nacl.public import PrivateKey

KEY_SIZE = 32
AUTH_TYPE = "descriptor:x25519:"
ONION_SUFFIX = ".onion"
ONION_ADDRESS_CHARS = 56
_ONION_VERSION = b"\x03"
_CHECKSUM_CONTEXT = b".onion checksum"


def b32encode(raw: bytes) -> str:
    """Base32 without padding, as tor writes keys."""
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def b32decode(text: str) -> bytes:
    text = text.strip().upper()
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise ValueError("not valid base32") from None


def _clamp(scalar: bytes) -> bytes:
    """The x25519 scalar clamping tor applies when it makes a key itself."""
    clamped = bytearray(scalar)
    clamped[0] &= 248
    clamped[31] &= 127
    clamped[31] |= 64
    return bytes(clamped)


def parse_onion_address(text: str) -> str:
    """A v3 onion address (with or without ``.onion``) as its 56 lower-case characters."""
    address = text.strip().lower().removesuffix(ONION_SUFFIX)
    if len(address) != ONION_ADDRESS_CHARS:
        raise ValueError(f"a v3 onion address has {ONION_ADDRESS_CHARS} characters before .onion")
    raw = b32decode(address)
    public_key, checksum, version = raw[:32], raw[32:34], raw[34:]
    if version != _ONION_VERSION:
        raise ValueError("not a version 3 onion address")
    expected = hashlib.sha3_256(_CHECKSUM_CONTEXT + public_key + version).digest()[:2]
    if checksum != expected:
        raise ValueError("the onion address's checksum is wrong (a typo?)")
    return address


@dataclass(frozen=True)
class OnionAuthKeyPair:
    """One client's x25519 client-authorization key pair."""

    private_key: bytes
    public_key: bytes

    @classmethod
    def generate(cls) -> OnionAuthKeyPair:
        return cls.from_private_key(bytes(PrivateKey.generate()))

    @classmethod
    def from_private_key(cls, private_key: bytes) -> OnionAuthKeyPair:
        if len(private_key) != KEY_SIZE:
            raise ValueError(f"an x25519 private key is {KEY_SIZE} bytes")
        private_key = _clamp(private_key)
        return cls(private_key, bindings.crypto_scalarmult_base(private_key))

    def server_line(self) -> str:
        """The line for the service's ``authorized_clients/NAME.auth``."""
        return AUTH_TYPE + b32encode(self.public_key)

    def client_line(self, onion_address: str) -> str:
        """The line for the client's ``ClientOnionAuthDir/NAME.auth_private`` (secret)."""
        return f"{parse_onion_address(onion_address)}:{AUTH_TYPE}{b32encode(self.private_key)}"

    def __repr__(self) -> str:
        return f"OnionAuthKeyPair(public_key={b32encode(self.public_key)})"
