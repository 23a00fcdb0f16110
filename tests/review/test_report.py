"""`review report`: claims, statuses and quotes, sources by pseudonym only, self-contained HTML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from keys.signing import SigningKey
from tests.support.review import Review, Reviewer, TipSpec, make_bundle
from tests.support.team import Newsroom, make_newsroom

HOSTILE = (
    '<script>alert(1)</script> <img src="https://example.org/x.png"> | *bold* [link](http://x)'
)


@pytest.fixture
def reported(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> Review:
    tips = [TipSpec(f"tip{s}", f"server-{s}", b"words") for s in "ABCD"]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    review("claim", "add", "The memo was signed")
    review("claim", "add", HOSTILE)
    review("link", "tipA", "1", "--supports", "--basis", "firsthand", "--quote", "I watched")
    review("link", "tipB", "1", "--supports", "--basis", "document", "--quote", HOSTILE)
    review("link", "tipC", "1", "--supports", "--basis", "secondhand")
    review("link", "tipD", "1", "--contradicts", "--basis", "firsthand")
    review("link", "tipD", "2", "--context")
    review("relate", "server-C", "server-D", "--same-person", "--note", "private reasoning")
    return review


def write(review: Review, tmp_path: Path, format_: str) -> str:
    out = tmp_path / f"report.{format_}"
    review("report", "--format", format_, "--out", str(out))
    return out.read_text(encoding="utf-8")


def pseudonyms(review: Review) -> dict[str, str]:
    sources: Any = review.json("sources")
    return {source["id"]: source["pseudonym"] for source in sources}


def test_html_is_self_contained_and_inert(reported: Review, tmp_path: Path) -> None:
    page = write(reported, tmp_path, "html")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    tags = re.findall(r"<[^>]*>", page)
    assert not [t for t in tags if re.match(r"<(img|link|iframe|object|embed|a)\b", t, re.I)]
    assert not [t for t in tags if re.search(r"\b(src|href|on\w+)=", t, re.I)]
    assert "url(" not in page and "@import" not in page
    assert "default-src 'none'" in page and "<style>" in page


def test_html_matrix_shows_support_contradiction_and_weak_support(
    reported: Review, tmp_path: Path
) -> None:
    page = write(reported, tmp_path, "html")
    names = pseudonyms(reported)
    matrix = page[page.index("Claims by independence group") :]
    row = re.search(r'<tr><th scope="row">1</th>(.*?)</tr>', matrix)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    words = [re.sub(r"<[^>]+>", "", c.replace("<br>", " / ")).strip() for c in cells]
    groups = re.findall(r'<th scope="col">(G\d+)<small>(.*?)</small></th>', matrix)
    by_group = {members: word for (_, members), word in zip(groups, words, strict=True)}
    pair = ", ".join(sorted([names["server-C"], names["server-D"]]))
    assert by_group == {
        names["server-A"]: "● supports",
        names["server-B"]: "● supports",
        pair: "✖ contradicts / ○ weak support",
    }
    assert "disputed" in page and "2 independent groups support it; 2 are needed." in page


def test_sources_appear_by_pseudonym_only(reported: Review, tmp_path: Path) -> None:
    for format_ in ("html", "md"):
        text = write(reported, tmp_path, format_)
        assert "server-" not in text and "tip" not in text.replace("multiple", "")
        assert "private reasoning" not in text  # relation notes stay in the workspace
        assert all(name in text for name in pseudonyms(reported).values())
        assert "I watched" in text


def test_markdown_has_the_claims_the_matrix_and_inert_text(
    reported: Review, tmp_path: Path
) -> None:
    text = write(reported, tmp_path, "md")
    row = (
        "| 1 | F4 | disputed | 2 independent groups support it; 2 are needed | "
        "The memo was signed |"
    )
    assert row in text
    assert "\\<script\\>" in text and not re.search(r"(?<!\\)<", text)
    assert "\\| \\*bold\\* \\[link\\]\\(http://x\\)" in text
    assert "● supports" in text and "✖ contradicts" in text and "○ weak support" in text


def test_a_threshold_changes_the_report(reported: Review, tmp_path: Path) -> None:
    reported("unlink", "tipD", "1")
    out = tmp_path / "r.md"
    reported("report", "--out", str(out), "--threshold", "3")
    row = "| 1 | F2 | partly-corroborated | 2 independent groups support it; 3 are needed |"
    assert row in out.read_text()


def test_the_report_gives_grades_overrides_and_what_would_settle_each_claim(
    reported: Review, tmp_path: Path
) -> None:
    names = pseudonyms(reported)
    reported("sources", "grade", "server-A", "B")
    reported("claim", "credibility", "2", "4", "--reason", "an old <rumour>")
    pair = " + ".join(sorted([names["server-C"], names["server-D"]]))
    markdown, page = write(reported, tmp_path, "md"), write(reported, tmp_path, "html")
    assert "| 1 | B4 | disputed |" in markdown
    assert "an old \\<rumour\\>" in markdown  # inert (I11)
    plain = markdown.replace("\\", "")
    assert (
        "Grade B4: the best supporting source B (usually reliable), the information 4 (doubtful)."
    ) in plain
    assert f"- resolve the contradiction from {pair}: a firsthand account" in plain
    assert "the reviewer's judgement in place of 6 (cannot be judged): an old <rumour>" in plain
    assert '<td class="grade">B4</td>' in page and '<td class="grade">F4*</td>' in page
    assert f"<li>resolve the contradiction from {pair}: a firsthand account" in page
    assert "an old &lt;rumour&gt;" in page


def test_the_report_draws_the_ach_matrix_readable_without_colour(
    reported: Review, tmp_path: Path
) -> None:
    before = tmp_path / "before.md"
    reported("report", "--out", str(before))
    assert "Competing hypotheses" not in before.read_text()  # no hypothesis yet
    reported("hypothesis", "add", "It was forged <b>")
    reported("hypothesis", "add", "It is genuine")
    reported("ach", "mark", "1", "1", "--strongly-inconsistent")
    reported("ach", "mark", "2", "1", "--consistent")
    reported("ach", "mark", "1", "2", "--neutral")
    reported("ach", "mark", "2", "2", "--neutral")
    markdown, page = write(reported, tmp_path, "md"), write(reported, tmp_path, "html")
    plain = markdown.replace("\\", "")
    assert "- Rank 1: H2, inconsistency 0: It is genuine" in plain
    assert "- Rank 2: H1, inconsistency 4: It was forged <b>" in plain  # two groups: 2 + 2
    assert "<li>Rank 2: H1, inconsistency 4: It was forged &lt;b&gt;</li>" in page
    assert "| 1 | F4 | C consistent | II strongly-inconsistent | sensitive" in plain
    assert "| 2 | F6 | N neutral | N neutral | not diagnostic; weighs nothing" in plain
    assert '<td class="ach-strongly-inconsistent"><span aria-hidden="true">II</span> ' in page
    assert "It was forged &lt;b&gt;" in page and "<td>0</td><td>4</td>" in page


def test_a_report_is_never_written_into_the_workspace(reported: Review) -> None:
    inside = reported.workspace / "report.html"
    assert "inside the workspace" in reported.fails("report", "--out", str(inside))
    assert not inside.exists()


def test_i9_a_report_is_owner_only_and_replaced_only_with_force(
    reported: Review, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    out = shared / "report.md"
    reported("report", "--out", str(out))
    assert out.stat().st_mode & 0o777 == 0o600
    out.write_text("an earlier report")
    out.chmod(0o644)

    refused = reported.fails("report", "--out", str(out))
    assert "already exists" in refused and "--force" in refused
    assert out.read_text() == "an earlier report"

    reported("claim", "add", "A later claim")
    reported("report", "--out", str(out), "--force")
    assert "A later claim" in out.read_text()
    assert out.stat().st_mode & 0o777 == 0o600  # a new file took its place, not a rewrite
    assert [p.name for p in shared.iterdir()] == ["report.md"], "no partial file left"


def test_i8_a_report_into_a_missing_directory_is_a_one_line_error(
    reported: Review, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-directory"
    error = reported.fails("report", "--out", str(missing / "report.md"))
    assert f"the directory {missing} does not exist" in error
    assert not missing.exists()


def test_without_out_the_report_is_printed_as_markdown(reported: Review, tmp_path: Path) -> None:
    """Issue 19 item 5: `review report` needed --out; without it, the Markdown is printed."""
    printed = reported("report").stdout
    assert printed == write(reported, tmp_path, "md").rstrip("\n") + "\n"
    assert "The memo was signed" in printed
    assert list(tmp_path.glob("*.md")) == [tmp_path / "report.md"]  # only the one asked for
    refused = reported.run("report", "--force")
    assert refused.exit_code == 2 and "give it with --out" in refused.output


def claim_id(review: Review, text: str) -> int:
    claims: Any = review.json("claims")
    return int(next(claim["id"] for claim in claims if claim["text"] == text))


@pytest.fixture
def signed_off(tmp_path: Path) -> Newsroom:
    """Issue 21: the reporter Ana links the evidence of two corroborated claims and shares;
    the editor Ben merges, signs off the first and shares back."""
    tips = [TipSpec(f"tip{s}", f"server-{s}", b"words") for s in "ABC"]
    room = make_newsroom(tmp_path / "newsroom", ["Ana", "Ben"], tips)
    ana = room["Ana"]
    for claim in ("1", "2"):
        ana("claim", "add", "The memo was signed" if claim == "1" else "The minister knew")
        ana("link", "tipA", claim, "--supports", "--basis", "firsthand")
        ana("link", "tipB", claim, "--supports", "--basis", "document")
    room.send("Ana", "Ben")
    room["Ben"]("sign-off", str(claim_id(room["Ben"], "The memo was signed")))
    room.send("Ben", "Ana")
    return room


def test_the_report_says_who_signed_off_which_corroborated_claim(
    signed_off: Newsroom, tmp_path: Path
) -> None:
    ana = signed_off["Ana"]
    markdown = write(ana, tmp_path, "md")
    assert "| Claim | Grade | Status | Support | Text | Signed off |" in markdown
    claims = [line for line in markdown.splitlines() if "| corroborated |" in line]
    rows = {line.split(" | ")[4]: line for line in claims}
    assert rows["The memo was signed"].endswith("| Ben |")
    assert rows["The minister knew"].endswith("|  |")
    assert "Signed off by Ben." in markdown and "Not signed off yet." in markdown
    page = write(ana, tmp_path, "html")
    assert '<th scope="col">Signed off</th>' in page
    assert "<td>The memo was signed</td><td>Ben</td></tr>" in page
    assert '<p class="sign-off">Signed off by Ben.</p>' in page
    assert '<p class="sign-off">Not signed off yet.</p>' in page


def test_a_sign_off_made_before_the_evidence_changed_says_so(signed_off: Newsroom) -> None:
    ana = signed_off["Ana"]
    ana("link", "tipC", str(claim_id(ana, "The memo was signed")), "--contradicts")
    markdown = ana("report").stdout
    assert "| Ben \\(before its evidence changed\\) |" in markdown
    assert "Signed off by Ben \\(before its evidence changed\\)." in markdown
    page = ana("report", "--format", "html").stdout
    assert "Signed off by Ben (before its evidence changed)." in page


def test_a_report_without_a_team_says_nothing_of_sign_offs(reported: Review) -> None:
    markdown = reported("report").stdout
    assert "Signed off" not in markdown and "signed off" not in markdown
