"""The corroboration scenario through the command line, as `review claims --json` reports it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keys.signing import SigningKey
from keys.workspace_key import WorkspaceKey
from tests.support.review import Review, Reviewer, TipSpec, make_bundle
from tests.support.team import Newsroom, make_newsroom

SOURCES = ("srcA", "srcB", "srcC", "srcD", "srcE")


@pytest.fixture
def scenario(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> Review:
    """Five sources, one message each (tip ``t`` + source letter), and the memo claim 1:
    A and B support it firsthand, C with a document, D secondhand."""
    tips = [TipSpec(f"t{s[-1]}", s, f"What {s} says.".encode()) for s in SOURCES]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    assert review("claim", "add", "The director signed the memo").stdout.strip() == "1"
    for tip, basis in (("tA", "firsthand"), ("tB", "firsthand"), ("tC", "document")):
        review("link", tip, "1", "--supports", "--basis", basis)
    review("link", "tD", "1", "--supports")  # the careful default: secondhand
    return review


def memo(review: Review, *options: str) -> dict[str, Any]:
    claims: Any = review.json("claims", *options)
    return next(claim for claim in claims if claim["id"] == 1)


def names(review: Review) -> dict[str, str]:
    sources: Any = review.json("sources")
    return {source["id"]: source["pseudonym"] for source in sources}


def group_list(review: Review, *groups_of_ids: tuple[str, ...]) -> list[list[str]]:
    pseudonym = names(review)
    return sorted(sorted(pseudonym[s] for s in group) for group in groups_of_ids)


def test_the_scenario_through_the_cli(scenario: Review) -> None:
    review = scenario
    status = memo(review)
    assert status["status"] == "corroborated"
    assert status["independent_groups"] == 3
    assert status["supporting_groups"] == group_list(review, ("srcA",), ("srcB",), ("srcC",))
    assert status["weak_support_groups"] == group_list(review, ("srcD",))
    assert {e["tip"]: e["basis"] for e in status["evidence"]}["tD"] == "secondhand"
    assert memo(review, "--threshold", "4")["status"] == "partly-corroborated"

    review("relate", "srcA", "srcB", "--same-person")
    status = memo(review)
    assert status["supporting_groups"] == group_list(review, ("srcA", "srcB"), ("srcC",))
    assert status["status"] == "corroborated"
    assert memo(review, "--threshold", "3")["status"] == "partly-corroborated"

    review("relate", "srcB", "srcC", "--shared-origin", "--note", "same leaked memo")
    assert memo(review)["status"] == "single-source"

    review("link", "tE", "1", "--contradicts", "--basis", "firsthand")
    status = memo(review)
    assert status["status"] == "disputed"
    assert status["contradicting_groups"] == group_list(review, ("srcE",))

    review("link", "tE", "1", "--contradicts", "--basis", "secondhand")  # relinking replaces
    status = memo(review)
    assert status["status"] == "single-source"
    assert status["weak_contradicting_groups"] == group_list(review, ("srcE",))

    review("unrelate", "srcC", "srcB")
    status = memo(review)
    assert status["status"] == "corroborated"
    assert status["supporting_groups"] == group_list(review, ("srcA", "srcB"), ("srcC",))
    review("unrelate", "srcA", "srcB")
    assert memo(review)["independent_groups"] == 3


def test_contradicted_and_unsupported_claims(scenario: Review) -> None:
    review = scenario
    review("claim", "add", "The memo was backdated")
    review("link", "tE", "2", "--contradicts", "--basis", "document")
    review("claim", "add", "Everyone knew")
    review("link", "tA", "3", "--supports", "--basis", "secondhand")
    review("link", "tB", "3", "--context")
    claims: Any = review.json("claims")
    assert [claim["status"] for claim in claims] == ["corroborated", "contradicted", "unsupported"]
    assert claims[2]["weak_support_groups"] == group_list(review, ("srcA",))


def test_claims_can_be_edited_and_removed_and_links_undone(scenario: Review) -> None:
    review = scenario
    review("claim", "edit", "1", "The director signed the memo on 3 March")
    assert memo(review)["text"] == "The director signed the memo on 3 March"
    review("unlink", "tA", "1")
    assert memo(review)["independent_groups"] == 2
    assert "not linked" in review.fails("unlink", "tA", "1")
    review("claim", "remove", "1")
    assert review.json("claims") == []
    assert review("claim", "add", "A new claim").stdout.strip() == "2"  # ids are never reused
    assert "no claim 1" in review.fails("link", "tA", "1", "--supports")


def test_link_needs_a_stance_and_known_tip_and_claim(scenario: Review) -> None:
    review = scenario
    result = review.run("link", "tA", "1")
    assert result.exit_code == 2 and "--supports, --contradicts or --context" in result.output
    assert "no tip 'nope'" in review.fails("link", "nope", "1", "--supports")
    assert "no claim 9" in review.fails("link", "tA", "9", "--supports")


def links_of(review: Review, tip: str) -> list[tuple[str, str, str]]:
    shown: Any = review.json("show", tip)
    return [(found["stance"], found["basis"], found["quote"]) for found in shown["links"]]


def test_i8_stances_refuse_each_other_and_change_nothing(scenario: Review) -> None:
    """Issue 19 item 1: `--supports --contradicts` was taken as the last one given."""
    review = scenario
    review("link", "tA", "1", "--supports", "--basis", "firsthand", "--quote", "in his hand")
    for both in (("--supports", "--contradicts"), ("--contradicts", "--context")):
        result = review.run("link", "tA", "1", *both, "--basis", "firsthand")
        assert result.exit_code == 2, result.output
        assert f"{both[0]} and {both[1]} refuse each other" in result.output
    assert links_of(review, "tA") == [("supports", "firsthand", "in his hand")]


def test_replacing_a_link_says_what_it_replaced_and_keeps_its_quote(scenario: Review) -> None:
    """Issue 19 item 1: relinking turned supports into contradicts and erased the quote."""
    review = scenario
    review("link", "tA", "1", "--supports", "--basis", "firsthand", "--quote", "in his hand")
    said = review("link", "tA", "1", "--contradicts", "--basis", "document").stdout
    assert "replaces the link it had: supports (firsthand); its quote is kept" in said
    assert links_of(review, "tA") == [("contradicts", "document", "in his hand")]
    said = review("link", "tA", "1", "--contradicts", "--quote", "not his hand").stdout
    assert "contradicts (document); its quote is replaced by the new one" in said
    assert links_of(review, "tA") == [("contradicts", "secondhand", "not his hand")]
    said = review("link", "tA", "1", "--context", "--drop-quote").stdout
    assert "contradicts (secondhand); its quote is dropped" in said
    assert links_of(review, "tA") == [("context", "secondhand", "")]
    said = review("link", "tA", "1", "--supports").stdout
    assert "context (secondhand); it had no quote" in said
    first = review("link", "tE", "1", "--supports").stdout
    assert "replaces" not in first
    both = review.run("link", "tA", "1", "--supports", "--drop-quote", "--quote", "x")
    assert both.exit_code == 2 and "refuse each other" in both.output


def test_claim_text_can_come_from_standard_input(review: Review) -> None:
    claim_id = review("claim", "add", input="Typed, not in shell history\n").stdout.strip()
    claims: Any = review.json("claims")
    assert claims == [
        {
            "id": int(claim_id),
            "text": "Typed, not in shell history",
            "status": "unsupported",
            "reliability": "F",
            "credibility": 6,
            "derived_credibility": 6,
            "credibility_overridden": False,
            "override_reason": None,
            "grade": "F6",
            "to_do": ["2 more independent firsthand sources or documents"],
            "independent_groups": 0,
            "threshold": 2,
            "supporting_groups": [],
            "contradicting_groups": [],
            "weak_support_groups": [],
            "weak_contradicting_groups": [],
            "evidence": [],
            "signed_off": [],
            "waiting": [],
        }
    ]
    assert "empty" in review.fails("claim", "add", input="  \n")


def test_the_claims_table_shows_status_and_groups(scenario: Review) -> None:
    output = scenario("claims").stdout
    assert "corroborated" in output and "The director signed the memo" in output
    assert "weak support" in output


def test_the_claims_table_says_how_many_groups_support_and_how_many_are_needed(
    scenario: Review,
) -> None:
    """Issue 19 item 6: the column read 'Independent (of 2)' over a 3."""
    said = " ".join(scenario("claims").stdout.split())  # the table wraps the phrase
    assert "3 independent groups support it; 2 are needed" in said
    assert "(of 2)" not in said
    said = " ".join(scenario("claims", "--threshold", "1").stdout.split())
    assert "3 independent groups support it; 1 is needed" in said


def test_i9_the_claims_table_opens_no_quote(
    scenario: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only `--json` shows evidence, so only it decrypts the sealed quotes."""
    scenario("link", "tA", "1", "--supports", "--basis", "firsthand", "--quote", "in his hand")
    scenario("claim", "add", "The board never met")
    opened: list[str] = []
    open_sealed = WorkspaceKey.open

    def counting(key: WorkspaceKey, sealed: bytes) -> str:
        opened.append(open_sealed(key, sealed))
        return opened[-1]

    monkeypatch.setattr(WorkspaceKey, "open", counting)
    scenario("claims")
    texts = [text for text in opened if not text.startswith("CAIRN-REVIEWER-KEY-")]  # the team's
    assert sorted(texts) == ["The board never met", "The director signed the memo"]
    opened.clear()
    scenario("claims", "--json")
    assert "in his hand" in opened  # the count above would have seen a quote


