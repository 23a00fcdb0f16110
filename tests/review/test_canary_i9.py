"""I9: the workspace holds no plaintext at rest, only files the reviewer explicitly exports.

Unique canary strings go in as a tip's message, a file's name and content, a note, a claim (and
its new wording), a quote, a relation note and a reply; every byte of every file under the
workspace (database and any -wal or -shm beside it, age files, acks) is then searched for each.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from keys.signing import SigningKey

from .conftest import Review, Reviewer, TipSpec, make_bundle


def canary(what: str) -> str:
    return f"CANARY-{what}-{secrets.token_hex(8)}"


def traces(root: Path, canaries: list[str]) -> list[tuple[str, Path]]:
    """Every (canary, file) pair where the canary's UTF-8 bytes occur in the file."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [(c, path) for c in canaries if c.encode() in data]
    return found


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
    review("reply", "srcA", input=words["reply"])
    for command in (("show", "m1"), ("show", "f1"), ("tips",), ("sources",), ("claims",)):
        review(*command)
    review("outbox", "--out", str(tmp_path / "replies.tar"))
    review("report", "--format", "html", "--out", str(tmp_path / "report.html"))
    review("suggest")

    searched = {p.name for p in review.workspace.rglob("*") if p.is_file()}
    assert {"workspace.db", "workspace-key.age", "m1.age", "f1.age"} <= searched
    assert traces(review.workspace, list(words.values())) == []

    shown: Any = review.json("show", "m1")  # ...and yet nothing was lost
    assert words["message"] in shown["text"] and shown["notes"] == [words["note"]]
    assert shown["links"][0]["quote"] == words["quote"]
    claims: Any = review.json("claims")
    assert claims[0]["text"] == words["claim-edit"]
    sources: Any = review.json("sources")
    assert sources[0]["relations"][0]["note"] == words["relation-note"]
    outbox: Any = review.json("outbox")
    assert outbox[0]["text"] == words["reply"]
    tips_listed: Any = review.json("tips")
    assert {t["name"] for t in tips_listed} == {"", f"{words['file-name']}.pdf"}
