"""Signed courier requests: how the networked machine proves it may fetch, ack and push.

Each request is signed with the courier's Ed25519 key over its method, path, a timestamp and the
SHA-256 of its body. The server accepts a signature once, within a window around its own clock;
the replay check itself (remembering signatures) is the server's job, since it needs storage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Container
from dataclasses import dataclass

from .signing import SignatureError, SigningKey, VerifyKey, parse_verify_key

CONTEXT = "courier-request"
WINDOW_SECONDS = 300
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()

KEY_HEADER = "Cairn-Courier-Key"
TIME_HEADER = "Cairn-Timestamp"
BODY_HEADER = "Cairn-Content-SHA256"
SIGNATURE_HEADER = "Cairn-Signature"


class CourierAuthError(ValueError):
    """The request is not signed by a known courier key, or is stale or malformed."""


@dataclass(frozen=True)
class CourierRequest:
    method: str
    path: str
    timestamp: int
    body_sha256: str

    def message(self) -> bytes:
        return f"{self.method.upper()}\n{self.path}\n{self.timestamp}\n{self.body_sha256}".encode()


def sign_request(key: SigningKey, request: CourierRequest) -> dict[str, str]:
    """The headers that carry the request's signature."""
    signature = key.sign(CONTEXT, request.message())
    return {
        KEY_HEADER: str(key.verify_key),
        TIME_HEADER: str(request.timestamp),
        BODY_HEADER: request.body_sha256,
        SIGNATURE_HEADER: base64.b64encode(signature).decode(),
    }


@dataclass(frozen=True)
class VerifiedRequest:
    key: VerifyKey
    body_sha256: str
    signature: bytes


def verify_request(
    headers: dict[str, str], method: str, path: str, now: int, known_keys: Container[VerifyKey]
) -> VerifiedRequest:
    """Check the signature, the key and the time window. The body hash is only *claimed* here:
    the caller must compare it with the body it actually receives."""
    try:
        key = parse_verify_key(headers[KEY_HEADER])
        timestamp = int(headers[TIME_HEADER])
        body_sha256 = headers[BODY_HEADER]
        signature = base64.b64decode(headers[SIGNATURE_HEADER], validate=True)
    except (KeyError, ValueError, binascii.Error):
        raise CourierAuthError("the request is not signed by a courier") from None
    if key not in known_keys:
        raise CourierAuthError("the courier key is not known to this server")
    if abs(now - timestamp) > WINDOW_SECONDS:
        raise CourierAuthError(
            "the request's timestamp is outside the accepted window; check the clock"
        )
    if len(body_sha256) != 64 or any(c not in "0123456789abcdef" for c in body_sha256):
        raise CourierAuthError("the request's body hash is malformed")
    try:
        key.verify(
            CONTEXT, CourierRequest(method, path, timestamp, body_sha256).message(), signature
        )
    except SignatureError:
        raise CourierAuthError("the request's signature does not verify") from None
    return VerifiedRequest(key, body_sha256, signature)