def quotes(review: Review, tip: str) -> list[str]:
    shown: Any = review.json("show", tip)
    return [found["quote"] for found in shown["links"]]


def test_i9_a_quote_comes_from_standard_input_or_a_file(scenario: Review, tmp_path: Path) -> None:
    review = scenario
    firsthand = ("1", "--supports", "--basis", "firsthand")
    review("link", "tA", *firsthand, "--quote-file", "-", input="I was in the room\n")
    assert quotes(review, "tA") == ["I was in the room"]
    kept = tmp_path / "quote.txt"
    kept.write_text("I held the memo\n", encoding="utf-8")
    review("link", "tB", *firsthand, "--quote-file", str(kept))
    assert quotes(review, "tB") == ["I held the memo"]


def test_i8_a_quote_given_twice_empty_or_not_utf8_changes_nothing(
    scenario: Review, tmp_path: Path
) -> None:
    review = scenario
    review("link", "tA", "1", "--supports", "--basis", "firsthand", "--quote", "kept")
    contradicts = ("link", "tA", "1", "--contradicts", "--basis", "firsthand")
    both = review.run(*contradicts, "--quote", "typed", "--quote-file", "-", input="piped\n")
    assert both.exit_code == 2 and "not both" in both.output
    assert "the quote is empty" in review.fails(*contradicts, "--quote-file", "-", input=" \n")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    assert f"{latin1} is not UTF-8 text" in review.fails(*contradicts, "--quote-file", str(latin1))
    shown: Any = review.json("show", "tA")
    assert [(found["stance"], found["quote"]) for found in shown["links"]] == [("supports", "kept")]


