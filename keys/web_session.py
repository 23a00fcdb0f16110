"""A web session's stored data, readable only with the token in the source's cookie.

The server finds a session by a hash of the token and keeps its data (the CSRF token, the exact
expiry) sealed under a key derived from the token, so a copy of the database can neither ride a
session nor read when one began or ends (I5): the token exists only in the browser's cookie.
"""

from __future__ import annotations

import hashlib

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from .age.primitives import hkdf_sha256

_SEAL_INFO = b"cairn/v1/web-session-data"


def lookup_id(token: str) -> str:
    """The stored name of the session a cookie's token opens."""
    return hashlib.sha256(token.encode()).hexdigest()


def seal_session_data(token: str, data: bytes) -> bytes:
    return bytes(SecretBox(_key(token)).encrypt(data))


def open_session_data(token: str, sealed: bytes) -> bytes | None:
    """The data ``seal_session_data`` sealed under this token, or None for any other."""
    try:
        return SecretBox(_key(token)).decrypt(sealed)
    except (CryptoError, ValueError):
        return None


def _key(token: str) -> bytes:
    return hkdf_sha256(token.encode(), b"", _SEAL_INFO, SecretBox.KEY_SIZE)
