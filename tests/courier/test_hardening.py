"""What a courier key alone cannot do to the server (issue 16, items 1 and 4; I8, I12).

Item 1: a reply push is read whole and verified before anything of it is stored, and its tar may
hold only plain regular members whose declared sizes fit in the body: a refused push, however
crafted (a sparse member declaring 128 MiB in a 2 KiB body, a large bundle signed by a key the
operator never accepted), leaves the instance's files no larger, and a flood of them leaves the
source pages answering.

Item 4: an ack is signed by a review workspace the operator accepted (`intake reviewers add`);
an unsigned ack from an older review, one signed by any other key (the courier's own included)
or one altered after signing marks nothing, and acked items are kept for a grace period.
"""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from intake.courier_store import CourierStore
from intake.db import make_engine
from intake.instance import Config, Instance
from intake.models import Item
from keys.bundle import BundleError, open_bundle, receive_bundle
from keys.courier_api import PushAnswer, sign_ack
from keys.signing import KeyKind, SigningKey, parse_signing_key
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
)
from tests.support.intake import LiveServer

MIB = 1 << 20


def _octal(number: int, width: int) -> bytes:
    return f"{number:0{width - 1}o}".encode() + b"\0"


def sparse_member(name: str, declared: int, data: bytes = b"x" * 512) -> bytes:
    """A GNU sparse tar member: ``data`` stored, ``declared`` bytes when read (zeros first)."""
    header = bytearray(tarfile.BLOCKSIZE)
    fields = {
        0: name.encode(),
        100: _octal(0o600, 8),
        108: _octal(0, 8),
        116: _octal(0, 8),
        124: _octal(len(data), 12),
        136: _octal(0, 12),
        148: b" " * 8,
        156: tarfile.GNUTYPE_SPARSE,
        257: tarfile.GNU_MAGIC,
        386: _octal(declared - len(data), 12),  # the one stretch of data, at the end
        398: _octal(len(data), 12),
        483: _octal(declared, 12),  # the size it reads as
    }
    for offset, value in fields.items():
        header[offset : offset + len(value)] = value
    header[148:156] = f"{sum(header):06o}".encode() + b"\0 "
    return bytes(header) + data + bytes(-len(data) % tarfile.BLOCKSIZE)


SPARSE_PUSH = sparse_member("items/r1.age", 128 * MIB) + bytes(2 * tarfile.BLOCKSIZE)


def _plain_member_declaring(name: str, declared: int) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = declared
    return info.tobuf(format=tarfile.USTAR_FORMAT) + b"x" * 512 + bytes(2 * tarfile.BLOCKSIZE)


def files_size(*directories: Path, pattern: str = "*") -> int:
    """Bytes in the files under the directories: the database, its WAL, any spool file."""
    return sum(
        path.stat().st_size
        for directory in directories
        for path in directory.rglob(pattern)
        if path.is_file()
    )


def server_files(courier: Courier) -> list[Path]:
    return [courier.instance.path, courier.server.tmpdir]


def test_issue16_item1_a_sparse_member_is_refused_before_a_byte_is_read(tmp_path: Path) -> None:
    assert len(SPARSE_PUSH) == 2 * 1024
    with pytest.raises(BundleError, match="not a plain regular file"):
        receive_bundle(io.BytesIO(SPARSE_PUSH), "replies", {REVIEWER.verify_key}, 64 * MIB)
    oversized = _plain_member_declaring("items/r1.age", 128 * MIB)
    with pytest.raises(BundleError, match="declares more data than the bundle holds"):
        receive_bundle(io.BytesIO(oversized), "replies", {REVIEWER.verify_key}, len(oversized))
    link = tarfile.TarInfo("items/r1.age")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(BundleError, match="not a plain regular file"):
        receive_bundle(io.BytesIO(link.tobuf()), "replies", {REVIEWER.verify_key}, 1 << 20)
    # A bundle file to import is held to the same rule.
    carried = tmp_path / "bundle.tar"
    carried.write_bytes(SPARSE_PUSH)
    with pytest.raises(BundleError, match="not a plain regular file"):
        open_bundle(carried, REVIEWER.verify_key)


