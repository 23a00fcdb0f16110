"""Sources: pseudonyms, relations, and suggested shared origins."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from keys.signing import SigningKey
from keys.workspace_key import WorkspaceKey
from review.pseudonyms import ADJECTIVES, NOUNS, PLAIN_ATTEMPTS, candidates, pseudonym_for
from review.suggest import TipSignals, shingles, suggest
from tests.support.review import Review, Reviewer, TipSpec, make_bundle

MEMO = (
    "On the third of March the finance director signed the procurement memo in the back "
    "office and told the clerk to file it under last year's budget."
)
TIPS = [
    TipSpec("a1", "srcA", MEMO.encode()),
    TipSpec("b1", "srcB", ("Forwarding what I heard. " + MEMO.upper()).encode()),
    TipSpec("c1", "srcC", b"The canteen is closing in May and nobody was asked about it."),
    TipSpec("c2", "srcC", b"%PDF-1.4 scan", kind="file", name="scan.pdf"),
    TipSpec("d1", "srcD", b"%PDF-1.4 scan", kind="file", name="other-name.pdf"),
]


@pytest.fixture
def sourced(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> Review:
    bundle = make_bundle(tmp_path / "b.tar", server, TIPS, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    return review


def by_id(review: Review) -> dict[str, dict[str, Any]]:
    sources: Any = review.json("sources")
    return {source["id"]: source for source in sources}


def test_word_lists_give_one_word_per_byte() -> None:
    for words in (ADJECTIVES, NOUNS):
        assert len(words) == len(set(words)) == 256
        assert all(re.fullmatch(r"[a-z]+", word) for word in words)
    assert not set(ADJECTIVES) & set(NOUNS)


def test_pseudonyms_are_stable_keyed_and_never_shared() -> None:
    key, other_key = WorkspaceKey.generate(), WorkspaceKey.generate()
    first = pseudonym_for(key, "srcA", set())
    assert first == pseudonym_for(key, "srcA", set()) == next(candidates(key, "srcA"))
    assert re.fullmatch(r"[a-z]+-[a-z]+", first)
    others = [pseudonym_for(other_key, f"src{i}", set()) for i in range(5)]
    assert others != [pseudonym_for(key, f"src{i}", set()) for i in range(5)]
    assert pseudonym_for(key, "srcA", {first}) != first
    taken = set(itertools.islice(candidates(key, "srcA"), PLAIN_ATTEMPTS))
    assert pseudonym_for(key, "srcA", taken).endswith(f"-{PLAIN_ATTEMPTS}")


def test_sources_lists_pseudonyms_tips_and_groups(sourced: Review) -> None:
    sources = by_id(sourced)
    assert sorted(sources) == ["srcA", "srcB", "srcC", "srcD"]
    assert sources["srcC"]["tips"] == ["c1", "c2"]
    assert len({s["pseudonym"] for s in sources.values()}) == 4
    assert all(s["group"] == [s["pseudonym"]] for s in sources.values())
    assert by_id(sourced) == sources, "pseudonyms do not change between commands"
    assert "independent" in sourced("sources").stdout
    assert (sources["srcC"]["messages"], sources["srcC"]["files"]) == (1, 1)
    assert "2 tips (1 message, 1 file)" in sourced("sources").stdout


def test_relate_and_unrelate_by_pseudonym_or_id(sourced: Review) -> None:
    names = {sid: s["pseudonym"] for sid, s in by_id(sourced).items()}
    spoken = names["srcB"].replace("-", " ").title()
    sourced("relate", names["srcA"], spoken, "--same-person", "--note", "same phrasing")
    sourced("relate", "srcC", "srcB", "--shared-origin")
    sources = by_id(sourced)
    trio = sorted([names["srcA"], names["srcB"], names["srcC"]])
    assert sources["srcA"]["group"] == sources["srcC"]["group"] == trio
    assert sources["srcA"]["relations"] == [
        {"source": names["srcB"], "kind": "same-person", "note": "same phrasing"}
    ]
    sourced("relate", "srcB", "srcA", "--shared-origin")  # again: replaces the kind and note
    assert by_id(sourced)["srcA"]["relations"] == [
        {"source": names["srcB"], "kind": "shared-origin", "note": ""}
    ]
    sourced("unrelate", "srcA", "srcB")
    assert by_id(sourced)["srcA"]["group"] == [names["srcA"]]
    assert "are not related" in sourced.fails("unrelate", "srcA", "srcB")
    assert "the same source" in sourced.fails("relate", "srcA", names["srcA"], "--same-person")
    result = sourced.run("relate", "srcA", "srcB")
    assert result.exit_code == 2 and "--same-person or --shared-origin" in result.output


def test_relation_kinds_refuse_each_other(sourced: Review) -> None:
    """As with a link's stances (issue 19 item 1): the last flag given never silently wins."""
    result = sourced.run("relate", "srcA", "srcB", "--same-person", "--shared-origin")
    assert result.exit_code == 2
    assert "--same-person and --shared-origin refuse each other" in result.output
    assert all(not source["relations"] for source in sourced.json("sources"))


