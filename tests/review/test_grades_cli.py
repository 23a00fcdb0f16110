"""Admiralty grades and to-dos through the command line: `review sources grade`, `review claim
credibility`, `review sources grades` and what `review claims --json` says of each claim."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from keys.signing import SigningKey
from tests.support.review import Review, Reviewer, TipSpec, make_bundle

SOURCES = ("srcA", "srcB", "srcC")


def _claims(review: Review) -> dict[int, Any]:
    found: Any = review.json("claims")
    return {claim["id"]: claim for claim in found}


def _names(review: Review) -> dict[str, str]:
    found: Any = review.json("sources")
    return {source["id"]: source["pseudonym"] for source in found}


def test_grades_credibility_overrides_track_records_and_to_dos(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    tips = [TipSpec(f"t{s[-1]}", s, f"What {s} says.".encode()) for s in SOURCES]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    for text in ("Two saw it", "One saw it", "They disagree"):
        review("claim", "add", text)
    for tip, claim in (("tA", "1"), ("tB", "1"), ("tA", "2"), ("tA", "3")):
        review("link", tip, claim, "--supports", "--basis", "firsthand")
    review("link", "tC", "3", "--contradicts", "--basis", "firsthand")
    name = _names(review)
    a, b, c = (name[s] for s in SOURCES)

    claims = _claims(review)
    assert [claims[i]["grade"] for i in (1, 2, 3)] == ["F1", "F3", "F4"]  # F until graded

    grading = ("sources", "grade", a, "B", "--note-file", "-", "--json")
    graded = json.loads(review(*grading, input="right twice before\n").stdout)
    assert graded == {"source": a, "reliability": "B", "previous": "F"}
    review("sources", "grade", b, "C")
    assert {s["pseudonym"]: s["reliability"] for s in review.json("sources")}[c] == "F"
    claims = _claims(review)
    assert [claims[i]["grade"] for i in (1, 2, 3)] == ["B1", "B3", "B4"]
    assert (claims[2]["reliability"], claims[2]["credibility"]) == ("B", 3)
    assert claims[1]["to_do"] == []
    assert claims[2]["to_do"] == [
        f"one more independent firsthand source or a document outside {a}"
    ]
    assert claims[3]["to_do"][0].startswith(f"resolve the contradiction from {c}:")

    review("claim", "credibility", "2", "2", "--reason-file", "-", input="the ledger agrees\n")
    claim = _claims(review)[2]
    assert (claim["grade"], claim["credibility"], claim["derived_credibility"]) == ("B2*", 2, 3)
    assert claim["credibility_overridden"] and claim["override_reason"] == "the ledger agrees"
    listed = review("claims").stdout
    assert "B2*" in listed and "overridden" in listed
    review("claim", "credibility", "2", "--derived")
    assert _claims(review)[2]["grade"] == "B3"
    assert "not overridden" in review.fails("claim", "credibility", "2", "--derived")
    refused = review.run("claim", "credibility", "2", "7", "--reason", "x")
    assert refused.exit_code == 2 and "1<=x<=6" in refused.stderr
    assert "no source" in review.fails("sources", "grade", "nobody", "A", "--note", "x")

    records: Any = review.json("sources", "grades")
    record = {found["source"]: found for found in records}[a]
    assert record["record"] == {"supported": 3, "corroborated": 1, "contradicted": 1}
    assert record["reliability"] == "B" and record["suggestion"] is None
    assert "Firsthand claims" in review("sources", "grades").stdout
    assert "right twice before" in [r["note"] for r in records]
