"""X25519 recipients (``age1...``) and identities (``AGE-SECRET-KEY-1...``)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from nacl import bindings
from nacl.exceptions import RuntimeError as NaclRuntimeError

from .. import bech32
from .errors import HeaderError
from .header import Stanza
from .primitives import b64decode, b64encode, hkdf_sha256, open_sealed, seal
from .recipients import FILE_KEY_SIZE

RECIPIENT_HRP = "age"
IDENTITY_HRP = "AGE-SECRET-KEY-"
_INFO = b"age-encryption.org/v1/X25519"


def _shared_secret(scalar: bytes, point: bytes) -> bytes:
    try:
        shared = bindings.crypto_scalarmult(scalar, point)
    except NaclRuntimeError:
        shared = bytes(32)
    if shared == bytes(32):
        raise HeaderError("an X25519 stanza uses a low-order point (all-zero shared secret)")
    return shared


class X25519Recipient:
    def __init__(self, public_key: bytes) -> None:
        if len(public_key) != 32:
            raise ValueError("an X25519 public key is 32 bytes")
        self.public_key = public_key

    def wrap(self, file_key: bytes) -> list[Stanza]:
        ephemeral = secrets.token_bytes(32)
        share = bindings.crypto_scalarmult_base(ephemeral)
        shared = _shared_secret(ephemeral, self.public_key)
        key = hkdf_sha256(shared, share + self.public_key, _INFO)
        return [Stanza("X25519", (b64encode(share).decode(),), seal(key, file_key))]

    def __str__(self) -> str:
        return bech32.encode(RECIPIENT_HRP, self.public_key)

    def __repr__(self) -> str:
        return f"X25519Recipient({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Recipient) and other.public_key == self.public_key

    def __hash__(self) -> int:
        return hash(self.public_key)


class X25519Identity:
    def __init__(self, secret_key: bytes) -> None:
        if len(secret_key) != 32:
            raise ValueError("an X25519 secret key is 32 bytes")
        self._secret_key = secret_key
        self.recipient = X25519Recipient(bindings.crypto_scalarmult_base(secret_key))

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(secrets.token_bytes(32))

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type != "X25519":
                continue
            if len(stanza.args) != 1:
                raise HeaderError("an X25519 stanza must have exactly one argument")
            share = b64decode(stanza.args[0].encode())
            if len(share) != 32:
                raise HeaderError("an X25519 stanza's share must be 32 bytes")
            if len(stanza.body) != FILE_KEY_SIZE + 16:
                raise HeaderError("an X25519 stanza's body must wrap a 16-byte file key")
            shared = _shared_secret(self._secret_key, share)
            key = hkdf_sha256(shared, share + self.recipient.public_key, _INFO)
            file_key = open_sealed(key, stanza.body)
            if file_key is not None:
                return file_key
        return None

    def __str__(self) -> str:
        return bech32.encode(IDENTITY_HRP, self._secret_key)

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={self.recipient})"


def _decode_recipient(text: str) -> bytes:
    return bech32.decode_key(text, RECIPIENT_HRP, "an age recipient", "age1...")


def _decode_identity(text: str) -> bytes:
    return bech32.decode_key(text, IDENTITY_HRP, "an age identity", "AGE-SECRET-KEY-1...")


def parse_recipient(text: str) -> X25519Recipient:
    """Parse an ``age1...`` recipient string."""
    return X25519Recipient(_decode_recipient(text))


def parse_identity(text: str) -> X25519Identity:
    """Parse an ``AGE-SECRET-KEY-1...`` identity string."""
    return X25519Identity(_decode_identity(text))


def identity_secret(text: str) -> bytes:
    """The secret key on the first ``AGE-SECRET-KEY-1`` line of an identity file's text, as
    age-keygen writes it (comments beside it are skipped); ``ValueError`` if there is none."""
    for line in text.splitlines():
        if line.startswith("AGE-SECRET-KEY-1"):
            return _decode_identity(line)
    raise ValueError("no AGE-SECRET-KEY-1 line")