def test_i9_a_relation_note_comes_from_standard_input_or_a_file(
    sourced: Review, tmp_path: Path
) -> None:
    names = {sid: s["pseudonym"] for sid, s in by_id(sourced).items()}
    sourced("relate", "srcA", "srcB", "--same-person", "--note-file", "-", input="same typo\n")
    kept = tmp_path / "why.txt"
    kept.write_text("one leaked memo", encoding="utf-8")
    sourced("relate", "srcC", "srcD", "--shared-origin", "--note-file", str(kept))
    sources = by_id(sourced)
    assert sources["srcA"]["relations"] == [
        {"source": names["srcB"], "kind": "same-person", "note": "same typo"}
    ]
    assert sources["srcC"]["relations"] == [
        {"source": names["srcD"], "kind": "shared-origin", "note": "one leaked memo"}
    ]
    both = sourced.run("relate", "srcA", "srcB", "--same-person", "--note", "x", "--note-file", "-")
    assert both.exit_code == 2 and "not both" in both.output


def test_suggest_finds_copied_text_and_identical_files_across_groups(sourced: Review) -> None:
    names = {sid: s["pseudonym"] for sid, s in by_id(sourced).items()}
    suggestions: Any = sourced.json("suggest")
    pairs = {frozenset(s["sources"]): s for s in suggestions}
    assert set(pairs) == {
        frozenset({names["srcA"], names["srcB"]}),
        frozenset({names["srcC"], names["srcD"]}),
    }
    text = pairs[frozenset({names["srcA"], names["srcB"]})]
    assert text["evidence"] == [{"kind": "near-duplicate text", "tips": ["a1", "b1"], "score": 1.0}]
    files = pairs[frozenset({names["srcC"], names["srcD"]})]
    assert files["evidence"] == [
        {"kind": "identical attachment", "tips": ["c2", "d1"], "score": 1.0}
    ]
    assert files["accept"].endswith("--shared-origin")

    sourced(*files["accept"].split()[1:])  # accepting a suggestion is a plain `review relate`
    remaining: Any = sourced.json("suggest")
    assert [frozenset(s["sources"]) for s in remaining] == [frozenset(text["sources"])]


def test_shingles_ignore_case_punctuation_and_short_texts() -> None:
    assert shingles("One two three") == frozenset()
    assert shingles("One, TWO three four!") == {"one two three four"}


def test_suggest_needs_enough_shared_text() -> None:
    base = "the minister met the contractor twice before the tender was even announced"
    tips = [
        TipSignals("t1", "A", text=base),
        TipSignals("t2", "B", text=base.replace("twice", "once")),  # a word changed
        TipSignals("t3", "C", text="I heard the minister met the contractor, nothing more"),
        TipSignals("t4", "D", text=base + " " + "unrelated words follow here " * 20),
    ]
    groups = {s: frozenset({s}) for s in "ABCD"}
    found = {suggestion.sources: suggestion for suggestion in suggest(tips, groups)}
    assert set(found) == {("A", "B"), ("A", "D"), ("B", "D")}
    assert found[("A", "B")].clues[0].score == pytest.approx(5 / 9, abs=0.001)  # 5 of 9 survive
    assert found[("A", "D")].clues[0].score == 1.0  # all of the shorter one, pasted
    same_group = {"A": frozenset("AB"), "B": frozenset("AB"), "C": frozenset("C")}
    assert suggest(tips[:3], same_group) == []
