"""The corroboration rules of DESIGN.md, pinned on the pure core by one scripted scenario."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review.corroboration import (
    BASES,
    STANCES,
    Basis,
    ClaimStatus,
    Evidence,
    Group,
    Relation,
    RelationKind,
    Sides,
    Stance,
    Status,
    claim_statuses,
    independence_groups,
    sides_by_claim,
    status_of,
)

SOURCES = ("A", "B", "C", "D", "E")
MEMO = 1  # A firsthand, B firsthand, C document, D secondhand


def memo_evidence() -> list[Evidence]:
    return [
        Evidence(MEMO, "a1", "A", "supports", "firsthand"),
        Evidence(MEMO, "b1", "B", "supports", "firsthand"),
        Evidence(MEMO, "c1", "C", "supports", "document"),
        Evidence(MEMO, "d1", "D", "supports", "secondhand"),
    ]


def claim_status(
    claim: int, evidence: list[Evidence], group_of: dict[str, Group], threshold: int = 2
) -> ClaimStatus:
    return claim_statuses([claim], sides_by_claim(evidence), group_of, threshold)[0]


def memo_status(
    relations: list[Relation], extra: tuple[Evidence, ...] = (), threshold: int = 2
) -> ClaimStatus:
    groups = independence_groups(SOURCES, relations)
    return claim_status(MEMO, [*memo_evidence(), *extra], groups, threshold)


def sorted_groups(status: ClaimStatus, field: str) -> list[list[str]]:
    return [sorted(group) for group in getattr(status, field)]


def test_every_independent_firsthand_or_document_group_counts_and_secondhand_is_weak() -> None:
    status = memo_status([])
    assert status.status == "corroborated"
    assert sorted_groups(status, "supporting") == [["A"], ["B"], ["C"]]
    assert sorted_groups(status, "weak_support") == [["D"]]


def test_a_threshold_above_the_counting_groups_makes_it_partly_corroborated() -> None:
    assert memo_status([], threshold=3).status == "corroborated"
    assert memo_status([], threshold=4).status == "partly-corroborated"


def test_same_person_collapses_two_sources_into_one_group() -> None:
    status = memo_status([Relation("A", "B", "same-person")])
    assert sorted_groups(status, "supporting") == [["A", "B"], ["C"]]
    assert status.status == "corroborated"
    assert memo_status([Relation("A", "B", "same-person")], threshold=3).status == (
        "partly-corroborated"
    )


def test_shared_origin_collapses_too_and_chains_are_transitive() -> None:
    relations = [Relation("A", "B", "same-person"), Relation("B", "C", "shared-origin")]
    status = memo_status(relations)
    assert status.status == "single-source"
    assert sorted_groups(status, "supporting") == [["A", "B", "C"]]
    assert sorted_groups(status, "weak_support") == [["D"]]


def test_weak_support_joined_to_a_counting_group_adds_nothing() -> None:
    relations = [Relation("A", "B", "same-person"), Relation("C", "D", "shared-origin")]
    status = memo_status(relations)
    assert sorted_groups(status, "supporting") == [["A", "B"], ["C", "D"]]
    assert status.weak_support == ()


def test_unrelating_restores_independence() -> None:
    related = [Relation("A", "B", "same-person"), Relation("B", "C", "shared-origin")]
    assert memo_status(related).status == "single-source"
    assert memo_status(related[:1]).status == "corroborated"
    assert sorted_groups(memo_status([]), "supporting") == [["A"], ["B"], ["C"]]


def test_contradiction_from_another_group_disputes_the_claim() -> None:
    against = Evidence(MEMO, "e1", "E", "contradicts", "firsthand")
    status = memo_status([], extra=(against,))
    assert status.status == "disputed"
    assert sorted_groups(status, "contradicting") == [["E"]]


def test_secondhand_contradiction_is_weak_and_disputes_nothing() -> None:
    rumour = Evidence(MEMO, "e1", "E", "contradicts", "secondhand")
    status = memo_status([], extra=(rumour,))
    assert status.status == "corroborated"
    assert sorted_groups(status, "weak_contradiction") == [["E"]]


def test_a_group_that_supports_and_contradicts_disputes_its_own_claim() -> None:
    evidence = [
        Evidence(7, "a1", "A", "supports", "firsthand"),
        Evidence(7, "b1", "B", "contradicts", "document"),
    ]
    groups = independence_groups(["A", "B"], [Relation("A", "B", "same-person")])
    assert claim_status(7, evidence, groups).status == "disputed"


def test_contradiction_alone_and_support_that_does_not_count() -> None:
    groups = independence_groups(SOURCES, [])
    evidence = [
        Evidence(2, "a2", "A", "supports", "secondhand"),
        Evidence(2, "b2", "B", "supports", "secondhand"),
        Evidence(3, "e3", "E", "contradicts", "firsthand"),
        Evidence(3, "a3", "A", "supports", "secondhand"),
        Evidence(4, "a4", "A", "context", "document"),
    ]
    sides = sides_by_claim(evidence)
    assert 4 not in sides  # context counts for nothing
    statuses = {s.claim: s for s in claim_statuses([2, 3, 4, 5], sides, groups)}
    assert statuses[2].status == "unsupported"
    assert sorted_groups(statuses[2], "weak_support") == [["A"], ["B"]]
    assert statuses[3].status == "contradicted"
    assert statuses[4].status == "unsupported"
    assert statuses[5] == ClaimStatus(5, "unsupported", (), (), (), ())


def test_sides_are_the_sources_by_stance_and_whether_their_basis_counts() -> None:
    evidence = [
        Evidence(1, "a1", "A", "supports", "firsthand"),
        Evidence(1, "a2", "A", "supports", "secondhand"),
        Evidence(1, "b1", "B", "supports", "document"),
        Evidence(1, "c1", "C", "contradicts", "secondhand"),
        Evidence(1, "d1", "D", "contradicts", "document"),
        Evidence(1, "e1", "E", "context", "firsthand"),
    ]
    assert sides_by_claim(evidence) == {1: Sides({"A", "B"}, {"A"}, {"D"}, {"C"})}


@pytest.mark.parametrize(
    ("stance", "basis", "field", "other_stance", "other_field", "status"),
    [
        ("contradicts", "firsthand", "contradicting", "supports", "supporting", "disputed"),
        ("contradicts", "document", "contradicting", "supports", "supporting", "disputed"),
        (
            "contradicts",
            "secondhand",
            "weak_contradiction",
            "supports",
            "supporting",
            "single-source",
        ),
        ("supports", "firsthand", "supporting", "contradicts", "contradicting", "disputed"),
        ("supports", "document", "supporting", "contradicts", "contradicting", "disputed"),
        ("supports", "secondhand", "weak_support", "contradicts", "contradicting", "contradicted"),
    ],
)
@pytest.mark.parametrize("kind", ["same-person", "shared-origin"])
@pytest.mark.parametrize("relation", [("A", "B"), ("B", "A")])
def test_two_related_sources_on_one_side_are_one_group_listed_once(
    stance: Stance,
    basis: Basis,
    field: str,
    other_stance: Stance,
    other_field: str,
    status: Status,
    kind: RelationKind,
    relation: tuple[str, str],
) -> None:
    """A and B are one group; both take ``stance`` on ``basis``, and independent C takes the
    other side firsthand. Their group is listed once, on its side, and counted once."""
    groups = independence_groups(["A", "B", "C"], [Relation(*relation, kind)])
    links = [
        Evidence(1, "a1", "A", stance, basis),
        Evidence(1, "b1", "B", stance, basis),
        Evidence(1, "c1", "C", other_stance, "firsthand"),
    ]
    found = claim_status(1, links, groups)
    expected = {field: (frozenset({"A", "B"}),), other_field: (frozenset({"C"}),)}
    assert found == ClaimStatus(
        claim=1,
        status=status,
        supporting=expected.get("supporting", ()),
        contradicting=expected.get("contradicting", ()),
        weak_support=expected.get("weak_support", ()),
        weak_contradiction=expected.get("weak_contradiction", ()),
    )


def test_one_group_counts_once_however_many_of_its_sources_take_a_side() -> None:
    """Three sources of one group supporting firsthand are one voice: single-source, even at a
    threshold of two or three. Contradicting, they are one contradicting group, not three."""
    groups = independence_groups(
        ["A", "B", "C", "D"],
        [Relation("A", "B", "same-person"), Relation("B", "C", "shared-origin")],
    )
    trio = frozenset({"A", "B", "C"})
    support = [Evidence(1, f"{s}1", s, "supports", "firsthand") for s in "ABC"]
    for threshold in (2, 3):
        alone = claim_status(1, support, groups, threshold)
        assert (alone.status, alone.supporting) == ("single-source", (trio,))
    against = [Evidence(1, f"{s}1", s, "contradicts", "document") for s in "CAB"]
    disputed = claim_status(1, [*against, Evidence(1, "d1", "D", "supports", "firsthand")], groups)
    assert disputed.status == "disputed"
    assert (disputed.supporting, disputed.contradicting) == ((frozenset({"D"}),), (trio,))
    contradicted = claim_status(1, against, groups)
    assert (contradicted.status, contradicted.contradicting) == ("contradicted", (trio,))


def test_a_group_is_listed_whole_in_the_order_of_its_smallest_member() -> None:
    groups = independence_groups(SOURCES, [Relation("A", "E", "same-person")])
    links = [
        Evidence(1, "b1", "B", "supports", "firsthand"),
        Evidence(1, "e1", "E", "supports", "firsthand"),
    ]
    status = claim_status(1, links, groups)
    assert status.supporting == (frozenset({"A", "E"}), frozenset({"B"}))


def test_status_table() -> None:
    assert [status_of(n, 0, 3) for n in range(5)] == [
        "unsupported",
        "single-source",
        "partly-corroborated",
        "corroborated",
        "corroborated",
    ]
    assert status_of(0, 1, 2) == "contradicted"
    assert status_of(2, 1, 2) == "disputed"
    assert status_of(1, 0, 1) == "corroborated"  # a threshold of one makes one group enough
    assert status_of(1, 0, 2) == "single-source"  # 1 < N < 2 cannot happen at the default


def connected_components(sources: list[str], pairs: list[tuple[str, str]]) -> set[frozenset[str]]:
    """The naive way: grow each component by search."""
    neighbours: dict[str, set[str]] = {s: set() for s in sources}
    for a, b in pairs:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    seen: set[str] = set()
    components = set()
    for start in neighbours:
        if start in seen:
            continue
        component, frontier = {start}, [start]
        while frontier:
            for other in neighbours[frontier.pop()] - component:
                component.add(other)
                frontier.append(other)
        seen |= component
        components.add(frozenset(component))
    return components


names = st.sampled_from([f"s{i}" for i in range(12)])
relation_lists = st.lists(st.tuples(names, names).filter(lambda p: p[0] != p[1]), max_size=15)
evidence_lists = st.lists(
    st.builds(
        Evidence,
        claim=st.integers(1, 3),
        tip=st.text("abcdef", min_size=1, max_size=4),
        source=names,
        stance=st.sampled_from(STANCES),
        basis=st.sampled_from(BASES),
    ),
    max_size=30,
)


@given(st.lists(names, max_size=12), relation_lists)
def test_groups_are_the_connected_components(
    sources: list[str], pairs: list[tuple[str, str]]
) -> None:
    groups = independence_groups(sources, [Relation(a, b, "same-person") for a, b in pairs])
    assert set(groups.values()) == connected_components(sources, pairs)
    assert all(source in group for source, group in groups.items())


@given(evidence_lists, relation_lists, st.integers(1, 4), st.randoms())
def test_statuses_ignore_order(
    evidence: list[Evidence], pairs: list[tuple[str, str]], threshold: int, rng: random.Random
) -> None:
    relations = [Relation(a, b, "shared-origin") for a, b in pairs]
    before = claim_statuses(
        [1, 2, 3], sides_by_claim(evidence), independence_groups([], relations), threshold
    )
    rng.shuffle(evidence)
    rng.shuffle(relations)
    after = claim_statuses(
        [1, 2, 3], sides_by_claim(evidence), independence_groups([], relations), threshold
    )
    assert [(s.status, s.supporting, s.contradicting) for s in before] == [
        (s.status, s.supporting, s.contradicting) for s in after
    ]


@given(evidence_lists, relation_lists, names, st.sampled_from(["supports", "contradicts"]))
def test_a_secondhand_link_never_changes_a_status(
    evidence: list[Evidence], pairs: list[tuple[str, str]], source: str, stance: Stance
) -> None:
    groups = independence_groups([], [Relation(a, b, "same-person") for a, b in pairs])
    before = claim_status(1, evidence, groups).status
    rumour = Evidence(1, "new", source, stance, "secondhand")
    assert claim_status(1, [*evidence, rumour], groups).status == before


@given(evidence_lists, relation_lists)
def test_groups_are_listed_in_the_order_of_their_sorted_members(
    evidence: list[Evidence], pairs: list[tuple[str, str]]
) -> None:
    """Listings and reports show groups in a stable order: by their members, sorted."""
    groups = independence_groups([], [Relation(a, b, "same-person") for a, b in pairs])
    for status in claim_statuses([1, 2, 3], sides_by_claim(evidence), groups):
        for listed in (status.supporting, status.weak_support, status.weak_contradiction):
            assert list(listed) == sorted(listed, key=sorted)
