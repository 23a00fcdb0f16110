"""Issue 19 item 4: tables show ids as their shortest unique prefix, and tips by submission."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from keys.signing import SigningKey
from review.desk.inbox import submissions
from review.service.triage import TipRow
from review.short_ids import short_ids
from tests.support.review import Review, Reviewer, TipSpec, make_bundle

MESSAGE_A = "3f2a9c1b" + "0" * 24
FILE_A = "3f2a9c1e" + "1" * 24
MESSAGE_B = "77b0d4e2" + "2" * 24
FILE_LATER = "a1b2c3d4" + "3" * 24  # sorts after MESSAGE_B, yet is listed with MESSAGE_A
CLASH = ("3f2a9c1b" + "0" * 23 + "9", "3f2a9c1b" + "5" * 24)


def test_each_id_gets_the_shortest_prefix_no_other_id_starts_with() -> None:
    ids = [MESSAGE_A, FILE_A, MESSAGE_B, *CLASH]
    shown = short_ids(ids)
    assert shown[MESSAGE_B] == "77b0d4e"  # never shorter than git's seven
    assert shown[FILE_A] == "3f2a9c1e"
    assert shown[CLASH[1]] == "3f2a9c1b5"
    assert shown[MESSAGE_A] == MESSAGE_A  # shares 31 characters with CLASH[0]
    for id_, prefix in shown.items():
        assert id_.startswith(prefix)
        assert [other for other in ids if other.startswith(prefix)] == [id_]


def test_an_id_another_one_starts_with_is_shown_whole() -> None:
    assert short_ids(["abcdefgh", "abcdefghij", "tA"]) == {
        "abcdefgh": "abcdefgh",  # typed back, an exact id wins over a prefix
        "abcdefghij": "abcdefghi",
        "tA": "tA",
    }


def test_tips_show_short_ids_grouped_by_source_and_day(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    """An older bundle, which does not say which tips were sent together."""
    tips = [
        TipSpec(MESSAGE_A, "srcA", b"The memo, as I saw it."),
        TipSpec(MESSAGE_B, "srcB", b"Someone else, same day."),
        TipSpec(FILE_LATER, "srcA", b"%PDF", kind="file", name="memo.pdf", media_type="a/pdf"),
    ]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    assert all("submission" not in item for item in manifest_items(bundle))
    review("import", str(bundle))
    table = review("tips").stdout
    assert MESSAGE_A not in table and MESSAGE_B not in table  # ids too long for a terminal
    # Shown: the short ids, one source's tips of a day together (its message, then its file),
    # and a line between them and the other source's, whichever pseudonym sorts first.
    lines = [line for line in table.splitlines() if line.startswith(("│", "├"))]
    shown = [line.split("│")[1].strip() if line.startswith("│") else "—" for line in lines]
    assert shown in (
        ["3f2a9c1", "a1b2c3d", "—", "77b0d4e"],
        ["77b0d4e", "—", "3f2a9c1", "a1b2c3d"],
    )
    listed: Any = json.loads(review("tips", "--json").stdout)
    assert [tip["id"] for tip in listed] in (
        [MESSAGE_A, FILE_LATER, MESSAGE_B],
        [MESSAGE_B, MESSAGE_A, FILE_LATER],
    )  # whole in JSON
    assert review.json("show", "77b0d4e")["id"] == MESSAGE_B  # the prefix shown is typed back


def manifest_items(bundle: Path) -> list[dict[str, Any]]:
    with tarfile.open(bundle) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        items: list[dict[str, Any]] = json.load(member)["items"]
    return items


SENT_FIRST = [
    TipSpec("e1", "srcA", b"First, with a file.", submission="sub1"),
    TipSpec(
        "e2", "srcA", b"%PDF", kind="file", name="a.pdf", media_type="a/pdf", submission="sub1"
    ),
]
SENT_LATER = [  # the same source, the same day, in another submission
    TipSpec("d1", "srcA", b"Later, with two files.", submission="sub2"),
    TipSpec(
        "d2", "srcA", b"1,2", kind="file", name="b.csv", media_type="text/csv", submission="sub2"
    ),
    TipSpec(
        "d3", "srcA", b"3,4", kind="file", name="c.csv", media_type="text/csv", submission="sub2"
    ),
]


def test_tips_sent_apart_on_one_day_are_listed_apart_each_message_with_its_files(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    """Issue 19 item 4: a bundle that says which tips were sent together groups them so."""
    tips = [*SENT_LATER, *SENT_FIRST]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    assert [item["submission"] for item in manifest_items(bundle)] == ["sub2"] * 3 + ["sub1"] * 2
    review("import", str(bundle))
    listed: Any = review.json("tips")
    assert [(tip["id"], tip["submission"]) for tip in listed] == [
        ("e1", "sub1"),
        ("e2", "sub1"),
        ("d1", "sub2"),
        ("d2", "sub2"),
        ("d3", "sub2"),
    ]
    lines = [line for line in review("tips").stdout.splitlines() if line.startswith(("│", "├"))]
    shown = [line.split("│")[1].strip() if line.startswith("│") else "—" for line in lines]
    assert shown == ["e1", "e2", "—", "d1", "d2", "d3"]
    # The desk's inbox groups the same rows the same way.
    rows = [TipRow(**tip) for tip in listed]
    grouped = submissions(rows)
    assert [[row.id for row in group.tips] for group in grouped] == [
        ["e1", "e2"],
        ["d1", "d2", "d3"],
    ]
    assert {(group.source, group.day) for group in grouped} == {(listed[0]["source"], "2025-03-01")}


def test_suggestions_and_the_outbox_show_short_ids(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    words = b"The same words here, copied from one memo, sentence for sentence."
    reachable = str(offline_reviewer.identity.recipient)
    tips = [
        TipSpec(MESSAGE_A, "srcA", words, reply_recipient=reachable),
        TipSpec(MESSAGE_B, "srcB", words),
    ]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    suggested = review("suggest").stdout
    assert "3f2a9c1" in suggested and "77b0d4e" in suggested
    assert MESSAGE_A not in suggested and MESSAGE_B not in suggested
    review("reply", "srcA", input="Thank you.")
    (reply,) = review.json("outbox")
    assert reply["id"][:7] in review("outbox").stdout
    assert reply["id"] not in review("outbox").stdout
