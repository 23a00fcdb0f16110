"""The workspace's claims as the reviewer reads them: the pure core fed from the database.

Sources are named by pseudonym, groups by their members' pseudonyms, and texts are unsealed only
here, on the way to the terminal or a report.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.dialects import sqlite

from .corroboration import (
    COUNTING_BASES,
    ClaimStatus,
    Evidence,
    Group,
    Relation,
    RelationKind,
    Sides,
    Stance,
    claim_statuses,
    independence_groups,
)
from .grading import Grade, Members, grade, to_do
from .models import SET_ASIDE, Claim, CredibilityOverride, Link, Source, SourceGrade, Tip
from .models import Relation as RelationRow
from .workspace import Workspace


@dataclass(frozen=True)
class EvidenceView:
    tip: str
    source: str
    stance: str
    basis: str
    quote: str
    counted: bool  # False for a tip set aside (discarded or spam)


@dataclass(frozen=True)
class ClaimView:
    id: int
    text: str
    status: str
    threshold: int
    supporting: tuple[Members, ...]
    contradicting: tuple[Members, ...]
    weak_support: tuple[Members, ...]
    weak_contradiction: tuple[Members, ...]
    evidence: tuple[EvidenceView, ...]
    grade: Grade
    to_do: tuple[str, ...]  # what would settle it; empty once corroborated

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "text": self.text,
            "status": self.status,
            **self.grade.as_json(),
            "to_do": self.to_do,
            "independent_groups": len(self.supporting),
            "threshold": self.threshold,
            "supporting_groups": self.supporting,
            "contradicting_groups": self.contradicting,
            "weak_support_groups": self.weak_support,
            "weak_contradicting_groups": self.weak_contradiction,
            "evidence": [asdict(e) for e in self.evidence],
        }


def relations(workspace: Workspace) -> list[Relation]:
    rows = workspace.session.execute(
        select(RelationRow.source_a, RelationRow.source_b, RelationRow.kind)
    )
    return [Relation(a, b, cast(RelationKind, kind)) for a, b, kind in rows]


def groups(workspace: Workspace) -> dict[str, Group]:
    """Every source's independence group."""
    sources = workspace.session.connection().execute(select(Source.id)).scalars()
    return independence_groups(sources, relations(workspace))


def pseudonyms(workspace: Workspace) -> dict[str, str]:
    rows = workspace.session.execute(select(Source.id, Source.pseudonym))
    return {source_id: pseudonym for source_id, pseudonym in rows}


def members(group: Group, names: Mapping[str, str]) -> Members:
    return tuple(sorted(names[source] for source in group))


def _tips(stance: Stance, counting: bool) -> ColumnElement[str | None]:
    """A claim's tips taking ``stance`` on a basis that counts (or not), space-separated: tip ids
    are letters, digits, '-' and '_' (``keys.bundle``)."""
    basis = Link.basis.in_(COUNTING_BASES) if counting else Link.basis.not_in(COUNTING_BASES)
    return func.group_concat(case((and_(Link.stance == stance, basis), Link.tip_id)), " ")


# SQLite gathers each claim's tips on each side, in C, scanning the links in claim order on the
# index that covers them: Python sees a row per claim, not one per link. Tips are mapped to
# their sources in Python, from one read of the tips table, which costs less than SQLite's join
# looking each tip up once per link. Compiled once, run on the sqlite3 cursor itself: for
# thousands of rows SQLAlchemy's per-row work costs more than the query.
_SIDES = (
    select(
        Link.claim_id,
        _tips("supports", True),
        _tips("supports", False),
        _tips("contradicts", True),
        _tips("contradicts", False),
    )
    .where(
        Link.stance != "context",
        Link.tip_id.not_in(select(Tip.id).where(Tip.status.in_(SET_ASIDE))),
    )
    .group_by(Link.claim_id)
)
_LINKS = select(Link.claim_id, Link.tip_id, Link.stance, Link.basis)


def _sql(query: Select[*tuple[Any, ...]]) -> str:
    return str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


_SIDES_SQL, _LINKS_SQL, _TIP_SOURCES_SQL = map(
    _sql, (_SIDES, _LINKS, select(Tip.id, Tip.source_id, Tip.status.in_(SET_ASIDE)))
)


def _for(query: Select[*tuple[Any, ...]], compiled: str, only: Collection[int] | None) -> str:
    """``query`` as SQL (``compiled`` already), for the claims ``only`` if given."""
    return compiled if only is None else _sql(query.where(Link.claim_id.in_(sorted(only))))


def _cursor(workspace: Workspace) -> sqlite3.Connection:
    return cast(sqlite3.Connection, workspace.session.connection().connection.driver_connection)


