"""Ed25519 keys for the server's bundle signatures and the couriers' requests.

Keys are written as Bech32 strings like age keys, so they are easy to copy and hard to mistype.
Every signature is bound to a context string, so a signature made for one purpose can never be
replayed as another.
"""

from __future__ import annotations

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey as _NaclSigningKey
from nacl.signing import VerifyKey as _NaclVerifyKey

from . import bech32

VERIFY_HRP = "cairnpub"
SECRET_HRP = "CAIRN-SIGNING-KEY-"  # noqa: S105 -- a Bech32 prefix, not a secret
SIGNATURE_SIZE = 64


class SignatureError(ValueError):
    """A signature does not verify."""


def _signed_message(context: str, message: bytes) -> bytes:
    return b"cairn/v1/" + context.encode() + b"\n" + message


class VerifyKey:
    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        self.raw = raw

    def verify(self, context: str, message: bytes, signature: bytes) -> None:
        if len(signature) != SIGNATURE_SIZE:
            raise SignatureError("the signature is malformed")
        try:
            _NaclVerifyKey(self.raw).verify(_signed_message(context, message), signature)
        except BadSignatureError:
            raise SignatureError("the signature does not verify") from None

    def __str__(self) -> str:
        return bech32.encode(VERIFY_HRP, self.raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)


class SigningKey:
    def __init__(self, seed: bytes) -> None:
        self._key = _NaclSigningKey(seed)
        self.verify_key = VerifyKey(bytes(self._key.verify_key))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(bytes(_NaclSigningKey.generate()))

    def sign(self, context: str, message: bytes) -> bytes:
        return self._key.sign(_signed_message(context, message)).signature

    def __str__(self) -> str:
        return bech32.encode(SECRET_HRP, bytes(self._key))

    def __repr__(self) -> str:
        return f"SigningKey(verify_key={self.verify_key})"


def _decode(text: str, hrp: str, what: str) -> bytes:
    try:
        found, raw = bech32.decode(text.strip())
    except bech32.Bech32Error as err:
        raise ValueError(f"not a Cairn {what} ({err})") from None
    if found != hrp or len(raw) != 32:
        raise ValueError(f"not a Cairn {what}; it should start with {hrp.lower()}1")
    return raw


def parse_verify_key(text: str) -> VerifyKey:
    return VerifyKey(_decode(text, VERIFY_HRP, "public key"))


def parse_signing_key(text: str) -> SigningKey:
    return SigningKey(_decode(text, SECRET_HRP, "signing key"))
