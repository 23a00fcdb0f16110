"""Team exchange files: the changes one review workspace shares with its teammates.

Sign, then encrypt. The plaintext is one line of canonical JSON -- format version, the signer's
workspace key, the age recipients the file is sealed to, and the changes -- then a second line,
the hex Ed25519 signature of the first. The whole is age-encrypted to the team, so the changes'
free text (claims, quotes, notes) and even who sent the file exist only inside the ciphertext
(I9). Naming the recipients inside the signed line stops a teammate from re-sealing a genuine
file to someone it was never meant for; naming the signer lets the opener check the key against
the ones it pinned before trusting a single change. A file that fails any check is refused whole.

A teammate is named by one key, their workspace's Ed25519 key (``cairnreviewer1...``): files are
sealed to its X25519 conversion, as age's ssh-ed25519 recipients do, so pinning that key is all
a team needs to exchange.
"""

from __future__ import annotations

import io
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from . import age
from .signing import (
    KeyKind,
    SignatureError,
    SigningKey,
    VerifyKey,
    canonical_json,
    parse_verify_key,
)

FORMAT_VERSION = 1
SIGNATURE_CONTEXT = "cairn team exchange v1"
MAX_FILE_BYTES = 64 * 1024 * 1024

JsonObject = Mapping[str, object]


class ExchangeError(ValueError):
    """An exchange file that must not be merged; the message is one line that says why."""


class TeamIdentity(age.Identity, Protocol):
    """An identity that knows the recipient it answers to."""

    @property
    def recipient(self) -> age.X25519Recipient: ...


def team_recipient(member: VerifyKey) -> age.X25519Recipient:
    """The recipient a teammate's exchange files are sealed to."""
    try:
        return age.X25519Recipient(member.x25519_public())
    except ValueError:
        raise ExchangeError(f"{member} is not a usable workspace key") from None


def team_identity(workspace: SigningKey) -> age.X25519Identity:
    """The identity that opens exchange files sealed to ``team_recipient`` of this key."""
    return age.X25519Identity(workspace.x25519_secret())


@dataclass(frozen=True)
class Exchange:
    signer: VerifyKey
    changes: tuple[JsonObject, ...]


def seal_exchange(
    changes: Sequence[JsonObject], signer: SigningKey, recipients: Sequence[age.X25519Recipient]
) -> bytes:
    """The exchange file carrying ``changes``, signed by ``signer`` and sealed to ``recipients``."""
    if not recipients:
        raise ExchangeError("the team has no members to share with: add one with `review team add`")
    body = canonical_json(
        {
            "v": FORMAT_VERSION,
            "signer": str(signer.verify_key),
            "recipients": sorted(str(r) for r in recipients),
            "changes": list(changes),
        }
    )
    signature = signer.sign(SIGNATURE_CONTEXT, body).hex().encode()
    sealed = io.BytesIO()
    age.encrypt(io.BytesIO(body + b"\n" + signature), sealed, recipients)
    return sealed.getvalue()


def open_exchange(
    data: bytes,
    identity: TeamIdentity,
    pinned: Collection[VerifyKey],
    removed: Collection[VerifyKey] = (),
) -> Exchange:
    """The changes in an exchange file sent by one of the ``pinned`` keys to ``identity``; one
    from a ``removed`` key is refused as such."""
    if len(data) > MAX_FILE_BYTES:
        raise ExchangeError(f"the exchange file is larger than {MAX_FILE_BYTES} bytes")
    plaintext = io.BytesIO()
    try:
        age.decrypt(io.BytesIO(data), plaintext, [identity])
    except age.NoIdentityMatchError:
        raise ExchangeError("the exchange file was not sealed to this workspace") from None
    except age.DecryptError:
        raise ExchangeError("the exchange file is damaged or was altered") from None
    body, newline, signature_hex = plaintext.getvalue().partition(b"\n")
    try:
        fields = json.loads(body)
        signature = bytes.fromhex(signature_hex.decode("ascii"))
        signer = parse_verify_key(fields["signer"], KeyKind.REVIEWER)
        version, recipients, changes = fields["v"], fields["recipients"], fields["changes"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ExchangeError("the exchange file is not well formed") from None
    if not newline or type(version) is not int or version != FORMAT_VERSION:
        raise ExchangeError(f"unsupported exchange file version {version!r}")
    if signer in removed:
        raise ExchangeError(f"the exchange file is signed by {signer}, removed from the team")
    if signer not in pinned:
        raise ExchangeError(
            f"the exchange file is signed by {signer}, not a team member: "
            "add it with `review team add` if you trust it"
        )
    try:
        signer.verify(SIGNATURE_CONTEXT, body, signature)
    except SignatureError:
        raise ExchangeError("the exchange file's signature does not verify") from None
    if not isinstance(recipients, list) or str(identity.recipient) not in recipients:
        raise ExchangeError("the exchange file was not addressed to this workspace")
    if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
        raise ExchangeError("the exchange file is not well formed")
    return Exchange(signer, tuple(changes))
