"""keys/signing.py: each kind of key is written with a prefix of its own and refused, by name,
where another kind belongs; keys written in the old shared form keep working (issue 19, item 7).
"""

from __future__ import annotations

import json

import pytest

from keys import courier_api as wire
from keys.signing import KeyKind, SigningKey, VerifyKey, parse_signing_key, parse_verify_key

PREFIXES = {
    KeyKind.SERVER: ("cairnserver1", "CAIRN-SERVER-KEY-1"),
    KeyKind.COURIER: ("cairncourier1", "CAIRN-COURIER-KEY-1"),
    KeyKind.REVIEWER: ("cairnreviewer1", "CAIRN-REVIEWER-KEY-1"),
    KeyKind.RELEASE: ("cairnrelease1", "CAIRN-RELEASE-KEY-1"),
}


@pytest.mark.parametrize("kind", KeyKind)
def test_each_kind_is_written_with_its_own_prefix_and_reads_back(kind: KeyKind) -> None:
    key = SigningKey.generate(kind)
    public, secret = PREFIXES[kind]
    assert str(key.verify_key).startswith(public) and str(key).startswith(secret)
    assert parse_verify_key(str(key.verify_key), kind) == key.verify_key
    assert parse_signing_key(str(key), kind).verify_key == key.verify_key


@pytest.mark.parametrize(
    ("given", "expected"), [(a, b) for a in KeyKind for b in KeyKind if a is not b]
)
def test_a_key_of_another_kind_is_refused_naming_both(given: KeyKind, expected: KeyKind) -> None:
    key = SigningKey.generate(given)
    with pytest.raises(ValueError) as refused:
        parse_verify_key(str(key.verify_key), expected)
    assert str(refused.value) == (
        f"this is {given.label}, not {expected.label}: use the key printed by {expected.printed_by}"
    )
    with pytest.raises(ValueError, match=f"this is {given.label}, not {expected.label}") as secret:
        parse_signing_key(str(key), expected)
    assert str(key) not in str(secret.value)


@pytest.mark.parametrize("kind", KeyKind)
def test_keys_in_the_old_shared_form_are_read_as_any_kind_and_written_anew(kind: KeyKind) -> None:
    old = SigningKey.generate()
    assert str(old.verify_key).startswith("cairnpub1") and str(old).startswith(
        "CAIRN-SIGNING-KEY-1"
    )
    public = parse_verify_key(str(old.verify_key), kind)
    assert public == old.verify_key and str(public).startswith(PREFIXES[kind][0])
    assert parse_signing_key(str(old), kind).verify_key == old.verify_key


def test_an_ack_written_with_keys_in_the_old_form_still_verifies() -> None:
    workspace, server = SigningKey.generate(), SigningKey.generate().verify_key
    ack = wire.parse_ack(wire.sign_ack(workspace, server, ["a1"]))
    assert ack.signer == workspace.verify_key and ack.server == server


def test_an_ack_that_names_a_courier_as_its_signer_is_refused() -> None:
    courier = SigningKey.generate(KeyKind.COURIER)
    ack = wire.sign_ack(courier, SigningKey.generate(KeyKind.SERVER).verify_key, ["a1"])
    with pytest.raises(wire.CourierFormatError, match="this is a courier key, not a review"):
        wire.parse_ack(ack)
    assert json.loads(ack)["signer"].startswith("cairncourier1")


def test_a_key_is_its_bytes_whatever_its_form() -> None:
    raw = SigningKey.generate().verify_key.raw
    assert VerifyKey(raw) == VerifyKey(raw, KeyKind.SERVER)
    assert len({VerifyKey(raw), VerifyKey(raw, KeyKind.COURIER)}) == 1
