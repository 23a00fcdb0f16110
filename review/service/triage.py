"""Triage: listing, reading, exporting, marking and annotating tips."""

from __future__ import annotations

import bisect
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ..export import Exported, export_tip
from ..models import TIP_STATUSES, Link, Note, Source, Tip, TipSubmission
from ..short_ids import short_ids
from ..tip_content import Summaries, message_text
from ..workspace import Workspace
from .choices import one_of
from .plaintexts import Plaintexts


@dataclass(frozen=True)
class TipHeading:
    """What a listing shows of a tip; ``name``, ``type`` and ``preview`` came from the source."""

    id: str
    day: str
    source: str  # pseudonym
    kind: str
    status: str
    name: str
    type: str
    length: int
    preview: str


@dataclass(frozen=True)
class TipRow(TipHeading):
    notes: int
    submission: str | None  # the server's id for it; None if its bundle did not say

    @property
    def group(self) -> tuple[str, ...]:
        """The submission it came in: the tips with the same group were sent together. A tip
        from a bundle that did not say has its source and day stand for it."""
        return (self.submission,) if self.submission is not None else (self.source, self.day)


@dataclass(frozen=True)
class LinkView:
    claim: int
    stance: str
    basis: str
    quote: str


@dataclass(frozen=True)
class TipView(TipHeading):
    text: str | None  # a message's text; None for a file
    notes: tuple[str, ...]
    links: tuple[LinkView, ...]


Heading = tuple[str, str, str, str, str, str, str, int, str]  # TipHeading's fields, in order


def _heading(summaries: Summaries, tip: Tip) -> Heading:
    details = summaries.of(tip)
    return (
        tip.id,
        tip.day,
        tip.source.pseudonym,
        tip.kind,
        tip.status,
        details.name,
        details.media_type,
        details.length,
        details.preview,
    )


@dataclass(frozen=True)
class Found:
    """What a search found: how many tips, and the first of them."""

    total: int
    rows: list[TipRow]


