"""The whole round trip over real HTTP against real gunicorn: a source submits; the courier
fetches; the offline reviewer imports, replies and writes the outbox; the courier pushes; the
source reads the reply with the codename; the ack deletes the items from the server (I2, I10)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from intake.models import Chunk, Item, Reply, Submission
from keys.bundle import open_bundle
from tests.courier.conftest import Courier, Reviewer, run


def count(url: str, model: type) -> int:
    with Session(create_engine(url)) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_round_trip_from_source_to_reviewer_and_back(
    courier: Courier, offline: Reviewer, tmp_path: Path
) -> None:
    source = courier.server.source()
    source.start()
    files = [("ledger.csv", b"date,amount\n2026-11-01,90000\n", "text/csv")]
    assert source.submit("The payments went through a shell company.", files).status_code == 200

    bundle = tmp_path / "carried" / "bundle.tar"
    bundle.parent.mkdir()
    courier.review("fetch", "--out", bundle)

    offline.review("trust", str(courier.instance.signing_key.verify_key))
    ack_file = Path(offline.review("import", bundle).stdout.strip().splitlines()[-1])
    assert json.loads(ack_file.read_text())["items"]
    [listed] = json.loads(offline.review("sources", "--json").stdout)
    assert len(listed["tips"]) == 2
    offline.review("reply", listed["id"], stdin="Thank you. Can you send the 2025 ledger too?")
    replies = tmp_path / "carried" / "replies.tar"
    written = offline.review("outbox", "--out", replies)
    [workspace_key] = re.findall(r"workspace's key (cairnpub1\w+)", written.stdout)
    assert f"intake reviewers add {workspace_key}" in written.stderr

    # A courier carries replies but cannot write them: until the operator accepts the
    # workspace's key, its reply bundle is refused, stores nothing, and says what to do.
    refused = courier.review("push", replies, ok=False)
    assert refused.returncode != 0
    assert f"intake reviewers add {workspace_key}" in refused.stderr
    assert count(courier.instance.database_url, Reply) == 0
    run(
        "intake",
        "reviewers",
        "add",
        workspace_key,
        "--name",
        "desk",
        "--instance",
        courier.instance.path,
    )
    pushed = courier.review("push", replies)
    assert "Delivered 1 replies" in pushed.stdout
    again = courier.review("push", replies)  # pushing twice stores nothing twice
    assert "Delivered 0 replies (1 were delivered before" in again.stdout
    assert count(courier.instance.database_url, Reply) == 1

    page = source.login()
    assert page.status_code == 200
    assert "Can you send the 2025 ledger too?" in page.text
    [delete_path] = re.findall(r'action="(/replies/[^"]+/delete)"', page.text)
    assert source.post(delete_path).status_code == 200
    assert count(courier.instance.database_url, Reply) == 0
    assert source.post(delete_path).status_code == 404  # gone; and never another source's
    assert "no replies for you yet" in source.login().text
    # The outbox sends every reply again with the next bundle: a deleted one stays deleted.
    again = courier.review("push", replies)
    assert "Delivered 0 replies (1 were delivered before" in again.stdout
    assert count(courier.instance.database_url, Reply) == 0
    assert "no replies for you yet" in source.login().text

    url = courier.instance.database_url
    assert count(url, Item) == 2
    acked = courier.review("ack", ack_file)
    assert "acknowledged 2 items" in acked.stdout
    assert (count(url, Item), count(url, Chunk), count(url, Submission)) == (0, 0, 0)
    # The next fetch is a signed bundle with nothing in it.
    empty = tmp_path / "carried" / "empty.tar"
    courier.review("fetch", "--out", empty)
    with open_bundle(empty, courier.instance.signing_key.verify_key) as fetched:
        assert fetched.items == ()