def sides(workspace: Workspace, only: Collection[int] | None = None) -> dict[int, Sides]:
    """Each linked claim's (or each of ``only``'s) sides: what ``corroboration.sides_by_claim``
    makes of every link."""
    connection = _cursor(workspace)
    source_of = {tip: source for tip, source, _ in connection.execute(_TIP_SOURCES_SQL)}.__getitem__
    return {
        claim: Sides(*(list(map(source_of, (tips or "").split())) for tips in found))
        for claim, *found in connection.execute(_for(_SIDES, _SIDES_SQL, only))
    }


def evidence(workspace: Workspace, only: Collection[int] | None = None) -> list[Evidence]:
    """Every link (of the claims ``only`` if given), with the source of its tip and whether it
    counts."""
    connection = _cursor(workspace)
    rows = connection.execute(_TIP_SOURCES_SQL)
    tips = {tip: (source, not aside) for tip, source, aside in rows}
    return [
        Evidence(claim, tip, tips[tip][0], stance, basis, tips[tip][1])
        for claim, tip, stance, basis in connection.execute(_for(_LINKS, _LINKS_SQL, only))
    ]


def statuses(
    workspace: Workspace,
    threshold: int,
    only: Collection[int] | None = None,
    found: Mapping[int, Sides] | None = None,
) -> list[ClaimStatus]:
    """Every claim's (or each of ``only``'s) status at ``threshold``, oldest first, before any
    text is unsealed; from ``found`` sides if the caller has them."""
    query = select(Claim.id).order_by(Claim.id)
    if only is not None:
        query = query.where(Claim.id.in_(only))
    claims = workspace.session.scalars(query)
    found = sides(workspace, only) if found is None else found
    return claim_statuses(claims, found, groups(workspace), threshold)


def source_grades(workspace: Workspace) -> dict[str, str]:
    """Every graded source's reliability, by source id; the rest are F (``review.grading``)."""
    rows = workspace.session.execute(select(SourceGrade.source_id, SourceGrade.reliability))
    return {source: reliability for source, reliability in rows}


def overrides(
    workspace: Workspace, only: Collection[int] | None = None
) -> dict[int, tuple[int, str]]:
    """The reviewer's credibility and (unsealed) reason for each overridden claim."""
    query = select(CredibilityOverride)
    if only is not None:
        query = query.where(CredibilityOverride.claim_id.in_(only))
    return {
        row.claim_id: (row.credibility, workspace.unseal(row.reason))
        for row in workspace.session.scalars(query)
    }


def assess(
    workspace: Workspace,
    threshold: int,
    *,
    with_evidence: bool = True,
    only: Collection[int] | None = None,
) -> list[ClaimView]:
    """Every claim (or each of ``only``) with its status at ``threshold``, its groups and
    (unless not wanted, as by a listing that shows none) its evidence, oldest first."""
    session = workspace.session
    names = pseudonyms(workspace)
    texts_query = select(Claim.id, Claim.text)
    if only is not None:
        texts_query = texts_query.where(Claim.id.in_(only))
    texts = {claim: text for claim, text in session.execute(texts_query)}
    by_claim: dict[int, list[Evidence]] = {}
    quotes: dict[tuple[int, str], str] = {}
    if with_evidence:  # a listing without evidence opens no quote
        for link in evidence(workspace, only):
            by_claim.setdefault(link.claim, []).append(link)
        quoted_query = select(Link.claim_id, Link.tip_id, Link.quote).where(Link.quote.is_not(None))
        if only is not None:
            quoted_query = quoted_query.where(Link.claim_id.in_(only))
        quoted = session.execute(quoted_query)
        quotes = {(claim, tip): workspace.unseal_optional(quote) for claim, tip, quote in quoted}
        days = {tip: day for tip, day in session.execute(select(Tip.id, Tip.day))}
    found = sides(workspace, only)
    grade_of = source_grades(workspace)
    overridden = overrides(workspace, only)

    def named(found: tuple[Group, ...]) -> tuple[Members, ...]:
        return tuple(sorted(members(group, names) for group in found))

    def shown(e: Evidence) -> EvidenceView:
        return EvidenceView(
            e.tip, names[e.source], e.stance, e.basis, quotes.get((e.claim, e.tip), ""), e.counted
        )

    def viewed(status: ClaimStatus) -> ClaimView:
        supporting, contradicting = named(status.supporting), named(status.contradicting)
        weak_support = named(status.weak_support)
        supporters = found[status.claim].supports if status.claim in found else ()
        return ClaimView(
            id=status.claim,
            text=workspace.unseal(texts[status.claim]),
            status=status.status,
            threshold=threshold,
            supporting=supporting,
            contradicting=contradicting,
            weak_support=weak_support,
            weak_contradiction=named(status.weak_contradiction),
            evidence=tuple(
                shown(e)
                for e in sorted(by_claim.get(status.claim, ()), key=lambda e: (days[e.tip], e.tip))
            ),
            grade=grade(
                status.status,
                len(weak_support),
                supporters,
                grade_of,
                overridden.get(status.claim),
            ),
            to_do=to_do(status.status, threshold, supporting, contradicting, weak_support),
        )

    return [viewed(status) for status in statuses(workspace, threshold, only, found)]
