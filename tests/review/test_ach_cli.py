"""Competing hypotheses through the command line: hypotheses, marks, and `review ach --json`
ranking them with independence weighting (docs/design.md, "Competing hypotheses")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from keys.signing import SigningKey
from tests.support.review import Review, Reviewer, TipSpec, make_bundle

SOURCES = ("srcA", "srcB", "srcC")


def test_hypotheses_marks_and_the_ranking_weighted_by_independence(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    tips = [TipSpec(f"t{s[-1]}", s, f"What {s} says.".encode()) for s in SOURCES]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    for text in ("The van left at night", "The guard was away", "The alarm rang"):
        review("claim", "add", text)
    # Claims 1 and 2 against the insider theory come from A and B; claim 3 against the
    # outsider theory from C.
    for tip, claim in (("tA", "1"), ("tB", "2"), ("tC", "3")):
        review("link", tip, claim, "--supports", "--basis", "firsthand")
    assert review("hypothesis", "add", "An insider did it").stdout.strip() == "1"
    assert review("hypothesis", "add", input="An outsider did it\n").stdout.strip() == "2"
    review("ach", "mark", "1", "1", "--inconsistent", "--reason-file", "-", input="keys\n")
    review("ach", "mark", "1", "2", "--inconsistent")
    review("ach", "mark", "2", "3", "--strongly-inconsistent")
    review("ach", "mark", "2", "1", "--consistent")
    review("ach", "mark", "1", "3", "--neutral")

    found: Any = review.json("ach")
    ranked = [(h["id"], h["score"], h["rank"]) for h in found["hypotheses"]]
    assert ranked == [(1, 2, 1), (2, 2, 1)]  # A and B independent: 1 + 1 against H1; 2 against H2
    assert found["sensitive"] == [1, 2, 3] and found["not_diagnostic"] == []
    reasons = {(m["hypothesis"], m["claim"]): m["reason"] for m in found["marks"]}
    assert reasons[1, 1] == "keys" and reasons[2, 3] == ""

    review("relate", "srcA", "srcB", "--same-person")  # now claims 1 and 2 count once
    found = review.json("ach")
    assert [(h["id"], h["score"]) for h in found["hypotheses"]] == [(1, 1), (2, 2)]
    assert [h["text"] for h in found["hypotheses"]] == ["An insider did it", "An outsider did it"]
    assert found["sensitive"] == [3]  # without 1 or 2 alone, the group still counts once

    shown = review("ach").stdout
    assert "1. H1 (inconsistency 1): An insider did it" in shown and "II" in shown

    review("hypothesis", "edit", "2", "Someone from outside")
    assert "with 3 marks" in review("hypothesis", "remove", "1").stdout
    assert [h["id"] for h in review.json("ach")["hypotheses"]] == [2]
    assert "no hypothesis 1" in review.fails("ach", "mark", "1", "1", "--consistent")
    assert "no claim 9" in review.fails("ach", "mark", "2", "9", "--consistent")
    both = review.run("ach", "mark", "2", "1", "--consistent", "--inconsistent")
    assert both.exit_code == 2 and "refuse each other" in both.output
