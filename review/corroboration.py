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

Pure: plain values in, plain values out; no database, no terminal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
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
STATUSES: tuple[Status, ...] = get_args(Status)
COUNTING_BASES: frozenset[Basis] = frozenset({"firsthand", "document"})
DEFAULT_THRESHOLD = 2

Group = frozenset[str]


class Relation(NamedTuple):
    a: str
    b: str
    kind: RelationKind


class Evidence(NamedTuple):
    """One link: tip ``tip`` from ``source`` takes ``stance`` on ``claim`` on ``basis``.

    A named tuple, not a dataclass: there are tens of thousands, made in one go.
    """

    claim: int
    tip: str
    source: str
    stance: Stance
    basis: Basis


@dataclass(frozen=True)
class ClaimStatus:
    claim: int
    status: Status
    supporting: tuple[Group, ...]
    contradicting: tuple[Group, ...]
    weak_support: tuple[Group, ...]
    weak_contradiction: tuple[Group, ...]
    evidence: tuple[Evidence, ...]


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


def _ordered(groups: set[Group]) -> tuple[Group, ...]:
    """Groups in the order of their sorted members. Groups are disjoint, so their smallest
    members already differ, and ordering by them alone is the same order, and cheaper."""
    return tuple(sorted(groups, key=min)) if len(groups) > 1 else tuple(groups)


def claim_status(
    claim: int,
    evidence: Iterable[Evidence],
    group_of: Mapping[str, Group],
    threshold: int = DEFAULT_THRESHOLD,
) -> ClaimStatus:
    """One claim's status from its links (links to other claims are ignored)."""
    return _status(claim, [e for e in evidence if e.claim == claim], group_of, threshold)


def claim_statuses(
    claims: Iterable[int],
    evidence: Iterable[Evidence],
    group_of: Mapping[str, Group],
    threshold: int = DEFAULT_THRESHOLD,
) -> list[ClaimStatus]:
    """Every claim's status, in the order of ``claims``, in one pass over the links."""
    by_claim: dict[int, list[Evidence]] = defaultdict(list)
    for link in evidence:
        by_claim[link.claim].append(link)
    return [_status(c, by_claim.get(c, []), group_of, threshold) for c in claims]


def _status(
    claim: int, links: list[Evidence], group_of: Mapping[str, Group], threshold: int
) -> ClaimStatus:
    if threshold < 1:
        raise ValueError("the threshold is at least 1")
    linked: dict[Stance, set[Group]] = {"supports": set(), "contradicts": set()}
    counting: dict[Stance, set[Group]] = {"supports": set(), "contradicts": set()}
    for _claim, _tip, source, stance, basis in links:  # (unpacked: 50,000 of them, often)
        if stance == "context":
            continue
        group = group_of.get(source) or frozenset({source})
        linked[stance].add(group)
        if basis in COUNTING_BASES:
            counting[stance].add(group)
    supporting, contradicting = counting["supports"], counting["contradicts"]
    return ClaimStatus(
        claim=claim,
        status=status_of(len(supporting), len(contradicting), threshold),
        supporting=_ordered(supporting),
        contradicting=_ordered(contradicting),
        weak_support=_ordered(linked["supports"] - supporting),
        weak_contradiction=_ordered(linked["contradicts"] - contradicting),
        evidence=tuple(links),
    )
