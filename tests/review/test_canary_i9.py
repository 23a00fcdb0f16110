"""I9: the workspace holds no plaintext at rest, only files the reviewer explicitly exports.

Unique canary strings go in as a tip's message, a file's name and content, a note, a claim (and
its new wording), a quote, a relation note and a reply; every byte of every file under the
workspace (database and any -wal or -shm beside it, age files, acks) is then searched for each,
as UTF-8 and in the forms a careless "seal" might leave it readable in: base64 (standard and
urlsafe, at each alignment), hex, UTF-16 and zlib. Then every sealed column of the database, as
the models declare them, is read back and must be an age file that the workspace's own key opens
and another workspace's key does not.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import LargeBinary

from keys import age
from keys.signing import KeyKind, SigningKey
from keys.workspace_key import WorkspaceKey
from review.models import Base
from review.workspace import DATABASE_FILE, KEY_FILE, Workspace
from tests.support.canary import canary, traces
from tests.support.review import Review, Reviewer, TipSpec, make_bundle

AGE_MAGIC = b"age-encryption.org/v1\n"
# Binary columns that are not sealed, and why; every other binary column the models declare must
# hold only sealed values, so a new one is checked without anyone remembering to add it here.
UNSEALED_COLUMNS = {
    ("tips", "content_tag"): "a keyed HMAC fingerprint, 32 bytes",
    ("team_placed", "fingerprint"): "a keyed HMAC fingerprint of sealed cells, 32 bytes",
}
# Settings rows whose value is plain by design: no words of the source or the reviewer.
PLAIN_SETTINGS = {"schema", "server_key"}


def sealed_columns() -> list[tuple[str, str]]:
    """Every (table, column) the models declare binary, except those known not to be sealed."""
    return [
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary)
        and (table.name, column.name) not in UNSEALED_COLUMNS
    ]


def sealed_values(database: Path) -> dict[tuple[str, str], list[bytes]]:
    """Every non-null value of every sealed column, read straight from the database file."""
    found: dict[tuple[str, str], list[bytes]] = {}
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as db:
        for table, column in sealed_columns():
            query = f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'  # noqa: S608
            if table == "settings":
                plain = ", ".join(f"'{name}'" for name in sorted(PLAIN_SETTINGS))
                query += f" AND name NOT IN ({plain})"
            found[table, column] = [row[0] for row in db.execute(query)]
    return found


def opens(key: WorkspaceKey, sealed: bytes) -> bool:
    try:
        key.open(sealed)
    except age.DecryptError:
        return False
    return True


@pytest.mark.parametrize(
    "encode",
    [
        lambda c: b"seal:" + base64.b64encode(c.encode()),
        lambda c: b"xy" + base64.b64encode(b"note: " + c.encode()),
        lambda c: base64.urlsafe_b64encode(b"?" + c.encode() + b"\xff"),
        lambda c: binascii.hexlify(c.encode()),
        lambda c: c.encode("utf-16-le"),
        lambda c: b"\xfe\xff" + c.encode("utf-16-be"),
        lambda c: b"\x00junk" + zlib.compress(b"a note: " + c.encode() + b" ends") + b"more",
        lambda c: b"gz" + gzip.compress(b"quote " + c.encode()),
    ],
)
def test_the_search_finds_encoded_plaintext(tmp_path: Path, encode: Callable[[str], bytes]) -> None:
    marked = canary("control")
    (tmp_path / "workspace.db").write_bytes(b"\x00" * 37 + encode(marked) + b"\x00" * 5)
    assert traces(tmp_path, [marked, canary("absent")]) == [(marked, tmp_path / "workspace.db")]


def test_the_search_finds_plaintext(tmp_path: Path) -> None:
    """The check below can fail: a canary in any file, however deep, is found."""
    marked = canary("control")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "workspace.db-wal").write_bytes(b"\x00" * 99 + marked.encode())
    assert traces(tmp_path, [marked, canary("absent")]) == [
        (marked, tmp_path / "deep" / "er" / "workspace.db-wal")
    ]


def test_no_trace_of_tips_or_reviewer_text_anywhere_in_the_workspace(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    words = {
        what: canary(what)
        for what in (
            "message",
            "file-name",
            "file-content",
            "note",
            "claim",
            "claim-edit",
            "quote",
            "relation-note",
            "reply",
            "grade-note",
            "credibility-reason",
            "hypothesis",
            "ach-reason",
            "teammate-name",
        )
    }
    reply_to = offline_reviewer.identity.recipient  # any recipient will do for the source's
    tips = [
        TipSpec(
            "m1",
            "srcA",
            f"I saw it myself. {words['message']}".encode(),
            reply_recipient=str(reply_to),
        ),
        TipSpec(
            "f1",
            "srcB",
            f"memo {words['file-content']}".encode(),
            kind="file",
            name=f"{words['file-name']}.pdf",
            media_type="application/pdf",
        ),
    ]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    review("note", "m1", words["note"])
    claim = review("claim", "add", words["claim"]).stdout.strip()
    link = ("link", "m1", claim, "--supports", "--basis", "firsthand", "--quote-file", "-")
    review(*link, input=words["quote"])
    review("claim", "edit", claim, words["claim-edit"])
    relate = ("relate", "srcA", "srcB", "--shared-origin", "--note-file", "-")
    review(*relate, input=words["relation-note"])
    review("sources", "grade", "srcA", "B", "--note-file", "-", input=words["grade-note"])
    override = ("claim", "credibility", claim, "2", "--reason-file", "-")
    review(*override, input=words["credibility-reason"])
    review("hypothesis", "add", input=words["hypothesis"])
    mark = ("ach", "mark", "1", claim, "--inconsistent", "--reason-file", "-")
    review(*mark, input=words["ach-reason"])
    review("ach")
    review("reply", "srcA", input=words["reply"])
    for command in (("show", "m1"), ("show", "f1"), ("tips",), ("sources",), ("claims",)):
        review(*command)
    review("outbox", "--out", str(tmp_path / "replies.tar"))
    review("report", "--format", "html", "--out", str(tmp_path / "report.html"))
    review("suggest")
    teammate = SigningKey.generate(KeyKind.REVIEWER).verify_key
    review("team", "add", str(teammate), "--name", words["teammate-name"])
    carried = tmp_path / "carried"
    carried.mkdir()
    review("share", "--out", str(carried / "to-the-team.cairn"))

    assert traces(carried, list(words.values())) == []  # the exchange file too (issue 21)
    searched = {p.name for p in review.workspace.rglob("*") if p.is_file()}
    assert {"workspace.db", "workspace-key.age", "m1.age", "f1.age"} <= searched
    assert traces(review.workspace, list(words.values())) == []
    assert_every_sealed_column_is_sealed(review.workspace, offline_reviewer, tmp_path)

    shown: Any = review.json("show", "m1")  # ...and yet nothing was lost
    assert words["message"] in shown["text"] and shown["notes"] == [words["note"]]
    assert shown["links"][0]["quote"] == words["quote"]
    claims: Any = review.json("claims")
    assert claims[0]["text"] == words["claim-edit"]
    assert claims[0]["override_reason"] == words["credibility-reason"]
    matrix: Any = review.json("ach")
    assert matrix["hypotheses"][0]["text"] == words["hypothesis"]
    assert matrix["marks"][0]["reason"] == words["ach-reason"]
    sources: Any = review.json("sources")
    assert sources[0]["relations"][0]["note"] == words["relation-note"]
    outbox: Any = review.json("outbox")
    assert outbox[0]["text"] == words["reply"]
    tips_listed: Any = review.json("tips")
    assert {t["name"] for t in tips_listed} == {"", f"{words['file-name']}.pdf"}


def assert_every_sealed_column_is_sealed(root: Path, reviewer: Reviewer, tmp_path: Path) -> None:
    """Each value of each sealed column is an age file that this workspace's key opens and a
    fresh workspace's key does not. The key is unwrapped from its file and used directly, not
    through ``Workspace.unseal``, so a "seal" that merely encodes cannot vouch for itself."""
    with (root / KEY_FILE).open("rb") as src:
        key = WorkspaceKey.unwrap(src, reviewer.identity)
    with Workspace.open(tmp_path / "another-workspace", age.X25519Identity.generate()) as other:
        other_key = other.key
    values = sealed_values(root / DATABASE_FILE)
    expected = {
        ("settings", "value"),
        ("imports", "summaries"),
        ("notes", "text"),
        ("claims", "text"),
        ("links", "quote"),
        ("relations", "note"),
        ("source_grades", "note"),
        ("credibility_overrides", "reason"),
        ("hypotheses", "text"),
        ("ach_marks", "reason"),
        ("team_members", "name"),
        ("team_batches", "changes"),
    }
    assert expected <= set(values), "a sealed column the models declare is no longer checked"
    # Every sealed column was written by the commands above, so every one is really checked.
    assert [column for column, found in values.items() if not found] == []
    for column, found in values.items():
        for sealed in found:
            assert isinstance(sealed, bytes), column
            assert sealed.startswith(AGE_MAGIC), f"{column} holds something not an age file"
            assert opens(key, sealed), f"{column}: the workspace key does not open it"
            assert not opens(other_key, sealed), f"{column}: another workspace's key opens it"
            plaintext = key.open(sealed).encode()
            assert len(plaintext) < 8 or plaintext not in sealed, column
