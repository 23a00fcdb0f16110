"""keys/courier_api.py: the one wire contract of the courier API, built and parsed by both sides.
Anything malformed is a CourierFormatError with a one-line message, never another exception (I8).
"""

from __future__ import annotations

import json

import pytest

from keys import courier_api as wire
from keys.signing import KeyKind, SigningKey

SERVER = SigningKey.generate().verify_key
WORKSPACE = SigningKey.generate()


def test_an_ack_round_trips_with_its_signer() -> None:
    ack = wire.sign_ack(WORKSPACE, SERVER, ("m2", "f1", "m1"))
    parsed = wire.parse_ack(ack)
    assert parsed == wire.Ack(SERVER, ("f1", "m1", "m2"), WORKSPACE.verify_key)
    assert json.loads(ack)["format"] == "cairn-ack"


def _ack(**changes: object) -> bytes:
    fields = json.loads(wire.sign_ack(WORKSPACE, SERVER, ("a1",)))
    return json.dumps({**fields, **changes}).encode()


MALFORMED = {
    "not json": b"{not json",
    "not an object": b"[1, 2]",
    "nested too deep": b"[" * 100_000,
    "too large": b" " * (wire.MAX_ACK_BYTES + 1),
    "another format": _ack(format="cairn-bundle"),
    "another version": _ack(version=3),
    "a version that is a string": _ack(version="1"),
    "no server": _ack(server=None),
    "a server that is not a key": _ack(server="cairnpub1nope"),
    "items not a list": _ack(items="a1"),
    "an item not a string": _ack(items=[1]),
    "an item that is a path": _ack(items=["../a1"]),
    "invalid utf-8": b'{"format": "cairn-ack\xff"}',
    "unsigned (version 1)": _ack(version=1, signer=None, signature=None),
    "no signer": _ack(signer=None),
    "another signer": _ack(signer=str(SigningKey.generate().verify_key)),
    "no signature": _ack(signature=None),
    "a signature that is not base64": _ack(signature="!!"),
    "an item added": _ack(items=["a1", "a2"]),
    "another server": _ack(server=str(SigningKey.generate().verify_key)),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_i8_a_malformed_ack_is_refused_in_one_line(name: str) -> None:
    with pytest.raises(wire.CourierFormatError) as refused:
        wire.parse_ack(MALFORMED[name])
    message = str(refused.value)
    assert message and "\n" not in message


def test_answers_round_trip_and_refuse_what_is_not_cairns() -> None:
    push = wire.PushAnswer(stored=2, already_stored=1)
    assert wire.PushAnswer.parse(json.dumps(push.to_json()).encode()) == push
    assert wire.AckAnswer.parse(b'{"acknowledged": 3}') == wire.AckAnswer(acknowledged=3)
    for body in (
        b"<html>",
        b'{"stored": "all", "already_stored": 0}',
        b'{"stored": true, "already_stored": 0}',
        b'{"stored": -1, "already_stored": 0}',
        b'{"acknowledged": 1}',
    ):
        with pytest.raises(wire.CourierFormatError, match="not Cairn's courier API"):
            wire.PushAnswer.parse(body)


def test_a_refusal_gives_its_reason_or_none() -> None:
    assert wire.parse_error(json.dumps(wire.error_answer("no")).encode()) == "no"
    assert wire.parse_error(b"<html>") is None
    assert wire.parse_error(b'{"error": 5}') is None


def test_paths_are_under_the_versioned_prefix() -> None:
    assert wire.path(wire.BUNDLE) == "/courier/v1/bundle"
    assert {wire.path(e) for e in (wire.ACK, wire.REPLIES)} == {
        "/courier/v1/ack",
        "/courier/v1/replies",
    }


def test_an_unsigned_ack_says_what_to_do() -> None:
    with pytest.raises(wire.CourierFormatError, match="re-run `review import` with this version"):
        wire.parse_ack(MALFORMED["unsigned (version 1)"])


SERVER_KEY = SigningKey.generate(KeyKind.SERVER)


def _delivery(key: SigningKey = SERVER_KEY, **changes: object) -> bytes:
    answer = {"stored": 1, "already_stored": 0, "delivery": wire.sign_delivery(key, ["r2", "r1"])}
    return json.dumps({**json.loads(wire.delivery_file(json.dumps(answer).encode())), **changes})


def test_issue19_item3_a_delivery_confirmation_round_trips_under_the_server_key() -> None:
    assert wire.parse_delivery(_delivery().encode(), SERVER_KEY.verify_key) == ("r1", "r2")


BAD_DELIVERIES = {
    "signed by another server": _delivery(SigningKey.generate(KeyKind.SERVER)),
    "naming another server": _delivery(server=str(SigningKey.generate().verify_key)),
    "a reply added": _delivery(replies=["r1", "r2", "r3"]),
    "signed by a courier": _delivery(SigningKey.generate(KeyKind.COURIER)),
    "an ack": wire.sign_ack(WORKSPACE, SERVER_KEY.verify_key, ["r1"]).decode(),
    "a reply that is a path": _delivery(replies=["../r1"]),
    "not json": "{",
    "no signature": _delivery(signature=None),
}


@pytest.mark.parametrize("name", BAD_DELIVERIES)
def test_issue19_item3_a_forged_or_malformed_confirmation_is_refused(name: str) -> None:
    with pytest.raises(wire.CourierFormatError) as refused:
        wire.parse_delivery(BAD_DELIVERIES[name].encode(), SERVER_KEY.verify_key)
    assert str(refused.value) and "\n" not in str(refused.value)


def test_a_push_answer_without_a_confirmation_is_refused() -> None:
    with pytest.raises(wire.CourierFormatError, match="no delivery confirmation"):
        wire.delivery_file(b'{"stored": 1, "already_stored": 0}')
