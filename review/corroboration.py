"""Which claims stand: independence groups and claim statuses, exactly as DESIGN.md defines them.

Sources joined by same-person or shared-origin relations form one independence group (union-find).
A group counts for a claim when it supports it with at least one firsthand or document link; a
group whose support is only secondhand is weak: shown, never counted. Contradiction follows the
same rule, so a secondhand rumour against a claim is shown as a weak contradiction and does not
dispute it. With N counting groups and threshold T:

    corroborated         N >= T, no contradicting group
    partly-corroborated  1 < N < T, no contradicting group
    single-source        N = 1, no contradicting group
    disputed             N >= 1 and a contradicting group (any, even one that also supports)
    contradicted         contradicting groups only
    unsupported          nothing that counts, weak links aside

A link from a tip the reviewer set aside (discarded it, or marked it spam) is shown but counts
for nothing, not even as weak or context: judging a tip worthless withdraws what it said.

Pure: plain values in, plain values out; no database, no terminal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple, get_args

Stance = Literal["supports", "contradicts", "context"]
Basis = Literal["firsthand", "secondhand", "document"]
RelationKind = Literal["same-person", "shared-origin"]
Status = Literal[
    "corroborated",
    "partly-corroborated",
    "single-source",
    "disputed",
    "contradicted",
    "unsupported",
]
STANCES: tuple[Stance, ...] = get_args(Stance)
BASES: tuple[Basis, ...] = get_args(Basis)
RELATION_KINDS: tuple[RelationKind, ...] = get_args(RelationKind)
COUNTING_BASES: frozenset[Basis] = frozenset({"firsthand", "document"})
DEFAULT_THRESHOLD = 2

Group = frozenset[str]


class Relation(NamedTuple):
    a: str
    b: str
    kind: RelationKind


class Evidence(NamedTuple):
    """One link: tip ``tip`` from ``source`` takes ``stance`` on ``claim`` on ``basis``; it does
    not count when the tip was set aside.

    A named tuple, not a dataclass: there are tens of thousands, made in one go.
    """

    claim: int
    tip: str
    source: str
    stance: Stance
    basis: Basis
    counted: bool = True


class Sides(NamedTuple):
    """The sources behind one claim's links, by stance and by whether their basis counts: all a
    status depends on. Context links count for nothing, so they are not here."""

    supports: Collection[str]  # firsthand or document
    supports_secondhand: Collection[str]
    contradicts: Collection[str]
    contradicts_secondhand: Collection[str]


NO_SIDES = Sides((), (), (), ())


@dataclass(frozen=True)
class ClaimStatus:
    claim: int
    status: Status
    supporting: tuple[Group, ...]
    contradicting: tuple[Group, ...]
    weak_support: tuple[Group, ...]
    weak_contradiction: tuple[Group, ...]


def independence_groups(sources: Iterable[str], relations: Iterable[Relation]) -> dict[str, Group]:
    """Each source's independence group: the sources it is joined to by any chain of relations."""
    parent = {source: source for source in sources}

    def find(source: str) -> str:
        parent.setdefault(source, source)
        while parent[source] != source:
            parent[source] = parent[parent[source]]
            source = parent[source]
        return source

    for relation in relations:
        parent[find(relation.a)] = find(relation.b)
    members: dict[str, set[str]] = defaultdict(set)
    for source in list(parent):
        members[find(source)].add(source)
    groups = [frozenset(group) for group in members.values()]
    return {source: group for group in groups for source in group}


def status_of(counting: int, contradicting: int, threshold: int) -> Status:
    """The status for ``counting`` supporting and ``contradicting`` contradicting groups."""
    if contradicting:
        return "disputed" if counting else "contradicted"
    if counting >= threshold:
        return "corroborated"
    if counting > 1:
        return "partly-corroborated"
    return "single-source" if counting == 1 else "unsupported"


def sides_by_claim(evidence: Iterable[Evidence]) -> dict[int, Sides]:
    """Each linked claim's sides. The workspace computes the same in SQLite
    (``review.assessment.sides``), and a test holds it to this."""
    found: dict[int, dict[str, set[str]]] = {}
    for claim, _tip, source, stance, basis, counted in evidence:
        if counted and stance != "context":
            side = stance if basis in COUNTING_BASES else f"{stance}_secondhand"  # a Sides field
            if claim not in found:
                found[claim] = {field: set() for field in Sides._fields}
            found[claim][side].add(source)
    return {claim: Sides(**sets) for claim, sets in found.items()}


def claim_statuses(
    claims: Iterable[int],
    sides: Mapping[int, Sides],
    group_of: Mapping[str, Group],
    threshold: int = DEFAULT_THRESHOLD,
) -> list[ClaimStatus]:
    """Every claim's status, in the order of ``claims`` (a claim without sides is unsupported).

    Groups are handled by name, their smallest member, until they are listed: sets of names are
    cheap to build, and groups are disjoint, so sorting their names sorts them by their sorted
    members."""
    if threshold < 1:
        raise ValueError("the threshold is at least 1")
    name_of = {source: min(group) for source, group in group_of.items()}
    named_groups = _Groups(group_of)

    def named(sources: Collection[str]) -> set[str]:
        return set(map(name_of.get, sources, sources))

    def listed(names: set[str]) -> tuple[Group, ...]:
        return tuple(map(named_groups.__getitem__, sorted(names)))

    statuses = []
    for claim in claims:
        supports, supports_secondhand, contradicts, contradicts_secondhand = sides.get(
            claim, NO_SIDES
        )
        supporting, contradicting = named(supports), named(contradicts)
        statuses.append(
            ClaimStatus(
                claim=claim,
                status=status_of(len(supporting), len(contradicting), threshold),
                supporting=listed(supporting),
                contradicting=listed(contradicting),
                weak_support=listed(named(supports_secondhand) - supporting),
                weak_contradiction=listed(named(contradicts_secondhand) - contradicting),
            )
        )
    return statuses


class _Groups(dict[str, Group]):
    """Groups by name, their smallest member; a source that no relation names is on its own."""

    def __missing__(self, name: str) -> Group:
        return frozenset({name})
