"""Signed courier requests: how the networked machine proves it may fetch, ack and push.

Each request is signed with the courier's Ed25519 key over its method, path, a timestamp, a
random nonce (Ed25519 is deterministic: two equal requests in one second would otherwise carry
the same signature) and the SHA-256 of its body. The server accepts a signature once, within a
window around its own clock; remembering signatures is the server's job, since it needs storage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections.abc import Container
from dataclasses import dataclass, field

from .signing import KeyKind, SignatureError, SigningKey, VerifyKey, parse_verify_key

CONTEXT = "courier-request"
WINDOW_SECONDS = 300
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()
_HEX64 = re.compile(r"[0-9a-f]{64}")
_NONCE = re.compile(r"[0-9a-f]{32}")

KEY_HEADER = "Cairn-Courier-Key"
TIME_HEADER = "Cairn-Timestamp"
BODY_HEADER = "Cairn-Content-SHA256"
NONCE_HEADER = "Cairn-Nonce"
SIGNATURE_HEADER = "Cairn-Signature"
HEADERS = (KEY_HEADER, TIME_HEADER, NONCE_HEADER, BODY_HEADER, SIGNATURE_HEADER)


class CourierAuthError(ValueError):
    """The request is not signed by a known courier key, or is stale or malformed."""


@dataclass(frozen=True)
class CourierRequest:
    method: str
    path: str
    timestamp: int
    body_sha256: str
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))

    def message(self) -> bytes:
        fields = (self.method.upper(), self.path, str(self.timestamp), self.nonce, self.body_sha256)
        return "\n".join(fields).encode()


def sign_request(key: SigningKey, request: CourierRequest) -> dict[str, str]:
    """The headers that carry the request's signature."""
    signature = key.sign(CONTEXT, request.message())
    return {
        KEY_HEADER: str(key.verify_key),
        TIME_HEADER: str(request.timestamp),
        NONCE_HEADER: request.nonce,
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
        key = parse_verify_key(headers[KEY_HEADER], KeyKind.COURIER)
        timestamp = int(headers[TIME_HEADER])
        nonce = headers[NONCE_HEADER]
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
    if not (_HEX64.fullmatch(body_sha256) and _NONCE.fullmatch(nonce)):
        raise CourierAuthError("the request's body hash or nonce is malformed")
    signed = CourierRequest(method, path, timestamp, body_sha256, nonce)
    try:
        key.verify(CONTEXT, signed.message(), signature)
    except SignatureError:
        raise CourierAuthError("the request's signature does not verify") from None
    return VerifiedRequest(key, body_sha256, signature)
