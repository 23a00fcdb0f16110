"""Analysis of Competing Hypotheses (Heuer), with evidence weighed by independence.

The formula is docs/design.md's "Competing hypotheses" section, exactly: a hypothesis' score is
the sum, over independence groups, of the strongest inconsistency any claim that group supports
bears against it. A claim counts once per group that supports it (firsthand or document), so a
claim resting on one group cannot outweigh one resting on several, and two claims from one group
count once. Ranked least inconsistent first. Pure: plain values in and out.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Literal, get_args

Mark = Literal[
    "strongly-consistent", "consistent", "neutral", "inconsistent", "strongly-inconsistent"
]
MARKS: tuple[Mark, ...] = get_args(Mark)
INCONSISTENCY: dict[str, int] = {
    "strongly-consistent": 0,
    "consistent": 0,
    "neutral": 0,
    "inconsistent": 1,
    "strongly-inconsistent": 2,
}
SYMBOLS = {  # Heuer's own letters: readable without colour
    "strongly-consistent": "CC",
    "consistent": "C",
    "neutral": "N",
    "inconsistent": "I",
    "strongly-inconsistent": "II",
}


@dataclass(frozen=True)
class Ranking:
    scores: dict[int, int]  # hypothesis -> weighted inconsistency
    ranks: dict[int, int]  # hypothesis -> 1 + how many score less (ties share a rank)
    order: tuple[int, ...]  # least inconsistent first, then by id
    not_diagnostic: tuple[int, ...]  # marked claims that bear equally on every hypothesis
    sensitive: tuple[int, ...]  # claims whose removal alone would change the ranks
    weightless: tuple[int, ...]  # marked claims no group supports: they weigh nothing


def ranks_of(scores: Mapping[int, int]) -> dict[int, int]:
    values = sorted(scores.values())
    return {h: 1 + bisect_left(values, score) for h, score in scores.items()}


def rank(
    hypotheses: Iterable[int],
    marks: Mapping[tuple[int, int], str],
    groups_of: Mapping[int, Collection[Hashable]],
) -> Ranking:
    """Score and rank ``hypotheses`` from ``marks`` ((hypothesis, claim) -> mark) and each
    claim's supporting groups (``groups_of``; a claim absent there has none)."""
    hypotheses = sorted(hypotheses)
    against: dict[int, dict[int, int]] = {}  # claim -> hypothesis -> inconsistency
    for (hypothesis, claim), mark in marks.items():
        against.setdefault(claim, {})[hypothesis] = INCONSISTENCY[mark]
    column = {h: i for i, h in enumerate(hypotheses)}
    count = len(hypotheses)
    # claim -> the (column, inconsistency) pairs that weigh: only these are walked per group
    bearing = {
        c: [(column[h], v) for h, v in values.items() if v and h in column]
        for c, values in against.items()
    }
    # group -> for each hypothesis' column i: at i the strongest inconsistency the group's claims
    # bear on it, at count + i how many bear it, at 2 * count + i the next strongest: enough to
    # know what removing one claim changes. One flat list per group, updated in place, as this
    # loop runs once per claim, group and hypothesis.
    rows: dict[Hashable, list[int]] = {}
    for claim, pairs in bearing.items():
        for group in groups_of.get(claim, ()) if pairs else ():
            row = rows.get(group)
            if row is None:
                row = rows[group] = [0] * (3 * count)
            for i, value in pairs:
                strongest = row[i]
                if value > strongest:
                    row[2 * count + i], row[i], row[count + i] = strongest, value, 1
                elif value == strongest:
                    row[count + i] += 1
                elif value > row[2 * count + i]:
                    row[2 * count + i] = value
    totals = [sum(row[i] for row in rows.values()) for i in range(count)]
    scores = dict(zip(hypotheses, totals, strict=True))
    ranks = ranks_of(scores)
    sensitive = []
    for claim, pairs in bearing.items():
        taken = [0] * count
        for group in groups_of.get(claim, ()) if pairs else ():
            row = rows[group]
            for i, value in pairs:
                if value == row[i] and row[count + i] == 1:  # the claim alone bears the strongest
                    taken[i] += value - row[2 * count + i]
        if any(taken):
            after = {h: scores[h] - taken[column[h]] for h in hypotheses}
            if ranks_of(after) != ranks:
                sensitive.append(claim)
    return Ranking(
        scores=scores,
        ranks=ranks,
        order=tuple(sorted(hypotheses, key=lambda h: (scores[h], h))),
        not_diagnostic=tuple(
            sorted(
                claim
                for claim, values in against.items()
                if len({values.get(h, 0) for h in hypotheses}) <= 1
            )
        ),
        sensitive=tuple(sorted(sensitive)),
        weightless=tuple(sorted(c for c in against if not groups_of.get(c))),
    )


@dataclass(frozen=True)
class HypothesisView:
    id: int
    text: str
    score: int  # weighted inconsistency: lower stands better
    rank: int


@dataclass(frozen=True)
class EvidenceRow:
    claim: int
    text: str
    grade: str
    groups: int  # independent groups supporting it: its weight per inconsistency
    diagnostic: bool
    sensitive: bool  # removing it alone would change the ranks


@dataclass(frozen=True)
class MarkView:
    hypothesis: int
    claim: int
    mark: str
    reason: str


@dataclass(frozen=True)
class Matrix:
    """The ACH matrix as the CLI, the desk and the report show it."""

    hypotheses: tuple[HypothesisView, ...]  # least inconsistent first
    evidence: tuple[EvidenceRow, ...]  # the marked claims, oldest first
    marks: tuple[MarkView, ...]

    def mark(self, hypothesis: int, claim: int) -> MarkView | None:
        return self._by_pair.get((hypothesis, claim))

    @cached_property
    def _by_pair(self) -> dict[tuple[int, int], MarkView]:
        return {(m.hypothesis, m.claim): m for m in self.marks}

    def as_json(self) -> dict[str, object]:
        return {
            "hypotheses": [asdict(h) for h in self.hypotheses],
            "evidence": [asdict(e) for e in self.evidence],
            "marks": [asdict(m) for m in self.marks],
            "not_diagnostic": [e.claim for e in self.evidence if not e.diagnostic],
            "sensitive": [e.claim for e in self.evidence if e.sensitive],
        }
