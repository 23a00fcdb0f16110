"""Sources and their independence: listing them, relating them, and suggested relations."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..assessment import evidence, groups, members, pseudonyms, source_grades, statuses
from ..corroboration import DEFAULT_THRESHOLD, RELATION_KINDS
from ..grading import RELIABILITIES, UNGRADED, Members, TrackRecord, track_records
from ..models import Relation, Setting, Source, SourceGrade, Tip
from ..suggest import Clue, Suggestion, TipSignals, suggest
from ..workspace import Workspace, WorkspaceError
from .choices import one_of
from .plaintexts import Plaintexts

DISMISSED = "dismissed_suggestions"  # a setting: the sealed JSON list of dismissed id pairs


@dataclass(frozen=True)
class RelationView:
    source: str  # the other source's pseudonym
    kind: str
    note: str


@dataclass(frozen=True)
class SourceView:
    pseudonym: str
    id: str
    group: Members
    tips: tuple[str, ...]
    relations: tuple[RelationView, ...]
    can_reply: bool
    messages: int  # of its tips
    files: int
    reliability: str  # the reviewer's Admiralty grade, F until set


@dataclass(frozen=True)
class Graded:
    source: str  # pseudonym
    reliability: str
    previous: str


@dataclass(frozen=True)
class SourceRecord:
    """A source's grade beside its track record, and a reason to revisit the grade if the
    record gives one (never applied)."""

    source: str  # pseudonym
    reliability: str
    note: str
    record: TrackRecord
    suggestion: str | None


@dataclass(frozen=True)
class Related:
    first: str  # pseudonyms, in the order their ids are stored
    second: str
    kind: str


@dataclass(frozen=True)
class SuggestionView:
    sources: tuple[str, str]  # pseudonyms
    evidence: tuple[Clue, ...]
    accept: str  # the command that accepts it


class Sources:
    workspace: Workspace
    plaintexts: Plaintexts

    def sources(self, offset: int = 0, limit: int | None = None) -> list[SourceView]:
        """Sources by pseudonym, with their independence group, tips and relations; ``limit``
        of them from ``offset`` on (a page)."""
        workspace = self.workspace
        names = pseudonyms(workspace)
        group_of = groups(workspace)
        grade_of = source_grades(workspace)
        query = (
            select(Source)
            .options(selectinload(Source.tips))
            .order_by(Source.pseudonym)
            .offset(offset)
            .limit(limit)
        )
        page = list(workspace.session.scalars(query))
        shown = [source.id for source in page]
        related: dict[str, list[RelationView]] = {source: [] for source in shown}
        touching = select(Relation).where(
            Relation.source_a.in_(shown) | Relation.source_b.in_(shown)
        )
        for relation in workspace.session.scalars(touching):
            note = workspace.unseal_optional(relation.note)
            pair = (relation.source_a, relation.source_b)
            for this, other in (pair, pair[::-1]):
                if this in related:
                    related[this].append(RelationView(names[other], relation.kind, note))
        return [
            SourceView(
                pseudonym=source.pseudonym,
                id=source.id,
                group=members(group_of[source.id], names),
                tips=tuple(tip.id for tip in source.tips),
                relations=tuple(related[source.id]),
                can_reply=bool(source.reply_recipient),
                messages=sum(tip.kind == "message" for tip in source.tips),
                files=sum(tip.kind != "message" for tip in source.tips),
                reliability=grade_of.get(source.id, UNGRADED),
            )
            for source in page
        ]

    def check_source(self, ref: str) -> None:
        """Refuse an unknown source before the reviewer types a note."""
        self.workspace.source(ref)

    def grade_source(self, ref: str, reliability: str, note: str | None = None) -> Graded:
        """Set a source's reliability (A-F) and its sealed note, replacing any before."""
        one_of(reliability, RELIABILITIES, "reliability")
        source = self.workspace.source(ref)
        found = self.workspace.session.get(SourceGrade, source.id)
        previous = UNGRADED if found is None else found.reliability
        sealed = None if note is None else self.workspace.seal(note)
        self.workspace.session.merge(
            SourceGrade(source_id=source.id, reliability=reliability, note=sealed)
        )
        return Graded(source.pseudonym, reliability, previous)

    def source_records(self, threshold: int = DEFAULT_THRESHOLD) -> list[SourceRecord]:
        """Every source's grade and track record: how the claims it supported firsthand ended."""
        workspace = self.workspace
        status_of = {found.claim: found.status for found in statuses(workspace, threshold)}
        firsthand = (
            (link.source, link.claim)
            for link in evidence(workspace)
            if link.counted and link.stance == "supports" and link.basis == "firsthand"
        )
        records = track_records(firsthand, status_of)
        grades = {
            row.source_id: (row.reliability, workspace.unseal_optional(row.note))
            for row in workspace.session.scalars(select(SourceGrade))
        }
        rows = workspace.session.execute(
            select(Source.id, Source.pseudonym).order_by(Source.pseudonym)
        )
        found = []
        for source, pseudonym in rows:
            reliability, note = grades.get(source, (UNGRADED, ""))
            record = records.get(source, TrackRecord(0, 0, 0))
            found.append(
                SourceRecord(pseudonym, reliability, note, record, record.suggestion(reliability))
            )
        return found

    def source_names(self, *, can_reply: bool = False) -> list[str]:
        """Every source's pseudonym in order (only those a reply can reach, if asked)."""
        query = select(Source.pseudonym).order_by(Source.pseudonym)
        if can_reply:
            query = query.where(Source.reply_recipient != "")
        return list(self.workspace.session.scalars(query))

    def _pair(self, first: str, second: str) -> tuple[Source, Source]:
        a, b = self.workspace.source(first), self.workspace.source(second)
        if a.id == b.id:
            raise WorkspaceError(f"{first} and {second} are the same source")
        return (a, b) if a.id < b.id else (b, a)

    def check_pair(self, first: str, second: str) -> None:
        """Refuse an unknown source, or one source twice, before the reviewer types a note."""
        self._pair(first, second)

    def relate(self, first: str, second: str, kind: str, note: str | None = None) -> Related:
        """Record that two sources are not independent, replacing any relation between them."""
        one_of(kind, RELATION_KINDS, "relation kind")
        a, b = self._pair(first, second)
        sealed = None if note is None else self.workspace.seal(note)
        self.workspace.session.merge(Relation(source_a=a.id, source_b=b.id, kind=kind, note=sealed))
        return Related(a.pseudonym, b.pseudonym, kind)

    def unrelate(self, first: str, second: str) -> tuple[str, str]:
        """Remove the relation between two sources; returns their pseudonyms."""
        a, b = self._pair(first, second)
        relation = self.workspace.session.get(Relation, (a.id, b.id))
        if relation is None:
            raise WorkspaceError(f"{a.pseudonym} and {b.pseudonym} are not related")
        self.workspace.delete(relation)
        return a.pseudonym, b.pseudonym

    def suggestions(self) -> list[SuggestionView]:
        """Likely shared-origin pairs, strongest first; nothing is related until accepted."""
        workspace = self.workspace
        names = pseudonyms(workspace)
        group_of = groups(workspace)
        dismissed = self._dismissed()
        views = []
        for found in self._alike():
            a, b = found.sources
            if group_of[a] == group_of[b] or found.sources in dismissed:
                continue
            first, second = names[a], names[b]
            views.append(
                SuggestionView(
                    sources=(first, second),
                    evidence=found.clues,
                    accept=f"review relate {first} {second} --shared-origin",
                )
            )
        return views

    def _alike(self) -> list[Suggestion]:
        """Pairs of sources whose tips look alike, whatever their groups: worked out once for
        the same tips, so relating or dismissing costs no new comparison."""
        query = select(Tip.id, Tip.source_id, Tip.content_tag).order_by(Tip.id)
        tips = [
            (tip_id, source, tag) for tip_id, source, tag in self.workspace.session.execute(query)
        ]

        def work_out() -> list[Suggestion]:
            texts = self.plaintexts.tips(self.workspace, [tip_id for tip_id, _, _ in tips])
            signals = (
                TipSignals(tip_id, source, texts[tip_id].text, content_tag)
                for tip_id, source, content_tag in tips
            )
            return suggest(signals, {})  # no groups: each source apart

        return self.plaintexts.suggested(
            tuple((tip_id, source) for tip_id, source, _ in tips), work_out
        )

    def dismiss(self, first: str, second: str) -> tuple[str, str]:
        """Set a suggested pair aside: it is not suggested again, and relating it stays possible.
        Returns their pseudonyms."""
        a, b = self._pair(first, second)
        pairs = sorted(self._dismissed() | {(a.id, b.id)})
        sealed = self.workspace.seal(json.dumps(pairs))
        self.workspace.session.merge(Setting(name=DISMISSED, value=sealed))
        return a.pseudonym, b.pseudonym

    def _dismissed(self) -> set[tuple[str, str]]:
        setting = self.workspace.session.get(Setting, DISMISSED)
        if setting is None:
            return set()
        return {(a, b) for a, b in json.loads(self.workspace.unseal(setting.value))}
