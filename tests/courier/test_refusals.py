"""Courier requests that must be refused cleanly, with nothing changed on the server (I8):
an unknown or removed key, a replayed or expired signature, a body that does not match its
signed hash, an oversized or malformed reply bundle; and on the offline side a tampered or
unsigned bundle imports nothing."""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from intake.instance import Instance
from intake.models import Item, SeenSignature
from keys.courier import EMPTY_BODY_SHA256, CourierRequest, sign_request
from keys.courier_api import PushAnswer, sign_ack
from keys.signing import KeyKind, SigningKey
from tests.support.courier import (
    REVIEWER,
    Courier,
    Reviewer,
    call,
    intake,
    only_source_id,
    refused,
    reply_bundle,
    run,
    sealed_reply,
    state,
)


def test_an_unknown_key_is_refused(submitted: Courier) -> None:
    before = state(submitted.instance.database_url)
    refused(call(submitted, "GET", "/bundle", key=SigningKey.generate()), 401, "not known")
    refused(call(submitted, "GET", "/bundle", headers={"Cairn-Signature": "x"}), 401, "not signed")
    assert state(submitted.instance.database_url) == before


def test_a_removed_key_is_refused_at_once(submitted: Courier) -> None:
    assert call(submitted, "GET", "/bundle").status_code == 200
    run("intake", "couriers", "remove", "alice", "--instance", submitted.instance.path)
    refused(call(submitted, "GET", "/bundle"), 401, "not known")


def test_a_replayed_request_is_refused(submitted: Courier) -> None:
    digest = EMPTY_BODY_SHA256
    headers = sign_request(
        submitted.key, CourierRequest("GET", "/courier/v1/bundle", int(time.time()), digest)
    )
    assert call(submitted, "GET", "/bundle", headers=headers).status_code == 200
    refused(call(submitted, "GET", "/bundle", headers=headers), 401, "already used")


@pytest.mark.parametrize("skew", [-400, 400])
def test_a_stale_or_future_timestamp_is_refused(submitted: Courier, skew: int) -> None:
    refused(call(submitted, "GET", "/bundle", timestamp=int(time.time()) + skew), 401, "window")


def test_a_signature_for_another_path_is_refused(submitted: Courier) -> None:
    headers = sign_request(
        submitted.key, CourierRequest("GET", "/courier/v1/ack", int(time.time()), EMPTY_BODY_SHA256)
    )
    refused(call(submitted, "GET", "/bundle", headers=headers), 401, "does not verify")


def test_an_ack_whose_body_differs_from_the_signed_hash_deletes_nothing(
    submitted: Courier,
) -> None:
    url = submitted.instance.database_url
    with Session(create_engine(url)) as session:
        ids = list(session.scalars(select(Item.id)))
    ack = sign_ack(REVIEWER, submitted.instance.signing_key.verify_key, ids)
    refused(call(submitted, "POST", "/ack", ack, signed_body=b"{}"), 401, "signed hash")
    refused(call(submitted, "POST", "/ack", b"not json"), 400, "the ack is not JSON")
    assert state(url)[0] == len(ids) == 1


def test_i8_an_ack_for_another_server_or_malformed_deletes_nothing(submitted: Courier) -> None:
    url = submitted.instance.database_url
    with Session(create_engine(url)) as session:
        ids = tuple(session.scalars(select(Item.id)))
    elsewhere = sign_ack(REVIEWER, SigningKey.generate().verify_key, ids)
    refused(call(submitted, "POST", "/ack", elsewhere), 400, "not this one")
    good = json.loads(sign_ack(REVIEWER, submitted.instance.signing_key.verify_key, ids))
    malformed = {
        "another format": {**good, "format": "cairn-bundle"},
        "another version": {**good, "version": 99},
        "no server": {**good, "server": None},
        "items not a list": {**good, "items": "all"},
        "an item not an id": {**good, "items": ["../x"]},
    }
    for name, ack in malformed.items():
        response = call(submitted, "POST", "/ack", json.dumps(ack).encode())
        assert response.status_code == 400, (name, response.text)
        assert "\n" not in response.json()["error"], name
    assert state(url)[0] == len(ids) == 1


def test_malformed_reply_bundles_store_nothing(submitted: Courier, offline: Reviewer) -> None:
    url = submitted.instance.database_url
    source = only_source_id(url)
    reply = sealed_reply(offline.identity.recipient)
    good = reply_bundle([("r1", source, reply)])
    with tarfile.open(fileobj=io.BytesIO(good)) as tar:
        names = tar.getnames()
    assert names[-2:] == ["manifest.json", "manifest.sig"]
    before = state(url)
    cases = {
        "garbage": b"not a tar at all" * 100,
        "cut off": good[: good.rindex(b"manifest.sig") + 512 + 10],  # inside the signature
        "unsigned": good[: good.rfind(b"manifest.sig")],
        "tampered item": good.replace(b"age-encryption.org/v1", b"age-encryption.org/v2", 1),
        "unknown source": reply_bundle([("r2", "nobody", reply)]),
        "not an age file": reply_bundle([("r3", source, b"plain words, not a sealed reply")]),
        "empty": b"",
    }
    for name, body in cases.items():
        response = call(submitted, "POST", "/replies", body)
        assert response.status_code == 400, (name, response.text)
        assert state(url) == before, name
    answer = call(submitted, "POST", "/replies", good).content
    assert PushAnswer.parse(answer) == PushAnswer(stored=1, already_stored=0)


