"""The workspace's statuses: SQLite gathers each claim's sides, and it must gather exactly what
the pure core does from the same links (``corroboration.sides_by_claim``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, inspect, text, update

from keys import age
from review.assessment import assess, evidence, sides
from review.assessment import statuses as statuses_of
from review.corroboration import (
    BASES,
    STANCES,
    Evidence,
    Relation,
    claim_statuses,
    independence_groups,
    sides_by_claim,
)
from review.models import SET_ASIDE, TIP_STATUSES, Claim, Import, Link, Source, Tip
from review.models import Relation as RelationRow
from review.workspace import Workspace

SOURCES = [f"s{n}" for n in range(6)]
TIPS = {f"t{n}": SOURCES[n % len(SOURCES)] for n in range(12)}  # tip -> its source
CLAIMS = [1, 2, 3]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root: Path = tmp_path_factory.mktemp("assessment") / "workspace"
    with Workspace.open(root, age.X25519Identity.generate()) as opened:
        session = opened.session
        session.execute(insert(Source), [{"id": s, "pseudonym": f"P-{s}"} for s in SOURCES])
        session.execute(insert(Import), [{"id": 1, "bundle": "b.tar", "summaries": b""}])
        session.execute(
            insert(Tip),
            [
                {"id": tip, "source_id": source, "kind": "message", "day": "2025-03-01"}
                | {"size": 1, "sha256": "0" * 64, "import_id": 1}
                for tip, source in TIPS.items()
            ],
        )
        text = opened.seal("a claim")
        session.execute(insert(Claim), [{"id": claim, "text": text} for claim in CLAIMS])
        yield opened


def replace_links_and_relations(
    workspace: Workspace,
    links: list[Evidence],
    relations: list[Relation],
    statuses: dict[str, str] | None = None,
) -> None:
    session = workspace.session
    session.execute(update(Tip).values(status="new"))
    for tip, status in (statuses or {}).items():
        session.execute(update(Tip).where(Tip.id == tip).values(status=status))
    session.execute(delete(Link))
    session.execute(delete(RelationRow))
    if links:
        session.execute(
            insert(Link),
            [
                {"tip_id": e.tip, "claim_id": e.claim, "stance": e.stance, "basis": e.basis}
                for e in links
            ],
        )
    if relations:
        session.execute(
            insert(RelationRow),
            [{"source_a": r.a, "source_b": r.b, "kind": r.kind} for r in relations],
        )
    session.flush()


link_lists = st.dictionaries(
    st.tuples(st.sampled_from(CLAIMS), st.sampled_from(sorted(TIPS))),  # a link's key
    st.tuples(st.sampled_from(STANCES), st.sampled_from(BASES)),
    max_size=30,
).map(
    lambda found: [
        Evidence(claim, tip, TIPS[tip], stance, basis)
        for (claim, tip), (stance, basis) in found.items()
    ]
)
relation_lists = st.dictionaries(
    st.tuples(st.sampled_from(SOURCES), st.sampled_from(SOURCES))
    .filter(lambda pair: pair[0] < pair[1])
    .map(tuple),
    st.sampled_from(["same-person", "shared-origin"]),
    max_size=5,
).map(lambda found: [Relation(a, b, kind) for (a, b), kind in found.items()])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    links=link_lists,
    relations=relation_lists,
    statuses=st.dictionaries(st.sampled_from(sorted(TIPS)), st.sampled_from(TIP_STATUSES)),
    threshold=st.integers(1, 4),
)
def test_statuses_from_the_database_are_the_pure_cores(
    workspace: Workspace,
    links: list[Evidence],
    relations: list[Relation],
    statuses: dict[str, str],
    threshold: int,
) -> None:
    links = [link._replace(counted=statuses.get(link.tip) not in SET_ASIDE) for link in links]
    replace_links_and_relations(workspace, links, relations, statuses)
    expected_sides = sides_by_claim(links)
    assert {claim: tuple(map(set, found)) for claim, found in sides(workspace).items()} == {
        claim: tuple(found) for claim, found in expected_sides.items()
    }
    groups = independence_groups(SOURCES, relations)
    assert statuses_of(workspace, threshold) == claim_statuses(
        CLAIMS, expected_sides, groups, threshold
    )
    assert sorted(evidence(workspace)) == sorted(links)


def test_a_tip_set_aside_is_shown_but_counts_for_nothing(workspace: Workspace) -> None:
    """Two independent firsthand sources corroborate a claim; once the reviewer marks one of
    the tips spam (or discards it) the claim rests on one source, and its link is shown as not
    counted, not as context or weak support."""
    links = [
        Evidence(1, "t0", "s0", "supports", "firsthand"),
        Evidence(1, "t1", "s1", "supports", "document"),
        Evidence(2, "t1", "s1", "contradicts", "firsthand"),
    ]
    replace_links_and_relations(workspace, links, [])
    counted = ["corroborated", "contradicted", "unsupported"]
    assert [view.status for view in assess(workspace, 2)] == counted
    for status in SET_ASIDE:
        replace_links_and_relations(workspace, links, [], {"t1": status})
        first, second, _ = assess(workspace, 2)
        assert (first.status, second.status) == ("single-source", "unsupported")
        assert [(e.tip, e.counted) for e in first.evidence] == [("t0", True), ("t1", False)]
        assert first.supporting == (("P-s0",),) and not first.weak_support
        assert [(e.tip, e.counted) for e in second.evidence] == [("t1", False)]


def test_a_listing_without_evidence_reads_none(workspace: Workspace) -> None:
    link = Evidence(1, "t0", "s0", "supports", "firsthand")
    replace_links_and_relations(workspace, [link], [])
    with_evidence, without = assess(workspace, 2), assess(workspace, 2, with_evidence=False)
    assert [[e.tip for e in view.evidence] for view in with_evidence] == [["t0"], [], []]
    assert [view.evidence for view in without] == [(), (), ()]
    assert [view.status for view in with_evidence] == [view.status for view in without]


def test_a_workspace_made_before_an_index_was_added_gets_it_when_opened(tmp_path: Path) -> None:
    identity = age.X25519Identity.generate()
    with Workspace.open(tmp_path / "workspace", identity) as opened:
        opened.session.execute(text("DROP INDEX links_by_claim"))
    with Workspace.open(tmp_path / "workspace", identity) as reopened:
        indexes = inspect(reopened.session.connection()).get_indexes("links")
    assert [index["column_names"] for index in indexes if index["name"] == "links_by_claim"] == [
        ["claim_id", "tip_id", "stance", "basis"]
    ]
