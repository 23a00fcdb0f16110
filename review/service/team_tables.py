"""The workspace's tables read as team records, and the team's records put back in them.

Every other verb reads and edits the tables; ``TeamTables.read`` says what they hold as team
records (review.team_state), and ``TeamTables.place`` makes them hold the team's placeable
records and nothing else of the team's. Each placed record keeps a keyed fingerprint of its
sealed cells, so a read opens only the texts edited since they were placed: a sync of a large
workspace with nothing new decrypts nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.dialects.sqlite import insert as upsert

from ..models import (
    AchMark,
    Claim,
    CredibilityOverride,
    Hypothesis,
    Link,
    Note,
    Relation,
    SignOff,
    Source,
    SourceGrade,
    TeamId,
    TeamPlaced,
    Tip,
    WaitingLink,
)
from ..team_merge import Change, Ref, Value
from ..team_state import SEPARATOR, SHARED_STATUSES, Placement, State, joined, placeable
from ..workspace import Workspace

UID_BYTES = 12
NUMBERED: dict[str, Any] = {"claim": Claim, "hypothesis": Hypothesis, "note": Note}
JOINING: dict[str, Any] = {  # kind -> its table, and the team records its key columns name
    "link": (Link, (("tip_id", None), ("claim_id", "claim"))),
    "relation": (Relation, (("source_a", None), ("source_b", None))),
    "grade": (SourceGrade, (("source_id", None),)),
    "credibility": (CredibilityOverride, (("claim_id", "claim"),)),
    "ach": (AchMark, (("hypothesis_id", "hypothesis"), ("claim_id", "claim"))),
}
SEALED = {  # kind -> its fields held sealed, in the order their fingerprint takes them
    "claim": ("text",),
    "hypothesis": ("text",),
    "note": ("text",),
    "link": ("quote",),
    "relation": ("note",),
    "grade": ("note",),
    "credibility": ("reason",),
    "ach": ("reason",),
    "mark": (),
}
COLUMNS = {"tip": "tip_id"}  # a field named otherwise than its column
ORDER = tuple(SEALED)  # parents before the records that name them
PRINT_CONTEXT = "cairn team placed record"

Fingerprint = bytes | None
Cells = Mapping[str, bytes | None]


@dataclass(frozen=True)
class Tables:
    """What the tables hold as team records, each one's fingerprint, and the records placed
    in them at the last sync (with the fingerprints they were placed with)."""

    state: State
    prints: dict[Ref, Fingerprint]
    placed: dict[Ref, Fingerprint]


class TeamTables:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._locals: dict[str, dict[str, int]] = {}

    # -- ids ---------------------------------------------------------------------------------

    def uids(self, kind: str) -> dict[int, str]:
        """The team-wide id of each local claim, hypothesis or note; new ones are given one."""
        session = self.workspace.session
        query = select(TeamId.local_id, TeamId.uid).where(TeamId.kind == kind)
        mapped = {local_id: uid for local_id, uid in session.execute(query)}
        present = set(session.scalars(select(NUMBERED[kind].id)))
        for local_id in present - mapped.keys():
            mapped[local_id] = secrets.token_hex(UID_BYTES)
            session.add(TeamId(kind=kind, local_id=local_id, uid=mapped[local_id]))
        gone = mapped.keys() - present
        if gone:
            session.execute(delete(TeamId).where(TeamId.kind == kind, TeamId.local_id.in_(gone)))
        session.flush()
        found = {local_id: uid for local_id, uid in mapped.items() if local_id in present}
        self._locals[kind] = {uid: local_id for local_id, uid in found.items()}
        return found

    def local(self, kind: str, uid: str) -> int | None:
        """The local number of a claim, hypothesis or note, if it is held here."""
        if kind not in self._locals:
            self.uids(kind)
        return self._locals[kind].get(uid)

    def numbered(self, kind: str, uid: str, local_id: int) -> None:
        """Remember the local number just given to a claim, hypothesis or note."""
        self._locals.setdefault(kind, {})[uid] = local_id

    def forget(self, kind: str, uid: str) -> None:
        """Forget the local number of a claim, hypothesis or note just taken out."""
        self._locals.get(kind, {}).pop(uid, None)

    # -- reading -----------------------------------------------------------------------------

    def placed(self) -> dict[Ref, Fingerprint]:
        query = select(TeamPlaced.kind, TeamPlaced.record, TeamPlaced.fingerprint)
        return {(k, r): p for k, r, p in self.workspace.session.execute(query)}

    def read(self, winners: Mapping[Ref, Mapping[str, Change]]) -> Tables:
        """What the tables hold; a record whose sealed cells are as placed takes its texts from
        ``winners`` instead of decrypting them."""
        session = self.workspace.session
        claims, hypotheses, notes = self.uids("claim"), self.uids("hypothesis"), self.uids("note")
        placed = self.placed()
        tables = Tables({}, {}, placed)

        def add(ref: Ref, plain: dict[str, Value], cells: Cells) -> None:
            fingerprint = self.fingerprint(ref[0], cells)
            if ref in placed and placed[ref] == fingerprint:
                held = winners.get(ref, {})
                texts = {n: held[n].value if n in held else None for n in cells}
            else:
                texts = {
                    n: None if c is None else self.workspace.unseal(c) for n, c in cells.items()
                }
            tables.state[ref] = {**plain, **texts}
            tables.prints[ref] = fingerprint

        for claim_id, text in session.execute(select(Claim.id, Claim.text)):
            add(("claim", claims[claim_id]), {}, {"text": text})
        for hypothesis_id, text in session.execute(select(Hypothesis.id, Hypothesis.text)):
            add(("hypothesis", hypotheses[hypothesis_id]), {}, {"text": text})
        for note_id, tip, text in session.execute(select(Note.id, Note.tip_id, Note.text)):
            add(("note", notes[note_id]), {"tip": tip}, {"text": text})
        for link in session.scalars(select(Link)):
            ref = ("link", joined(link.tip_id, claims[link.claim_id]))
            add(ref, {"stance": link.stance, "basis": link.basis}, {"quote": link.quote})
        for relation in session.scalars(select(Relation)):
            ref = ("relation", joined(relation.source_a, relation.source_b))
            add(ref, {"kind": relation.kind}, {"note": relation.note})
        query = select(Tip.id, Tip.status).where(Tip.status.in_(SHARED_STATUSES))
        for tip, status in session.execute(query):
            add(("mark", tip), {"status": status}, {})
        for grade in session.scalars(select(SourceGrade)):
            add(
                ("grade", grade.source_id), {"reliability": grade.reliability}, {"note": grade.note}
            )
        for override in session.scalars(select(CredibilityOverride)):
            plain: dict[str, Value] = {"credibility": override.credibility}
            add(("credibility", claims[override.claim_id]), plain, {"reason": override.reason})
        for mark in session.scalars(select(AchMark)):
            ref = ("ach", joined(hypotheses[mark.hypothesis_id], claims[mark.claim_id]))
            add(ref, {"mark": mark.mark}, {"reason": mark.reason})
        return tables

    def fingerprint(self, kind: str, cells: Cells) -> Fingerprint:
        if not SEALED[kind]:
            return None
        data = b"".join(
            b"\0" if cell is None else b"\1" + len(cell).to_bytes(8, "big") + cell
            for cell in (cells.get(name) for name in SEALED[kind])
        )
        return self.workspace.key.fingerprint(PRINT_CONTEXT, data)

    # -- placing -----------------------------------------------------------------------------

    def place(self, winners: Mapping[Ref, Mapping[str, Change]], tables: Tables) -> None:
        """Make the tables hold the team's placeable records and nothing else of the team's;
        ``tables``: what they hold now."""
        session = self.workspace.session
        tips = set(session.scalars(select(Tip.id)))
        sources = set(session.scalars(select(Source.id)))
        placement = placeable(winners, tips, sources)
        wanted = {ref: values for ref, values in placement.placed.items() if ref[0] != "signoff"}
        held = tables.state
        writer = _Writer(self)
        prints = {ref: tables.prints[ref] for ref in wanted.keys() & held.keys()}
        with session.no_autoflush:  # rows go in a kind at a time, not one by one
            for kind in reversed(ORDER):  # each kind out before its parents: the database's
                for ref in sorted(r for r in held.keys() - wanted.keys() if r[0] == kind):
                    writer.remove(ref)  # cascades would otherwise take rows the session holds
                writer.write_out()
            for kind in ORDER:  # a kind's new rows are numbered before the next kind names them
                for ref in sorted(r for r in wanted if r[0] == kind and held.get(r) != wanted[r]):
                    prints[ref] = writer.put(ref, wanted[ref], held.get(ref))
                writer.write_out()
        self._keep_prints(tables.placed, prints)
        self._place_sign_offs_and_waiting(placement)
        session.flush()

    def _keep_prints(self, before: dict[Ref, Fingerprint], prints: dict[Ref, Fingerprint]) -> None:
        session = self.workspace.session
        gone = [ref for ref in before if ref not in prints]
        for start in range(0, len(gone), 500):
            refs = gone[start : start + 500]
            session.execute(
                delete(TeamPlaced).where(tuple_(TeamPlaced.kind, TeamPlaced.record).in_(refs))
            )
        changed = [
            {"kind": kind, "record": record, "fingerprint": fingerprint}
            for (kind, record), fingerprint in prints.items()
            if (kind, record) not in before or before[kind, record] != fingerprint
        ]
        if changed:
            statement = upsert(TeamPlaced)
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["kind", "record"],
                    set_={"fingerprint": statement.excluded.fingerprint},
                ),
                changed,
            )

    def _place_sign_offs_and_waiting(self, placement: Placement) -> None:
        """Sign-offs and waiting links are the team's only: rebuilt whole, never read back."""
        session = self.workspace.session
        claims = {uid: local_id for local_id, uid in self.uids("claim").items()}
        session.execute(delete(SignOff))
        session.add_all(
            SignOff(claim_id=claims[uid], reviewer=reviewer, evidence=str(evidence))
            for (kind, uid), values in placement.placed.items()
            if kind == "signoff"
            for reviewer, evidence in values.items()
        )
        session.execute(delete(WaitingLink))
        session.add_all(
            WaitingLink(
                claim_id=claims[record.partition(SEPARATOR)[2]],
                tip_id=record.partition(SEPARATOR)[0],
                stance=str(values["stance"]),
                basis=str(values["basis"]),
            )
            for (_, record), values in placement.waiting.items()
        )