def test_i8_an_unknown_tip_claim_or_source_is_refused_before_the_text_is_read(
    scenario: Review,
) -> None:
    # Were the quote or note read first, each of these would fail as "empty" instead.
    quote = ("--supports", "--quote-file", "-")
    assert "no tip 'zz'" in scenario.fails("link", "zz", "1", *quote, input="")
    assert "no claim 9" in scenario.fails("link", "tA", "9", *quote, input="")
    note = ("--same-person", "--note-file", "-")
    assert "no source 'nobody'" in scenario.fails("relate", "srcA", "nobody", *note, input="")
    assert "the same source" in scenario.fails("relate", "srcA", "srcA", *note, input="")


def reporter_links_a_tip_the_editor_lacks(tmp_path: Path) -> Newsroom:
    """Issue 21: the reporter Ana links claim 1 to tips A, B and C and shares; the editor Ben
    merges, but holds only tips A, B and D."""
    tips = [TipSpec(f"t{s[-1]}", s, f"What {s} says.".encode()) for s in SOURCES]
    room = make_newsroom(tmp_path, ["Ana", "Ben"], [tips[0], tips[1], tips[3]])
    room.bring("Ana", tips[2:3])
    room["Ana"]("claim", "add", "The director signed the memo")
    for tip, basis in (("tA", "firsthand"), ("tB", "firsthand"), ("tC", "document")):
        room["Ana"]("link", tip, "1", "--supports", "--basis", basis)
    room.send("Ana", "Ben")
    return room


def signed_off_column(table: str) -> str:
    """The text of the claims table's last column, its heading and rules left out."""
    rows = [line.split("│")[-2] for line in table.splitlines() if line.startswith("│")]
    return " ".join(" ".join(rows).split())


def test_the_claims_show_links_waiting_for_a_tip_and_who_signed_off(tmp_path: Path) -> None:
    room = reporter_links_a_tip_the_editor_lacks(tmp_path)
    ben = room["Ben"]
    (claim,) = ben.json("claims")
    assert claim["waiting"] == [{"tip": "tC", "stance": "supports", "basis": "document"}]
    assert claim["signed_off"] == []
    said = ben("claims").stdout
    assert "Signed off" in said.splitlines()[1]  # the table's headings
    assert "1 link waits for a tip not imported here yet" in said

    room.bring("Ben", [TipSpec("tC", "srcC", b"What srcC says.")])
    ben("sign-off", str(claim["id"]))
    (claim,) = ben.json("claims")
    assert claim["waiting"] == [] and claim["independent_groups"] == 3
    assert claim["signed_off"] == [{"reviewer": "Ben", "current": True}]
    said = ben("claims").stdout
    assert "waits for a tip" not in said
    assert signed_off_column(said) == "Ben"

    room["Ana"]("link", "tD", "1", "--contradicts", "--basis", "firsthand")
    room.send("Ana", "Ben")
    (claim,) = ben.json("claims")
    assert claim["signed_off"] == [{"reviewer": "Ben", "current": False}]
    assert signed_off_column(ben("claims").stdout) == "Ben (before its evidence changed)"


def test_a_sign_off_given_while_a_link_waits_is_current_for_the_teammate_who_holds_the_tip(
    tmp_path: Path,
) -> None:
    room = reporter_links_a_tip_the_editor_lacks(tmp_path)
    room["Ben"]("sign-off", "1")
    room.send("Ben", "Ana")
    (claim,) = room["Ana"].json("claims")
    assert claim["signed_off"] == [{"reviewer": "Ben", "current": True}]


def test_a_claims_table_without_a_team_has_no_sign_off_column(scenario: Review) -> None:
    assert "Signed off" not in scenario("claims").stdout