def test_issue16_item1_a_refused_push_leaves_the_instance_files_no_larger(
    submitted: Courier, offline: Reviewer
) -> None:
    url = submitted.instance.database_url
    reply = sealed_reply(offline.identity.recipient)
    source = only_source_id(url)
    # Well formed, a few MiB of real ciphertext, but signed by a key nobody accepted: none of
    # it may reach the database before the signature is checked.
    unaccepted = reply_bundle(
        [("big", source, reply + bytes(6 * MIB)), ("r2", source, reply)], SigningKey.generate()
    )
    before = files_size(*server_files(submitted))
    sparse = call(submitted, "POST", "/replies", SPARSE_PUSH)
    forged = call(submitted, "POST", "/replies", unaccepted)
    grown = files_size(*server_files(submitted)) - before
    assert grown < 256 * 1024, grown  # the two seen signatures, nothing of the bodies
    refused(sparse, 400, "not a plain regular file")
    refused(forged, 403, "does not accept")
    with Session(create_engine(url)) as session:
        assert session.execute(select(func.count()).select_from(Item)).scalar() == 1
    # The same bundle signed by the accepted workspace is stored, and only then.
    accepted = reply_bundle([("r2", source, reply)])
    answer = call(submitted, "POST", "/replies", accepted).content
    assert PushAnswer.parse(answer) == PushAnswer(stored=1, already_stored=0)


FLOOD_PUSHES = 1000
FLOOD_THREADS = 4
FLOOD_TIME_BOX = 240.0  # seconds; the test fails rather than run on


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_issue16_item1_a_flood_of_refused_pushes_leaves_files_and_pages_as_they_were(
    make_instance: Callable[..., Instance],
    start_server: Callable[..., LiveServer],
    offline: Reviewer,
    tmp_path: Path,
) -> None:
    instance = make_instance(courier_limit="100000/minute", global_page_limit="100000/minute")
    key_file = tmp_path / "courier.key"
    public = run("review", "courier", "new", "--out", key_file).stdout.strip()
    run("intake", "couriers", "add", public, "--name", "flood", "--instance", instance.path)
    run(
        "intake",
        "reviewers",
        "add",
        REVIEWER.verify_key,
        "--name",
        "desk",
        "--instance",
        instance.path,
    )

    courier = Courier(
        start_server(instance),
        instance,
        key_file,
        parse_signing_key(key_file.read_text(), KeyKind.COURIER),
    )
    source = courier.server.source()
    source.start()
    assert source.submit("a tip, so that a source exists").status_code == 200
    reply = sealed_reply(offline.identity.recipient)
    source_id = only_source_id(instance.database_url)
    bodies = [
        SPARSE_PUSH,
        _plain_member_declaring("items/r1.age", 128 * MIB),
        reply_bundle([("f1", source_id, reply)], SigningKey.generate()),
        reply_bundle([("f2", source_id, reply)], courier.key),
        reply_bundle([("r1", "nobody", reply)]),
    ]
    assert all(len(body) <= 12 * 1024 for body in bodies)  # a tar is padded to 10 KiB records
    before = files_size(*server_files(courier))
    database_before = files_size(instance.path, pattern="cairn.db")
    stop = threading.Event()
    page_answers: list[int] = []

    def read_source_pages() -> None:
        while not stop.is_set():
            try:
                answer = requests.get(courier.server.base_url + "/", timeout=30)
                page_answers.append(answer.status_code)
            except requests.RequestException:
                page_answers.append(0)
            time.sleep(0.05)

    def push(number: int) -> int:
        return call(courier, "POST", "/replies", bodies[number % len(bodies)]).status_code

    reader = threading.Thread(target=read_source_pages)
    reader.start()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(FLOOD_THREADS) as pool:
            statuses = list(pool.map(push, range(FLOOD_PUSHES)))
    finally:
        stop.set()
        reader.join()
    assert time.monotonic() - started < FLOOD_TIME_BOX
    assert set(statuses) <= {400, 403, 429}, sorted(set(statuses))
    assert statuses.count(429) < FLOOD_PUSHES // 2  # mostly read and refused, not turned away
    assert page_answers and set(page_answers) == {200}, sorted(set(page_answers))
    # The database holds the 1,000 seen signatures; its WAL stops growing at SQLite's checkpoint
    # (1,000 pages, 4 MiB), whatever the number of pushes.
    database_grown = files_size(instance.path, pattern="cairn.db") - database_before
    assert database_grown < 1 * MIB, database_grown
    grown = files_size(*server_files(courier)) - before
    assert grown < 6 * MIB, grown
    courier.server.stop()
    assert "Traceback" not in courier.server.log_path.read_text(errors="replace")


