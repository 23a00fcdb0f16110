"""The whole round trip over real HTTP against real gunicorn: a source submits; the courier
fetches; the offline reviewer imports, replies and writes the outbox; the courier pushes; the
source reads the reply with the codename; the ack, signed by the workspace, deletes the items from
the server once the grace period is over (I2, I10, I12)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from intake.courier_store import CourierStore
from intake.db import make_engine
from intake.models import Chunk, Item, Reply, Submission
from keys.bundle import open_bundle
from tests.support.courier import Courier, Reviewer, run


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
    fetched = courier.review("fetch", "--out", bundle)
    assert f"Wrote {bundle} (" in fetched.stdout and "bytes): 2 tips." in fetched.stdout

    offline.review("trust", str(courier.instance.signing_key.verify_key))
    ack_file = Path(offline.review("import", bundle).stdout.strip().splitlines()[-1])
    assert json.loads(ack_file.read_text())["items"]
    # Issue 19 item 4: the server's bundle says which tips were sent together.
    message, file = json.loads(offline.review("tips", "--json").stdout)
    assert (message["kind"], file["kind"]) == ("message", "file")
    assert message["submission"] is not None and message["submission"] == file["submission"]
    [listed] = json.loads(offline.review("sources", "--json").stdout)
    assert len(listed["tips"]) == 2
    offline.review("reply", listed["id"], stdin="Thank you. Can you send the 2025 ledger too?")
    replies = tmp_path / "carried" / "replies.tar"
    written = offline.review("outbox", "--out", replies)
    [workspace_key] = re.findall(r"workspace's key (cairnreviewer1\w+)", written.stdout)
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
    confirmation = Path(pushed.stdout.strip().splitlines()[-1])
    assert confirmation == tmp_path / "carried" / "replies.delivered.json"

    # Issue 19 item 3: the server's signed confirmation, carried back, empties the outbox of
    # what it delivered; a courier cannot fake one (it is signed by the pinned server key).
    forged = json.loads(confirmation.read_text())
    forged["replies"] = [*forged["replies"], "f" * 32]
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    refused_confirmation = offline.review("delivered", tmp_path / "forged.json", ok=False)
    assert "signature does not verify" in refused_confirmation.stderr
    [waiting] = json.loads(offline.review("outbox", "--json").stdout)
    assert waiting["status"] == "waiting"
    marked = offline.review("delivered", confirmation)
    assert "Marked 1 reply delivered; 0 still wait in the outbox." in marked.stdout
    [delivered] = json.loads(offline.review("outbox", "--json").stdout)
    assert (delivered["id"], delivered["status"]) == (waiting["id"], "delivered")
    outbox_dir = Path(offline.env["CAIRN_WORKSPACE"]) / "outbox"
    assert not list(outbox_dir.iterdir())  # its ciphertext has left
    assert "the outbox is empty" in offline.review("outbox", "--out", replies, ok=False).stderr
    assert "Marked 0 replies" in offline.review("delivered", confirmation).stdout
    again = json.loads(courier.review("push", replies, "--json").stdout)  # twice: stored once
    assert again == {"stored": 0, "already_stored": 1, "confirmation": str(confirmation)}
    assert count(courier.instance.database_url, Reply) == 1

    page = source.login()
    assert page.status_code == 200
    assert "Can you send the 2025 ledger too?" in page.text
    [delete_path] = re.findall(r'href="(/replies/[^"]+/delete)"', page.text)
    confirm = source.get(delete_path)  # a second page says what deleting means
    assert f'action="{delete_path}"' in confirm.text
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
    acked = courier.review("ack", ack_file, "--json")
    assert json.loads(acked.stdout) == {"acknowledged": 2}
    assert count(url, Item) == 2  # kept for ack_grace_days (7 by default), then swept
    CourierStore(sessionmaker(make_engine(url))).sweep(grace_days=0)  # as the server's sweep
    assert (count(url, Item), count(url, Chunk), count(url, Submission)) == (0, 0, 0)
    # The next fetch is a signed bundle with nothing in it.
    empty = tmp_path / "carried" / "empty.tar"
    nothing = courier.review("fetch", "--out", empty)
    assert nothing.stdout.startswith(f"Nothing new: wrote {empty}, a bundle with no tips")
    as_json = json.loads(courier.review("fetch", "--out", empty, "--json").stdout)
    assert (as_json["tips"], as_json["left"], as_json["bundle"]) == (0, 0, str(empty))
    with open_bundle(empty, courier.instance.signing_key.verify_key) as fetched:
        assert fetched.items == ()
