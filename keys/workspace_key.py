"""The review workspace key: it seals what a reviewer writes, at rest on the offline machine (I9).

It is an X25519 identity of its own, kept as an age file encrypted to the reviewer's identity, so
one passphrase opens both, and every annotation it seals is an age file too (I7). Without Cairn:

    age -d -i reviewer-identity.age workspace-key.age > workspace.key
    age -d -i workspace.key sealed-note.age

It also keys the workspace's fingerprints (HMAC-SHA-256), so a hash kept beside the tips says
nothing about their content to anyone without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets

from . import age
from .age.primitives import hkdf_sha256
from .age.x25519 import identity_secret

SECRET_SIZE = 32
_FINGERPRINT_INFO = b"cairn/v1/workspace-fingerprint"


class WorkspaceKeyError(age.DecryptError):
    """The workspace key file does not hold a workspace key."""


class WorkspaceKey:
    def __init__(self, secret: bytes) -> None:
        if len(secret) != SECRET_SIZE:
            raise ValueError("a workspace key is 32 bytes")
        self._identity = age.X25519Identity(secret)
        self._fingerprint_key = hkdf_sha256(secret, b"", _FINGERPRINT_INFO)

    @classmethod
    def generate(cls) -> WorkspaceKey:
        return cls(secrets.token_bytes(SECRET_SIZE))

    def wrap(self, dst: age.Writer, recipient: age.Recipient) -> None:
        """Write this key as an age file that only ``recipient`` can open."""
        text = f"# Cairn review workspace key\n{self._identity}\n".encode()
        age.encrypt(io.BytesIO(text), dst, [recipient])

    @classmethod
    def unwrap(cls, src: age.Reader, identity: age.Identity) -> WorkspaceKey:
        """Open a key written by ``wrap``; raises ``age.NoIdentityMatchError`` for another key."""
        plaintext = io.BytesIO()
        age.decrypt(src, plaintext, [identity])
        try:
            return cls(identity_secret(plaintext.getvalue().decode(errors="replace")))
        except ValueError:
            raise WorkspaceKeyError(
                "the workspace key file holds no valid AGE-SECRET-KEY-1 line"
            ) from None

    def seal(self, text: str) -> bytes:
        """``text`` as an age file encrypted to this key."""
        sealed = io.BytesIO()
        age.encrypt(io.BytesIO(text.encode()), sealed, [self._identity.recipient])
        return sealed.getvalue()

    def open(self, sealed: bytes) -> str:
        """The text sealed by ``seal``; raises ``age.DecryptError`` if it was not."""
        plaintext = io.BytesIO()
        age.decrypt(io.BytesIO(sealed), plaintext, [self._identity])
        return plaintext.getvalue().decode()

    def fingerprint(self, context: str, data: bytes) -> bytes:
        """A keyed hash of ``data``: equal for equal data within this workspace, opaque outside."""
        label = context.encode()
        message = len(label).to_bytes(4, "big") + label + data
        return hmac.digest(self._fingerprint_key, message, hashlib.sha256)

    def __repr__(self) -> str:
        return f"WorkspaceKey(recipient={self._identity.recipient})"