def test_a_reply_bundle_signed_by_a_key_the_operator_did_not_accept_stores_nothing(
    submitted: Courier, offline: Reviewer
) -> None:
    """A courier's key lets it carry replies, not write them: a forged reply would reach the
    source as the newsroom's words. Only a reviewer key the operator accepted signs replies."""
    url = submitted.instance.database_url
    reply = sealed_reply(offline.identity.recipient)
    forger = SigningKey.generate(KeyKind.REVIEWER)
    forged = reply_bundle([("f1", only_source_id(url), reply)], signer=forger)
    before = state(url)
    refused(
        call(submitted, "POST", "/replies", forged),
        403,
        f"intake reviewers add {forger.verify_key}",
    )
    # Not even the courier's own key, which cannot be accepted as a reviewer's either.
    by_courier = reply_bundle([("f2", only_source_id(url), reply)], signer=submitted.key)
    refused(call(submitted, "POST", "/replies", by_courier), 400, "this is a courier key, not a")
    said = intake(
        "reviewers",
        "add",
        submitted.key.verify_key,
        "--name",
        "x",
        instance=submitted.instance,
        ok=False,
    )
    assert "this is a courier key, not a review workspace's key" in said
    assert state(url) == before
    # Accepted, then removed: refused again at once.
    assert call(
        submitted, "POST", "/replies", reply_bundle([("r9", only_source_id(url), reply)])
    ).ok
    assert "Removed the reviewer desk." in intake(
        "reviewers", "remove", "desk", instance=submitted.instance
    )
    again = reply_bundle([("r10", only_source_id(url), reply)])
    refused(call(submitted, "POST", "/replies", again), 403, "does not accept")
    assert json.loads(intake("reviewers", "list", "--json", instance=submitted.instance)) == []


def test_an_oversized_reply_bundle_is_refused(
    make_instance: Callable[..., Instance],
    start_server: Callable[..., object],
    offline: Reviewer,
    tmp_path: Path,
) -> None:
    instance = make_instance(max_reply_bundle_mib=1)
    key_file = tmp_path / "courier.key"
    public = run("review", "courier", "new", "--out", key_file).stdout.strip()
    run("intake", "couriers", "add", public, "--name", "bob", "--instance", instance.path)
    from keys.signing import parse_signing_key

    small = Courier(
        start_server(instance),
        instance,
        key_file,  # type: ignore[arg-type]
        parse_signing_key(key_file.read_text(), KeyKind.COURIER),
    )
    body = reply_bundle([("big", "s", b"x" * (2 << 20))])
    refused(call(small, "POST", "/replies", body), 413, "larger than")
    assert state(instance.database_url) == (0, 0, 0)


def test_seen_signatures_are_swept_once_stale(submitted: Courier) -> None:
    from sqlalchemy.orm import sessionmaker

    from intake.courier_store import CourierStore

    assert call(submitted, "GET", "/bundle").status_code == 200
    url = submitted.instance.database_url
    couriers = CourierStore(sessionmaker(create_engine(url)))
    couriers.sweep(grace_days=0)
    with Session(create_engine(url)) as session:
        assert session.scalar(select(func.count()).select_from(SeenSignature)) == 1
        session.query(SeenSignature).update({"expires": 0})
        session.commit()
    couriers.sweep(grace_days=0)
    with Session(create_engine(url)) as session:
        assert session.scalar(select(func.count()).select_from(SeenSignature)) == 0


def test_a_tampered_or_unsigned_bundle_imports_nothing(
    submitted: Courier, offline: Reviewer, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.tar"
    submitted.review("fetch", "--out", bundle)
    offline.review("trust", str(submitted.instance.signing_key.verify_key))
    data = bundle.read_bytes()
    tampered = tmp_path / "tampered.tar"
    index = data.index(b"age-encryption.org/v1") + 200
    tampered.write_bytes(data[:index] + bytes([data[index] ^ 1]) + data[index + 1 :])
    unsigned = tmp_path / "unsigned.tar"
    with tarfile.open(bundle) as src, tarfile.open(unsigned, "w") as dst:
        for member in src.getmembers():
            if member.name != "manifest.sig":
                dst.addfile(member, src.extractfile(member))
    for bad in (tampered, unsigned):
        result = offline.review("import", bad, ok=False)
        assert result.returncode != 0 and "nothing was imported" in result.stderr
        assert "Traceback" not in result.stderr
    assert json.loads(offline.review("tips", "--json").stdout) == []