def _acked(url: str) -> int:
    with Session(create_engine(url)) as session:
        return session.scalar(select(func.count()).where(Item.acked_day.is_not(None))) or 0


def test_issue16_item4_only_an_ack_signed_by_an_accepted_workspace_counts(
    submitted: Courier,
) -> None:
    url = submitted.instance.database_url
    server = submitted.instance.signing_key.verify_key
    with Session(create_engine(url)) as session:
        ids = tuple(session.scalars(select(Item.id)))
    assert ids
    unsigned = json.dumps(
        {"format": "cairn-ack", "version": 1, "server": str(server), "items": ids}
    )
    refused(
        call(submitted, "POST", "/ack", unsigned.encode()),
        400,
        "re-run `review import` with this version to write a signed ack",
    )
    stranger = SigningKey.generate(KeyKind.REVIEWER)
    refused(
        call(submitted, "POST", "/ack", sign_ack(stranger, server, ids)),
        403,
        f"intake reviewers add {stranger.verify_key}",
    )
    by_courier = sign_ack(submitted.key, server, ids)  # a courier key is never a workspace's
    refused(call(submitted, "POST", "/ack", by_courier), 400, "this is a courier key, not a review")
    altered = json.loads(sign_ack(REVIEWER, server, ()))
    altered["items"] = list(ids)
    refused(call(submitted, "POST", "/ack", json.dumps(altered).encode()), 400, "does not verify")
    assert _acked(url) == 0
    # Signed by the workspace the operator accepted: marked, and kept for the grace period.
    assert call(submitted, "POST", "/ack", sign_ack(REVIEWER, server, ids)).json() == {
        "acknowledged": len(ids)
    }
    assert _acked(url) == len(ids)
    assert Config().ack_grace_days == 7
    couriers = CourierStore(sessionmaker(make_engine(url)))
    couriers.sweep(grace_days=Config().ack_grace_days)
    assert _acked(url) == len(ids)  # acked today: kept
    couriers.sweep(grace_days=0)
    with Session(create_engine(url)) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 0
    # A workspace removed by the operator can no longer acknowledge.
    intake("reviewers", "remove", "desk", instance=submitted.instance)
    refused(call(submitted, "POST", "/ack", sign_ack(REVIEWER, server, ids)), 403, "accept")


def test_issue16_item4_review_ack_refuses_an_unsigned_ack_file_in_one_line(
    courier: Courier, tmp_path: Path
) -> None:
    old = tmp_path / "bundle.ack.json"
    server = courier.instance.signing_key.verify_key
    old.write_text(
        json.dumps({"format": "cairn-ack", "version": 1, "server": str(server), "items": []})
    )
    result = courier.review("ack", old, ok=False)
    assert result.returncode != 0
    assert "re-run `review import` with this version to write a signed ack" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