class _Writer:
    """Puts team records into the tables, or takes them out, a kind at a time."""

    def __init__(self, tables: TeamTables) -> None:
        self.tables = tables
        self.workspace = tables.workspace
        self.numbered: list[tuple[str, str, Any]] = []
        self.inserts: dict[Any, list[dict[str, object]]] = {}
        self.statuses: dict[str, list[str]] = {}

    def _find(self, kind: str, record: str, *, look: bool) -> tuple[Any, dict[str, object], Any]:
        """The table of a record, its key columns, and its row if there is one (if ``look``)."""
        model: Any
        key: dict[str, object]
        if kind in NUMBERED:
            model, key = NUMBERED[kind], {"id": self.tables.local(kind, record)}
        else:
            model, columns = JOINING[kind]
            key = {
                column: part if numbered is None else self.tables.local(numbered, part)
                for (column, numbered), part in zip(columns, record.split(SEPARATOR), strict=True)
            }
        found = None
        if look and None not in key.values():
            found = self.workspace.session.get(model, tuple(key.values()))
        return model, key, found

    def remove(self, ref: Ref) -> None:
        kind, record = ref
        if kind == "mark":
            self.statuses.setdefault("read", []).append(record)
            return
        found = self._find(kind, record, look=True)[2]
        if found is not None:
            self.workspace.session.delete(found)
        if kind in NUMBERED:  # a note's number can be given again: forget it now
            self.workspace.session.execute(
                delete(TeamId).where(TeamId.kind == kind, TeamId.uid == record)
            )
            self.tables.forget(kind, record)

    def put(
        self, ref: Ref, values: dict[str, Value], before: dict[str, Value] | None
    ) -> Fingerprint:
        """Write a record's values; ``before``: what the tables hold of it, None if nothing.
        Returns the fingerprint of its sealed cells as written."""
        kind, record = ref
        if kind == "mark":
            self.statuses.setdefault(str(values["status"]), []).append(record)
            return None
        model, key, row = self._find(kind, record, look=before is not None)
        changed = {
            name: value
            for name, value in values.items()
            if before is None or before.get(name, ...) != value
        }
        sealed = {
            name: None if value is None else self.workspace.seal(str(value))
            for name, value in changed.items()
            if name in SEALED[kind]
        }
        columns = {
            COLUMNS.get(name, name): sealed.get(name, value) for name, value in changed.items()
        }
        if row is not None:
            for column, value in columns.items():
                setattr(row, column, value)
            cells = {name: getattr(row, name) for name in SEALED[kind]}
        else:
            cells = {name: sealed.get(name) for name in SEALED[kind]}
            if kind in NUMBERED:
                row = model(**columns)
                self.workspace.session.add(row)
                self.numbered.append((kind, record, row))
            else:
                self.inserts.setdefault(model, []).append({**key, **columns})
        return self.tables.fingerprint(kind, cells)

    def write_out(self) -> None:
        """Write the rows put so far, many at once, and number new claims, hypotheses, notes."""
        session = self.workspace.session
        session.flush()
        for kind, record, row in self.numbered:
            session.add(TeamId(kind=kind, local_id=row.id, uid=record))
            self.tables.numbered(kind, record, row.id)
        for model, rows in self.inserts.items():
            session.execute(insert(model), rows)
        for status, tips in self.statuses.items():
            session.execute(update(Tip).where(Tip.id.in_(tips)).values(status=status))
        self.numbered.clear()
        self.inserts.clear()
        self.statuses.clear()
