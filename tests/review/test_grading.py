"""Admiralty grades and what would settle a claim: every mapping of docs/design.md's "Grades",
on hand-worked examples, and the promise that losing support never raises a grade."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.corroboration import (
    BASES,
    Evidence,
    claim_statuses,
    independence_groups,
    sides_by_claim,
)
from review.grading import (
    RELIABILITIES,
    TrackRecord,
    credibility,
    grade,
    reliability,
    to_do,
    track_records,
)


@pytest.mark.parametrize(
    ("status", "weak", "expected"),
    [
        ("corroborated", 0, 1),
        ("corroborated", 1, 1),
        ("partly-corroborated", 0, 2),
        ("single-source", 1, 2),
        ("single-source", 0, 3),
        ("disputed", 0, 4),
        ("disputed", 2, 4),
        ("contradicted", 0, 5),
        ("unsupported", 0, 6),
        ("unsupported", 3, 6),
    ],
)
def test_credibility_follows_the_status_and_weak_support(
    status: str, weak: int, expected: int
) -> None:
    assert credibility(status, weak) == expected


def test_reliability_is_the_best_counting_supporters_grade_and_f_without_one() -> None:
    grades = {"amber": "C", "birch": "B", "cedar": "E"}
    assert reliability(["amber", "birch", "cedar"], grades) == "B"
    assert reliability(["cedar", "dune"], grades) == "E"  # dune is ungraded: F, worse than E
    assert reliability(["dune"], grades) == "F"
    assert reliability([], grades) == "F"


def test_a_grade_reads_as_analysts_write_it_and_shows_an_override() -> None:
    derived = grade("single-source", 0, ["amber"], {"amber": "B"})
    assert (derived.text, derived.overridden, derived.derived) == ("B3", False, 3)
    overridden = grade("single-source", 0, ["amber"], {"amber": "B"}, (2, "seen the ledger"))
    assert (overridden.text, overridden.credibility, overridden.derived) == ("B2*", 2, 3)
    assert overridden.as_json()["override_reason"] == "seen the ledger"


def test_track_record_counts_settled_firsthand_claims_and_only_suggests() -> None:
    status_of = {
        1: "corroborated",
        2: "disputed",
        3: "contradicted",
        4: "disputed",
        5: "single-source",
    }
    records = track_records(
        [("amber", 1), ("amber", 2), ("amber", 3), ("amber", 4), ("amber", 5), ("birch", 1)],
        status_of,
    )
    assert records["amber"] == TrackRecord(supported=5, corroborated=1, contradicted=3)
    assert records["amber"].suggestion("B") == "3 of 4 settled firsthand claims were contradicted"
    assert records["amber"].suggestion("E") is None  # already graded unreliable
    assert records["birch"].suggestion("F") is None  # one settled claim is too few to say
    good = TrackRecord(supported=3, corroborated=3, contradicted=0)
    assert good.suggestion("F") == "3 of 3 settled firsthand claims were corroborated"
    assert good.suggestion("A") is None


def test_to_do_names_the_evidence_and_the_groups() -> None:
    g1, g2, g3 = ("amber", "birch"), ("cedar",), ("dune",)
    assert to_do("corroborated", 2, [g1, g2], [], []) == ()
    assert to_do("single-source", 2, [g1], [], []) == (
        "one more independent firsthand source or a document outside amber + birch",
    )
    assert to_do("single-source", 3, [g1], [], [g2]) == (
        "a firsthand account or document from cedar (its support is secondhand)",
        "2 more independent firsthand sources or documents outside amber + birch",
    )
    assert to_do("disputed", 2, [g1], [g3], []) == (
        "resolve the contradiction from dune: a firsthand account or document that explains or "
        "refutes it",
    )
    assert to_do("contradicted", 2, [], [g3], []) == (
        "resolve the contradiction from dune: a firsthand account or document that explains or "
        "refutes it",
        "one more independent firsthand source or a document",
    )
    assert to_do("unsupported", 2, [], [], []) == (
        "2 more independent firsthand sources or documents",
    )
    assert to_do("unsupported", 1, [], [], []) == (
        "one more independent firsthand source or a document",
    )


SOURCES = ("amber", "birch", "cedar", "dune")
links = st.lists(
    st.tuples(
        st.sampled_from(SOURCES),
        st.sampled_from(("supports", "contradicts", "context")),
        st.sampled_from(BASES),
    ),
    max_size=8,
)


def _grade_rank(
    links: list[tuple[str, str, str]], grades: dict[str, str], threshold: int
) -> tuple[int, int]:
    evidence = [
        Evidence(1, f"t{i}", source, stance, basis)  # type: ignore[arg-type]
        for i, (source, stance, basis) in enumerate(links)
    ]
    sides = sides_by_claim(evidence)
    (status,) = claim_statuses([1], sides, independence_groups(SOURCES, []), threshold)
    supporters = sides[1].supports if 1 in sides else ()
    found = grade(status.status, len(status.weak_support), supporters, grades)
    return RELIABILITIES.index(found.reliability), found.credibility


@given(
    links,
    st.dictionaries(st.sampled_from(SOURCES), st.sampled_from(RELIABILITIES)),
    st.integers(1, 3),
    st.data(),
)
def test_removing_a_supporting_link_never_raises_a_grade(
    found: list[tuple[str, str, str]], grades: dict[str, str], threshold: int, data: st.DataObject
) -> None:
    supporting = [i for i, (_, stance, _) in enumerate(found) if stance == "supports"]
    if not supporting:
        return
    gone = data.draw(st.sampled_from(supporting))
    before = _grade_rank(found, grades, threshold)
    after = _grade_rank(found[:gone] + found[gone + 1 :], grades, threshold)
    assert after[0] >= before[0]  # reliability: A best, F worst
    assert after[1] >= before[1]  # credibility: 1 best, 6 worst
