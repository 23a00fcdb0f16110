"""keys/exchange.py: team exchange files are signed, then sealed to the team; a file from a key
that is not pinned, altered, or re-sealed to someone else is refused whole (issue 21, I9)."""

from __future__ import annotations

import io
import json

import pytest

from keys import age
from keys.exchange import (
    SIGNATURE_CONTEXT,
    ExchangeError,
    open_exchange,
    seal_exchange,
    team_identity,
    team_recipient,
)
from keys.signing import KeyKind, SigningKey, VerifyKey
from tests.support.canary import canary, readable

CANARY = "CANARY-7f3a claim text that must never be readable on disk"
CHANGES = [{"kind": "claim", "record": "r1", "field": "text", "value": CANARY, "clock": 1}]


@pytest.fixture
def alice() -> SigningKey:
    return SigningKey.generate(KeyKind.REVIEWER)


@pytest.fixture
def bob() -> age.X25519Identity:
    return age.X25519Identity.generate()


def test_a_pinned_teammates_file_opens_with_its_changes(
    alice: SigningKey, bob: age.X25519Identity
) -> None:
    data = seal_exchange(CHANGES, alice, [bob.recipient])
    opened = open_exchange(data, bob, [alice.verify_key])
    assert opened.signer == alice.verify_key
    assert list(opened.changes) == CHANGES


def test_free_text_and_the_signer_exist_only_inside_the_encryption_i9(
    alice: SigningKey, bob: age.X25519Identity
) -> None:
    quote = canary("quote")
    data = seal_exchange([*CHANGES, {"value": quote}], alice, [bob.recipient])
    assert not readable(data, CANARY) and not readable(data, quote) and b"CANARY" not in data
    assert not readable(data, str(alice.verify_key))


def test_a_file_from_an_unpinned_or_removed_key_is_refused_whole(
    alice: SigningKey, bob: age.X25519Identity
) -> None:
    data = seal_exchange(CHANGES, alice, [bob.recipient])
    other = SigningKey.generate(KeyKind.REVIEWER)
    for pinned in ([], [other.verify_key]):
        with pytest.raises(ExchangeError, match="not a team member"):
            open_exchange(data, bob, pinned)


def test_a_tampered_ciphertext_fails(alice: SigningKey, bob: age.X25519Identity) -> None:
    data = bytearray(seal_exchange(CHANGES, alice, [bob.recipient]))
    data[-20] ^= 1
    with pytest.raises(ExchangeError, match="damaged or was altered"):
        open_exchange(bytes(data), bob, [alice.verify_key])


def _reseal(plaintext: bytes, recipient: age.X25519Recipient) -> bytes:
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, [recipient])
    return out.getvalue()


def _plaintext(data: bytes, identity: age.X25519Identity) -> bytes:
    out = io.BytesIO()
    age.decrypt(io.BytesIO(data), out, [identity])
    return out.getvalue()


def test_changes_altered_by_a_recipient_fail_the_signature(
    alice: SigningKey, bob: age.X25519Identity
) -> None:
    body, _, signature = _plaintext(seal_exchange(CHANGES, alice, [bob.recipient]), bob).partition(
        b"\n"
    )
    forged = body.replace(b"CANARY", b"FORGED")
    with pytest.raises(ExchangeError, match="signature does not verify"):
        open_exchange(_reseal(forged + b"\n" + signature, bob.recipient), bob, [alice.verify_key])


def test_a_genuine_file_resealed_to_someone_else_is_refused(
    alice: SigningKey, bob: age.X25519Identity
) -> None:
    carol = age.X25519Identity.generate()
    plaintext = _plaintext(seal_exchange(CHANGES, alice, [bob.recipient]), bob)
    with pytest.raises(ExchangeError, match="not addressed to this workspace"):
        open_exchange(_reseal(plaintext, carol.recipient), carol, [alice.verify_key])


def test_a_file_for_another_workspace_is_refused(
    alice: SigningKey, bob: age.X25519Identity
) -> None:
    data = seal_exchange(CHANGES, alice, [bob.recipient])
    with pytest.raises(ExchangeError, match="not sealed to this workspace"):
        open_exchange(data, age.X25519Identity.generate(), [alice.verify_key])


def test_a_signature_made_for_another_purpose_is_refused(
    alice: SigningKey, bob: age.X25519Identity
) -> None:
    body, _, _ = _plaintext(seal_exchange(CHANGES, alice, [bob.recipient]), bob).partition(b"\n")
    assert SIGNATURE_CONTEXT != "other"
    signature = alice.sign("other", body).hex().encode()
    with pytest.raises(ExchangeError, match="signature does not verify"):
        open_exchange(_reseal(body + b"\n" + signature, bob.recipient), bob, [alice.verify_key])


@pytest.mark.parametrize(
    "plaintext",
    [b"", b"not json\n00", b"[1,2]\n00", b'{"v":1}\n00', b"[" * 100_000 + b"\nab"],
)
def test_malformed_plaintext_is_refused_in_one_line(
    plaintext: bytes, alice: SigningKey, bob: age.X25519Identity
) -> None:
    with pytest.raises(ExchangeError) as refused:
        open_exchange(_reseal(plaintext, bob.recipient), bob, [alice.verify_key])
    assert "\n" not in str(refused.value)


def test_an_unknown_version_is_refused(alice: SigningKey, bob: age.X25519Identity) -> None:
    body, _, _ = _plaintext(seal_exchange(CHANGES, alice, [bob.recipient]), bob).partition(b"\n")
    fields = json.loads(body)
    fields["v"] = 2
    newer = json.dumps(fields).encode()
    signature = alice.sign(SIGNATURE_CONTEXT, newer).hex().encode()
    with pytest.raises(ExchangeError, match="unsupported exchange file version 2"):
        open_exchange(_reseal(newer + b"\n" + signature, bob.recipient), bob, [alice.verify_key])


def test_sealing_to_nobody_is_refused(alice: SigningKey) -> None:
    with pytest.raises(ExchangeError, match="review team add"):
        seal_exchange(CHANGES, alice, [])


def test_a_teammate_is_named_by_one_key_that_also_seals_to_them(alice: SigningKey) -> None:
    """One key to pin: files sealed to a workspace key's conversion open with its secret."""
    bob = SigningKey.generate(KeyKind.REVIEWER)
    data = seal_exchange(CHANGES, alice, [team_recipient(bob.verify_key)])
    assert open_exchange(data, team_identity(bob), [alice.verify_key]).changes == tuple(CHANGES)
    assert team_identity(bob).recipient == team_recipient(bob.verify_key)
    with pytest.raises(ExchangeError, match="not a usable workspace key"):
        team_recipient(VerifyKey(bytes(32), KeyKind.REVIEWER))


def test_a_removed_members_file_is_refused_as_theirs(
    alice: SigningKey, bob: age.X25519Identity
) -> None:
    data = seal_exchange(CHANGES, alice, [bob.recipient])
    with pytest.raises(ExchangeError, match="removed from the team"):
        open_exchange(data, bob, [], removed=[alice.verify_key])
