"""Ed25519 keys for the server's bundle signatures, the couriers' requests and the review
workspaces' reply bundles.

Keys are written as Bech32 strings like age keys, so they are easy to copy and hard to mistype.
Each kind of key has a prefix of its own (``cairnserver1...``, ``cairncourier1...``,
``cairnreviewer1...``), so a key given where another kind belongs is refused there, by name.
The one prefix every kind once shared (``cairnpub1...``) is still read as any kind. Every
signature is bound to a context string, so a signature made for one purpose can never be
replayed as another.
"""

from __future__ import annotations

import enum
import json

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import SigningKey as _NaclSigningKey
from nacl.signing import VerifyKey as _NaclVerifyKey

from . import bech32
from .ed25519_verify import signed_message as _signed_message

LEGACY_VERIFY_HRP = "cairnpub"
LEGACY_SECRET_HRP = "CAIRN-SIGNING-KEY-"  # noqa: S105 -- a Bech32 prefix, not a secret
SIGNATURE_SIZE = 64


class KeyKind(enum.Enum):
    """Whose key it is: the prefixes of its public and secret text forms, and what a person
    calls it and where they find it."""

    SERVER = ("cairnserver", "CAIRN-SERVER-KEY-", "the server's bundle key", "`intake init`")
    COURIER = ("cairncourier", "CAIRN-COURIER-KEY-", "a courier key", "`review courier new`")
    REVIEWER = (
        "cairnreviewer",
        "CAIRN-REVIEWER-KEY-",
        "a review workspace's key",
        "`review outbox --out`",
    )
    RELEASE = (
        "cairnrelease",
        "CAIRN-RELEASE-KEY-",
        "a newsroom's release key for review kits",
        "`make kit` (docs/reviewers.md)",
    )

    def __init__(self, verify_hrp: str, secret_hrp: str, label: str, printed_by: str) -> None:
        self.verify_hrp = verify_hrp
        self.secret_hrp = secret_hrp
        self.label = label
        self.printed_by = printed_by


def canonical_json(value: object) -> bytes:
    """The one byte form of a JSON value that Cairn signs: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


class SignatureError(ValueError):
    """A signature does not verify."""


class VerifyKey:
    """An Ed25519 public key. Two keys are equal when their bytes are; ``kind`` only decides how
    the key is written (``None``: the old shared prefix)."""

    def __init__(self, raw: bytes, kind: KeyKind | None = None) -> None:
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        self.raw = raw
        self.kind = kind

    def verify(self, context: str, message: bytes, signature: bytes) -> None:
        if len(signature) != SIGNATURE_SIZE:
            raise SignatureError("the signature is malformed")
        try:
            _NaclVerifyKey(self.raw).verify(_signed_message(context, message), signature)
        except BadSignatureError:
            raise SignatureError("the signature does not verify") from None

    def x25519_public(self) -> bytes:
        """This point as an X25519 public key, as age's ssh-ed25519 recipients convert it;
        raises ``ValueError`` for bytes that are not a usable Ed25519 point."""
        try:
            return bytes(_NaclVerifyKey(self.raw).to_curve25519_public_key())
        except CryptoError:
            raise ValueError("not a usable Ed25519 public key") from None

    def __str__(self) -> str:
        return bech32.encode(self.kind.verify_hrp if self.kind else LEGACY_VERIFY_HRP, self.raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)


class SigningKey:
    def __init__(self, seed: bytes, kind: KeyKind | None = None) -> None:
        self._key = _NaclSigningKey(seed)
        self.kind = kind
        self.verify_key = VerifyKey(bytes(self._key.verify_key), kind)

    @classmethod
    def generate(cls, kind: KeyKind | None = None) -> SigningKey:
        return cls(bytes(_NaclSigningKey.generate()), kind)

    def sign(self, context: str, message: bytes) -> bytes:
        return self._key.sign(_signed_message(context, message)).signature

    def x25519_secret(self) -> bytes:
        """The X25519 secret matching ``verify_key.x25519_public()``."""
        return bytes(self._key.to_curve25519_private_key())

    def __str__(self) -> str:
        hrp = self.kind.secret_hrp if self.kind else LEGACY_SECRET_HRP
        return bech32.encode(hrp, bytes(self._key))

    def __repr__(self) -> str:
        return f"SigningKey(verify_key={self.verify_key})"


def _decode(text: str, kind: KeyKind, secret: bool) -> bytes:
    """The 32 bytes of a key of ``kind`` (or of the old shared prefix); a key of another kind
    is refused with a message that names both kinds. Never repeats ``text``."""

    def hrp(k: KeyKind) -> str:
        return k.secret_hrp if secret else k.verify_hrp

    legacy = LEGACY_SECRET_HRP if secret else LEGACY_VERIFY_HRP
    what = f"the secret half of {kind.label}" if secret else kind.label
    example = f"{hrp(kind)}1..."
    try:
        found, data = bech32.decode(text.strip())
    except bech32.Bech32Error as err:
        raise ValueError(f"not {what} ({err}); it should look like {example}") from None
    other = next((k for k in KeyKind if k is not kind and hrp(k) == found), None)
    if other is not None:
        where = "" if secret else f": use the key printed by {kind.printed_by}"
        raise ValueError(f"this is {other.label}, not {kind.label}{where}")
    if found not in (hrp(kind), legacy) or len(data) != 32:
        raise ValueError(f"not {what}; it should look like {example}")
    return data


def parse_verify_key(text: str, kind: KeyKind) -> VerifyKey:
    """A public key of ``kind``, written in its own form from now on."""
    return VerifyKey(_decode(text, kind, secret=False), kind)


def parse_signing_key(text: str, kind: KeyKind) -> SigningKey:
    return SigningKey(_decode(text, kind, secret=True), kind)
