"""Triage: listing, reading, marking, noting and exporting tips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keys.signing import SigningKey
from tests.support.review import Review, Reviewer, TipSpec, make_bundle

TIPS = [
    TipSpec("m1", "srcA", b"Plain words.\nSecond line.", day="2025-03-01"),
    TipSpec("m2", "srcB", b"Look: \x1b[2J\x1b]8;;http://x\x07[bold]bait[/bold]", day="2025-03-02"),
    TipSpec(
        "f1",
        "srcB",
        b"%PDF-1.7 not really",
        kind="file",
        name="../../etc/passwd",
        media_type="application/octet-stream",
        day="2025-03-03",
    ),
    TipSpec(
        "g7",
        "srcA",
        b"just text",
        kind="file",
        name="notes.txt",
        media_type="text/plain",
        day="2025-03-04",
    ),
]


@pytest.fixture
def triage(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> Review:
    bundle = make_bundle(tmp_path / "b.tar", server, TIPS, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    return review


def listed(review: Review, *options: str) -> list[str]:
    tips: Any = review.json("tips", *options)
    return [tip["id"] for tip in tips]


def test_tips_lists_oldest_first_with_names_and_previews(triage: Review) -> None:
    tips: Any = triage.json("tips")
    assert [t["id"] for t in tips] == ["m1", "m2", "f1", "g7"]
    assert tips[0]["preview"] == "Plain words. Second line."
    assert tips[2]["name"] == "../../etc/passwd" and tips[2]["kind"] == "file"
    assert {t["status"] for t in tips} == {"new"}
    assert tips[0]["source"] == tips[3]["source"] != tips[1]["source"]


def test_filters_by_status_and_source(triage: Review) -> None:
    triage("mark", "m2", "flagged")
    triage("mark", "g7", "spam")
    assert listed(triage, "--status", "flagged") == ["m2"]
    assert listed(triage, "--status", "flagged", "--status", "spam") == ["m2", "g7"]
    assert listed(triage, "--source", "srcA") == ["m1", "g7"]
    pseudonym = triage.json("tips")[1]["source"]
    assert listed(triage, "--source", pseudonym.upper()) == ["m2", "f1"]
    assert "no source 'nobody'" in triage.fails("tips", "--source", "nobody")
    assert triage.run("mark", "m1", "lost").exit_code == 2


def test_show_reads_a_message_and_marks_it_read(triage: Review) -> None:
    shown: Any = triage.json("show", "m1")
    assert shown["text"] == "Plain words.\nSecond line."
    assert shown["status"] == "read"
    assert listed(triage, "--status", "new") == ["m2", "f1", "g7"]
    triage("mark", "m1", "new")
    assert listed(triage, "--status", "new") == ["m1", "m2", "f1", "g7"]


def test_show_never_passes_control_characters_or_markup_to_the_terminal(triage: Review) -> None:
    output = triage("show", "m2").stdout
    assert "\x1b" not in output and "\x07" not in output
    assert "[bold]bait[/bold]" in output


def test_show_describes_a_file_without_opening_it_on_disk(triage: Review) -> None:
    output = triage("show", "f1").stdout
    assert "'../../etc/passwd'" in output and "review export f1" in output
    assert triage.json("show", "f1")["text"] is None


def test_tips_are_found_by_a_unique_prefix(triage: Review) -> None:
    assert triage.json("show", "g")["id"] == "g7"
    assert "more than one tip id starts with 'm'" in triage.fails("show", "m")


def test_notes_are_kept_in_order_and_can_come_from_standard_input(triage: Review) -> None:
    triage("note", "m1", "call back")
    triage("note", "m1", input="typed on standard input\n")
    assert triage.json("show", "m1")["notes"] == ["call back", "typed on standard input"]
    assert triage.json("tips")[0]["notes"] == 2


def test_export_uses_a_safe_name_and_warns_about_metadata(triage: Review, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    result = triage("export", "f1", "--out", str(out))
    path = Path(result.stdout.strip())
    assert path == out / "f1-passwd"
    assert path.read_bytes() == b"%PDF-1.7 not really"
    assert "looks like a PDF document" in result.stderr  # by its first bytes, despite its type
    assert list(out.iterdir()) == [path]

    plain = triage("export", "g7", "--out", str(out))
    assert Path(plain.stdout.strip()).name == "g7-notes.txt" and "Warning" not in plain.stderr
    message = Path(triage("export", "m1", "--out", str(out)).stdout.strip())
    assert message.name == "m1.txt" and message.read_text() == "Plain words.\nSecond line."


def test_export_never_overwrites_and_never_writes_into_the_workspace(
    triage: Review, tmp_path: Path
) -> None:
    out = tmp_path / "exported"
    triage("export", "g7", "--out", str(out))
    (out / "g7-notes.txt").write_text("mine")
    assert "already exists" in triage.fails("export", "g7", "--out", str(out))
    assert (out / "g7-notes.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["g7-notes.txt"], "no partial file left"
    inside = triage.workspace / "plain"
    assert "inside the workspace" in triage.fails("export", "g7", "--out", str(inside))
    assert not inside.exists()


def test_i9_an_export_directory_and_its_files_are_owner_only(
    triage: Review, tmp_path: Path
) -> None:
    out = tmp_path / "exported"
    path = Path(triage("export", "f1", "--out", str(out)).stdout.strip())
    assert out.stat().st_mode & 0o777 == 0o700  # the names in it come from the source
    assert path.stat().st_mode & 0o777 == 0o600
