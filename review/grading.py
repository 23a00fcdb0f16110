"""Admiralty grades: source reliability (the reviewer's), information credibility (derived from
corroboration), a claim's grade, a source's track record, and what would settle a claim.

The mapping is docs/design.md's "Grades" section, exactly. Pure: plain values in and out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

Reliability = Literal["A", "B", "C", "D", "E", "F"]
RELIABILITIES: tuple[Reliability, ...] = get_args(Reliability)
UNGRADED: Reliability = "F"  # cannot be judged: every source until the reviewer grades it
CREDIBILITIES = (1, 2, 3, 4, 5, 6)
CREDIBILITY_WORDS = {
    1: "confirmed",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "cannot be judged",
}
RELIABILITY_WORDS = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "cannot be judged",
}
_BY_STATUS = {
    "corroborated": 1,
    "partly-corroborated": 2,
    "disputed": 4,
    "contradicted": 5,
    "unsupported": 6,
}
REVISIT_AFTER = 3  # firsthand claims that ended one way before a track record suggests a change

Members = tuple[str, ...]  # a group, as its members' pseudonyms in order


def credibility(status: str, weak_support_groups: int) -> int:
    """A claim's credibility from its status; a single source backed by another group's
    secondhand account is probably true (2), alone possibly true (3)."""
    if status == "single-source":
        return 2 if weak_support_groups else 3
    return _BY_STATUS[status]


def reliability(supporters: Iterable[str], grade_of: Mapping[str, str]) -> Reliability:
    """The best grade among the sources whose support counts; F when none does or none is
    graded."""
    letters = "".join(RELIABILITIES)
    found = [letters.index(grade_of[source]) for source in supporters if source in grade_of]
    return RELIABILITIES[min(found, default=letters.index(UNGRADED))]


@dataclass(frozen=True)
class Grade:
    reliability: Reliability
    credibility: int  # the one that stands: the reviewer's when overridden
    derived: int  # what corroboration gives
    override_reason: str | None  # the reviewer's reason, when overridden

    @property
    def overridden(self) -> bool:
        return self.override_reason is not None

    @property
    def text(self) -> str:
        """As analysts write it; an overridden credibility is marked with '*'."""
        return f"{self.reliability}{self.credibility}{'*' if self.overridden else ''}"

    def as_json(self) -> dict[str, object]:
        return {
            "reliability": self.reliability,
            "credibility": self.credibility,
            "derived_credibility": self.derived,
            "credibility_overridden": self.overridden,
            "override_reason": self.override_reason,
            "grade": self.text,
        }


def grade(
    status: str,
    weak_support_groups: int,
    supporters: Iterable[str],
    grade_of: Mapping[str, str],
    override: tuple[int, str] | None = None,
) -> Grade:
    """A claim's grade; ``override`` is the reviewer's credibility and reason, if any."""
    derived = credibility(status, weak_support_groups)
    stands, reason = (derived, None) if override is None else override
    return Grade(reliability(supporters, grade_of), stands, derived, reason)


@dataclass(frozen=True)
class TrackRecord:
    """Of the claims a source supported firsthand, how many ended corroborated or contradicted
    (disputed or contradicted: an independent firsthand account says otherwise)."""

    supported: int
    corroborated: int
    contradicted: int

    def suggestion(self, reliability: str) -> str | None:
        """A reason to revisit the grade, never applied: most of its firsthand claims went
        against a good grade, or for a poor one."""
        ended = self.corroborated + self.contradicted
        if ended < REVISIT_AFTER:
            return None
        if reliability in "ABC" and self.contradicted * 2 > ended:
            return f"{self.contradicted} of {ended} settled firsthand claims were contradicted"
        if reliability in "DEF" and self.corroborated * 2 > ended:
            return f"{self.corroborated} of {ended} settled firsthand claims were corroborated"
        return None


def track_records(
    firsthand_support: Iterable[tuple[str, int]], status_of: Mapping[int, str]
) -> dict[str, TrackRecord]:
    """Each source's record from its (source, claim) firsthand supporting links."""
    claims: dict[str, set[int]] = {}
    for source, claim in firsthand_support:
        claims.setdefault(source, set()).add(claim)
    return {
        source: TrackRecord(
            len(found),
            sum(status_of[c] == "corroborated" for c in found),
            sum(status_of[c] in ("disputed", "contradicted") for c in found),
        )
        for source, found in claims.items()
    }


def group_label(group: Members) -> str:
    return " + ".join(group)


def _outside(groups: Sequence[Members]) -> str:
    return ", ".join(group_label(group) for group in groups)


def to_do(
    status: str,
    threshold: int,
    supporting: Collection[Members],
    contradicting: Collection[Members],
    weak_support: Collection[Members],
) -> tuple[str, ...]:
    """What evidence, from whom, would raise a claim's credibility; nothing once corroborated."""
    if status == "corroborated":
        return ()
    steps = [
        f"resolve the contradiction from {group_label(group)}: a firsthand account or document "
        "that explains or refutes it"
        for group in sorted(contradicting)
    ]
    steps += [
        f"a firsthand account or document from {group_label(group)} (its support is secondhand)"
        for group in sorted(weak_support)
    ]
    missing = max(threshold - len(supporting), 0) if not contradicting else 0
    if status in ("unsupported", "contradicted"):
        missing = max(missing, 1)
    if missing:
        count = "one more" if missing == 1 else f"{missing} more"
        kinds = "source or a document" if missing == 1 else "sources or documents"
        where = f" outside {_outside(sorted(supporting))}" if supporting else ""
        steps.append(f"{count} independent firsthand {kinds}{where}")
    return tuple(steps)