class Triage:
    workspace: Workspace
    plaintexts: Plaintexts

    def tips(
        self,
        statuses: tuple[str, ...] = (),
        source: str | None = None,
        *,
        claim: int | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[TipRow]:
        """Tips in listing order, only those with one of ``statuses``, from ``source`` and
        linked to ``claim`` if given; ``limit`` of them from ``offset`` on (a page)."""
        query = self._filtered(self._listing(select(Tip)), statuses, source, claim)
        query = query.options(selectinload(Tip.source))
        return self._rows(list(self.workspace.session.scalars(query.offset(offset).limit(limit))))

    def search(
        self,
        words: str,
        statuses: tuple[str, ...] = (),
        source: str | None = None,
        *,
        claim: int | None = None,
        limit: int | None = None,
    ) -> Found:
        """The tips ``tips`` lists whose name, text or a note contains ``words`` (in any case):
        how many, and the first ``limit`` of them. Texts and notes are read from memory,
        decrypted there the first time (``Plaintexts``)."""
        wanted = words.casefold().strip()
        session = self.workspace.session
        ids = list(
            session.scalars(self._filtered(self._listing(select(Tip.id)), statuses, source, claim))
        )
        texts = self.plaintexts.tips(self.workspace, ids)
        notes = list(session.execute(select(Note.tip_id, Note.text)))
        unsealed = self.plaintexts.notes(self.workspace, (sealed for _, sealed in notes))
        noted = {tip_id for tip_id, sealed in notes if wanted in unsealed[sealed].casefold()}
        found = [tip_id for tip_id in ids if tip_id in noted or wanted in texts[tip_id].searchable]
        page = found[:limit]
        by_id = {
            tip.id: tip
            for tip in session.scalars(
                select(Tip).where(Tip.id.in_(page)).options(selectinload(Tip.source))
            )
        }
        return Found(len(found), self._rows([by_id[tip_id] for tip_id in page]))

    @staticmethod
    def _listing(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
        """Oldest first, a submission's tips together, its message before its files."""
        return (
            query.join(Tip.source)
            .outerjoin(TipSubmission, TipSubmission.tip_id == Tip.id)
            .order_by(
                Tip.day,
                Source.pseudonym,
                func.coalesce(TipSubmission.submission, ""),
                Tip.kind != "message",
                Tip.id,
            )
        )

    def _rows(self, tips: list[Tip]) -> list[TipRow]:
        session = self.workspace.session
        ids = [tip.id for tip in tips]
        counted = session.execute(
            select(Note.tip_id, func.count()).where(Note.tip_id.in_(ids)).group_by(Note.tip_id)
        )
        note_counts = {tip_id: count for tip_id, count in counted}
        sent = session.execute(
            select(TipSubmission.tip_id, TipSubmission.submission).where(
                TipSubmission.tip_id.in_(ids)
            )
        )
        submissions = {tip_id: submission for tip_id, submission in sent}
        summaries = Summaries(self.workspace)
        return [
            TipRow(
                *_heading(summaries, tip),
                notes=note_counts.get(tip.id, 0),
                submission=submissions.get(tip.id),
            )
            for tip in tips
        ]

    def tip_count(
        self, statuses: tuple[str, ...] = (), source: str | None = None, *, claim: int | None = None
    ) -> int:
        """How many tips ``tips`` lists with the same filters (and no words)."""
        query = self._filtered(select(func.count()).select_from(Tip), statuses, source, claim)
        count: int = self.workspace.session.scalars(query).one()
        return count

    def _filtered(
        self,
        query: Select[*tuple[Any, ...]],
        statuses: tuple[str, ...],
        source: str | None,
        claim: int | None,
    ) -> Select[*tuple[Any, ...]]:
        if statuses:
            query = query.where(Tip.status.in_(statuses))
        if source is not None:
            query = query.where(Tip.source_id == self.workspace.source(source).id)
        if claim is not None:
            query = query.where(Tip.links.any(Link.claim_id == self.workspace.claim(claim).id))
        return query

    def short_tip_ids(self, of: Collection[str] | None = None) -> dict[str, str]:
        """Every tip id (or each of ``of``) mapped to the shortest prefix that names it alone in
        this workspace."""
        every = self.workspace.session.scalars(select(Tip.id).order_by(Tip.id)).all()
        if of is None:
            return short_ids(every)
        # An id's shortest prefix depends only on its neighbours in sorted order.
        near: set[str] = set()
        for tip_id in of:
            index = bisect.bisect_left(every, tip_id)
            near.update(every[max(index - 1, 0) : index + 2])
        return {tip_id: short for tip_id, short in short_ids(near).items() if tip_id in of}

    def show(self, ref: str) -> TipView:
        """A tip with its text (a message's), notes and links; a new tip becomes read."""
        workspace = self.workspace
        tip = workspace.tip(ref)
        if tip.status == "new":
            tip.status = "read"
        return TipView(
            *_heading(Summaries(workspace), tip),
            text=message_text(workspace, tip) if tip.kind == "message" else None,
            notes=tuple(workspace.unseal(note.text) for note in tip.notes),
            links=tuple(
                LinkView(
                    link.claim_id, link.stance, link.basis, workspace.unseal_optional(link.quote)
                )
                for link in sorted(tip.links, key=lambda link: link.claim_id)
            ),
        )

    def export(self, ref: str, out_dir: Path) -> Exported:
        """Decrypt a tip into a new file in ``out_dir``, outside the workspace."""
        tip = self.workspace.tip(ref)
        return export_tip(self.workspace, tip, out_dir, Summaries(self.workspace).of(tip).name)

    def mark(self, ref: str, status: str) -> str:
        """Set a tip's status; returns its id."""
        one_of(status, TIP_STATUSES, "tip status")
        tip = self.workspace.tip(ref)
        tip.status = status
        return tip.id

    def note(self, ref: str, text: str) -> str:
        """Add a sealed note to a tip; returns its id."""
        tip = self.workspace.tip(ref)
        tip.notes.append(Note(text=self.workspace.seal(text)))
        return tip.id
