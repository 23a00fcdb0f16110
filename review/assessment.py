"""The workspace's claims as the reviewer reads them: the pure core fed from the database.

Sources are named by pseudonym, groups by their members' pseudonyms, and texts are unsealed only
here, on the way to the terminal or a report.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from .corroboration import (
    Evidence,
    Group,
    Relation,
    RelationKind,
    claim_statuses,
    independence_groups,
)
from .models import Claim, Link, Source, Tip
from .models import Relation as RelationRow
from .workspace import Workspace

Members = tuple[str, ...]  # a group, as its members' pseudonyms in order


@dataclass(frozen=True)
class EvidenceView:
    tip: str
    source: str
    stance: str
    basis: str
    quote: str


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

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "text": self.text,
            "status": self.status,
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


# Compiled once from the models and run on the sqlite3 cursor itself: for 50,000 links
# SQLAlchemy's per-row work cost more than the corroboration. Tips are joined in Python, from one
# read of the tips table: SQLite's join looked each of them up once per link.
_LINKS_SQL, _TIP_SOURCES_SQL = (
    str(query.compile(dialect=sqlite.dialect()))
    for query in (
        select(Link.claim_id, Link.tip_id, Link.stance, Link.basis),
        select(Tip.id, Tip.source_id),
    )
)


def evidence(workspace: Workspace) -> list[Evidence]:
    """Every link, with the source of its tip."""
    connection = workspace.session.connection().connection.driver_connection
    source_of = dict(connection.execute(_TIP_SOURCES_SQL))
    new = tuple.__new__  # a third faster than Evidence(...), whose __new__ is written in Python
    with _collector_paused():
        return [
            new(Evidence, (claim, tip, source_of[tip], stance, basis))
            for claim, tip, stance, basis in connection.execute(_LINKS_SQL)
        ]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Tens of thousands of new rows would set the garbage collector off again and again, at
    times over the whole heap, to find nothing: rows hold no cycles. (About 15% of statuses.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def assess(workspace: Workspace, threshold: int) -> list[ClaimView]:
    """Every claim with its status at ``threshold``, its groups and its evidence, oldest first."""
    session = workspace.session
    names = pseudonyms(workspace)
    claims = {claim.id: claim for claim in session.scalars(select(Claim).order_by(Claim.id))}
    statuses = claim_statuses(claims, evidence(workspace), groups(workspace), threshold)
    quoted = session.execute(
        select(Link.claim_id, Link.tip_id, Link.quote).where(Link.quote.is_not(None))
    )
    quotes = {(claim, tip): workspace.unseal_optional(quote) for claim, tip, quote in quoted}
    days = {tip: day for tip, day in session.execute(select(Tip.id, Tip.day))}

    def named(found: tuple[Group, ...]) -> tuple[Members, ...]:
        return tuple(sorted(members(group, names) for group in found))

    def shown(e: Evidence) -> EvidenceView:
        return EvidenceView(
            e.tip, names[e.source], e.stance, e.basis, quotes.get((e.claim, e.tip), "")
        )

    return [
        ClaimView(
            id=status.claim,
            text=workspace.unseal(claims[status.claim].text),
            status=status.status,
            threshold=threshold,
            supporting=named(status.supporting),
            contradicting=named(status.contradicting),
            weak_support=named(status.weak_support),
            weak_contradiction=named(status.weak_contradiction),
            evidence=tuple(
                shown(e) for e in sorted(status.evidence, key=lambda e: (days[e.tip], e.tip))
            ),
        )
        for status in statuses
    ]
