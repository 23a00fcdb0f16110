"""ACH scoring on hand-worked examples (docs/design.md, "Competing hypotheses"): independence
weighting, diagnosticity and sensitivity."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from review.ach import MARKS, rank

H1, H2, H3 = 1, 2, 3


def test_each_mark_weighs_as_the_formula_says() -> None:
    groups = {10: ["G1"], 11: ["G2"], 12: ["G3"], 13: ["G4"], 14: ["G5"]}
    marks = {(H1, 10 + i): mark for i, mark in enumerate(MARKS)}
    found = rank([H1, H2], marks, groups)
    assert found.scores == {H1: 0 + 0 + 0 + 1 + 2, H2: 0}
    assert found.order == (H2, H1) and found.ranks == {H1: 2, H2: 1}


def test_two_claims_from_one_group_count_once_and_from_two_groups_twice() -> None:
    # c1 and c2 strongly against H1; c3 strongly and c4 mildly against H2, from G3 and G4.
    marks = {
        (H1, 1): "strongly-inconsistent",
        (H1, 2): "strongly-inconsistent",
        (H2, 3): "strongly-inconsistent",
        (H2, 4): "inconsistent",
    }
    one_group = rank([H1, H2], marks, {1: ["G1"], 2: ["G1"], 3: ["G3"], 4: ["G4"]})
    assert one_group.scores == {H1: 2, H2: 3}  # max(2, 2) for G1; 2 + 1
    assert one_group.order == (H1, H2)
    two_groups = rank([H1, H2], marks, {1: ["G1"], 2: ["G2"], 3: ["G3"], 4: ["G4"]})
    assert two_groups.scores == {H1: 4, H2: 3}  # 2 + 2
    assert two_groups.order == (H2, H1)


def test_a_claim_counts_once_per_supporting_group_and_unsupported_weighs_nothing() -> None:
    marks = {(H1, 1): "inconsistent", (H2, 2): "strongly-inconsistent", (H3, 3): "inconsistent"}
    found = rank([H1, H2, H3], marks, {1: ["G1", "G2", "G3"], 2: ["G4"]})
    assert found.scores == {H1: 3, H2: 2, H3: 0}  # one-group 'strongly' < three-group 'mildly'
    assert found.order == (H3, H2, H1) and found.weightless == (3,)
    assert found.ranks == {H3: 1, H2: 2, H1: 3}


def test_ties_share_a_rank() -> None:
    found = rank(
        [H1, H2, H3], {(H1, 1): "inconsistent", (H2, 2): "inconsistent"}, {1: ["G"], 2: ["F"]}
    )
    assert found.ranks == {H3: 1, H1: 2, H2: 2} and found.order == (H3, H1, H2)


def test_evidence_bearing_equally_on_every_hypothesis_is_not_diagnostic() -> None:
    marks = {
        (H1, 1): "consistent",
        (H2, 1): "strongly-consistent",  # consistent with both: no inconsistency either way
        (H1, 2): "inconsistent",
        (H2, 2): "inconsistent",  # against both alike
        (H1, 3): "inconsistent",  # against H1 only (H2 unmarked: neutral)
    }
    found = rank([H1, H2], marks, {1: ["G1"], 2: ["G2"], 3: ["G3"]})
    assert found.not_diagnostic == (1, 2)


def test_sensitive_claims_are_those_whose_removal_alone_changes_the_ranks() -> None:
    marks = {
        (H1, 1): "strongly-inconsistent",  # G1: H1's only weight; without it H1 ties H2
        (H2, 2): "inconsistent",  # G2
        (H2, 3): "inconsistent",  # G2 again: removing 2 or 3 alone leaves G2's 1
        (H1, 4): "inconsistent",  # G1, weaker than claim 1: removing it changes nothing
    }
    found = rank([H1, H2], marks, {1: ["G1"], 2: ["G2"], 3: ["G2"], 4: ["G1"]})
    assert found.scores == {H1: 2, H2: 1}
    assert found.sensitive == (1,)


HYPOTHESES = (1, 2, 3)
CLAIMS = (10, 11, 12, 13)
GROUPS = ("G1", "G2", "G3")


@given(
    st.dictionaries(
        st.tuples(st.sampled_from(HYPOTHESES), st.sampled_from(CLAIMS)), st.sampled_from(MARKS)
    ),
    st.dictionaries(st.sampled_from(CLAIMS), st.lists(st.sampled_from(GROUPS), unique=True)),
)
def test_sensitivity_agrees_with_ranking_again_without_each_claim(
    marks: dict[tuple[int, int], str], groups: dict[int, list[str]]
) -> None:
    found = rank(HYPOTHESES, marks, groups)
    marked = {claim for _, claim in marks}
    for claim in marked:
        without = {key: mark for key, mark in marks.items() if key[1] != claim}
        changed = rank(HYPOTHESES, without, groups).ranks != found.ranks
        assert changed == (claim in found.sensitive), claim


@given(
    st.dictionaries(
        st.tuples(st.sampled_from(HYPOTHESES), st.sampled_from(CLAIMS)), st.sampled_from(MARKS)
    ),
    st.dictionaries(st.sampled_from(CLAIMS), st.lists(st.sampled_from(GROUPS), unique=True)),
    st.sampled_from(CLAIMS),
    st.sampled_from(GROUPS),
)
def test_a_claim_losing_a_supporting_group_never_weighs_more(
    marks: dict[tuple[int, int], str], groups: dict[int, list[str]], claim: int, group: str
) -> None:
    before = rank(HYPOTHESES, marks, groups).scores
    fewer = {c: [g for g in found if (c, g) != (claim, group)] for c, found in groups.items()}
    after = rank(HYPOTHESES, marks, fewer).scores
    assert all(after[h] <= before[h] for h in HYPOTHESES)
