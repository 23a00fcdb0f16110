"""Every command takes --json, so a script can drive the whole workspace (issue 19, item 8):
actions print one JSON object on standard output, and nothing else there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from keys import age
from keys.signing import SigningKey
from review.cli import main
from tests.support.review import Review, Reviewer, TipSpec, make_bundle

NOT_A_SCRIPT_COMMAND = {"desk"}  # a web server on loopback: it runs until stopped


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= _commands(command, f"{prefix}{name} ")
        else:
            found[f"{prefix}{name}"] = command
    return found


def test_issue19_item8_every_command_takes_json() -> None:
    missing = [
        name
        for name, command in _commands(main).items()
        if name not in NOT_A_SCRIPT_COMMAND
        and not any(option.name == "as_json" for option in command.params)
    ]
    assert missing == []


def _json(review: Review, *args: str, input: str | None = None) -> Any:
    return json.loads(review(*args, "--json", input=input).stdout)


def test_issue19_item8_actions_print_what_they_did_as_json(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    source = age.X25519Identity.generate().recipient
    tips = [
        TipSpec("m1", "srcA", b"The payments went through.", reply_recipient=str(source)),
        TipSpec("m2", "srcB", b"A second account."),
    ]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    assert _json(review, "trust", str(server.verify_key)) == {"server_key": str(server.verify_key)}
    imported = _json(review, "import", str(bundle))
    assert sorted(imported["added"]) == ["m1", "m2"] and imported["messages"] == 2
    assert Path(imported["ack"]).is_file()
    assert _json(review, "mark", "m1", "flagged") == {"tip": "m1", "status": "flagged"}
    assert _json(review, "note", "m1", "a note") == {"tip": "m1"}
    assert _json(review, "claim", "add", "A claim") == {"claim": 1}
    assert _json(review, "claim", "edit", "1", "The claim") == {"claim": 1}
    linked = _json(review, "link", "m1", "1", "--supports", "--basis", "firsthand")
    assert (linked["tip"], linked["claim"], linked["stance"], linked["weak"]) == (
        "m1",
        1,
        "supports",
        False,
    )
    assert _json(review, "unlink", "m1", "1") == {"tip": "m1", "claim": 1}
    related = _json(review, "relate", "srcA", "srcB", "--same-person")
    assert related["kind"] == "same-person"
    assert set(_json(review, "unrelate", "srcA", "srcB")) == {"first", "second"}
    assert _json(review, "claim", "remove", "1") == {"claim": 1, "links_removed": 0}
    [pseudonym] = [s["pseudonym"] for s in _json(review, "sources") if s["id"] == "srcA"]
    sealed = _json(review, "reply", "srcA", input="Thank you.")
    assert sealed["source"] == pseudonym
    written = _json(review, "outbox", "--out", str(tmp_path / "replies.tar"))
    assert written["replies"] == [sealed["id"]] and written["signed_by"].startswith(
        "cairnreviewer1"
    )
    report = _json(review, "report", "--out", str(tmp_path / "report.md"))
    assert report == {"format": "md", "path": str(tmp_path / "report.md")}
    exported = _json(review, "export", "m2", "--out", str(tmp_path / "out"))
    assert Path(exported["path"]).is_file()
