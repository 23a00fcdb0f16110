"""Team review: pinning teammates, sharing and merging exchange files, conflicts and sign-offs.

The tables stay what every other verb reads and edits. The team's changes live beside them,
sealed in batches (``TeamBatch``), and their union is this workspace's replica
(review.team_merge). Each team verb syncs: it turns the reviewer's edits since the last sync
into changes of their own (review.team_state.own_writes), then places the team's newest values
back in the tables. An import syncs too, so a link waiting for its tip counts once it arrives.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, union, update

from keys.exchange import (
    MAX_FILE_BYTES,
    ExchangeError,
    open_exchange,
    seal_exchange,
    team_identity,
    team_recipient,
)
from keys.private_files import open_new
from keys.signing import KeyKind, VerifyKey, parse_verify_key

from ..models import (
    AchMark,
    Claim,
    CredibilityOverride,
    Hypothesis,
    Link,
    Note,
    Relation,
    Setting,
    SignOff,
    Source,
    SourceGrade,
    TeamBatch,
    TeamId,
    TeamMember,
    TeamPlaced,
    Tip,
    WaitingLink,
)
from ..short_ids import short_ids
from ..team_merge import (
    REMOVED,
    Change,
    ChangeError,
    Conflict,
    Replica,
    Value,
    changes_signed_by,
    removed,
)
from ..team_state import (
    SEPARATOR,
    SHARED_STATUSES,
    State,
    check_change,
    joined,
    own_writes,
    placeable,
)
from ..workspace import Workspace, WorkspaceError

SHARED_CLOCK = "team_shared_clock"  # the newest of this reviewer's changes already shared
MAX_NAME = 40
YOU = "you"
UID_BYTES = 12
NUMBERED = {"claim": Claim, "hypothesis": Hypothesis, "note": Note}  # kinds with local numbers


@dataclass(frozen=True)
class Member:
    name: str
    key: str
    you: bool
    removed: bool


@dataclass(frozen=True)
class Shared:
    path: Path
    changes: int
    members: tuple[str, ...]  # who can open it, by name


@dataclass(frozen=True)
class Merged:
    sender: str
    changes: int  # in the file
    new: int  # not held here before: 0 for a file merged twice
    conflicts: int  # after the merge, in the whole workspace
    waiting: int  # links waiting for a tip not imported here yet


@dataclass(frozen=True)
class Alternative:
    value: str
    author: str


@dataclass(frozen=True)
class ConflictView:
    """Concurrent edits of one field; the first alternative is the one the tables show."""

    number: int
    record: str
    field: str
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class SignOffView:
    claim: int
    reviewer: str
    current: bool  # False when the claim's links changed after the sign-off


@dataclass(frozen=True)
class WaitingView:
    claim: int
    tip: str
    stance: str
    basis: str


def _one_line(text: str) -> str:
    return " ".join(text.split())


class Team:
    workspace: Workspace

    # -- members -----------------------------------------------------------------------------

    def team(self) -> list[Member]:
        """This reviewer first, then the teammates they pinned, by name."""
        own = self._own_key()
        rows = {row.key: row for row in self.workspace.session.scalars(select(TeamMember))}
        me = rows.pop(str(own), None)
        you = Member(YOU if me is None else self.workspace.unseal(me.name), str(own), True, False)
        others = [
            Member(self.workspace.unseal(row.name), row.key, False, row.removed)
            for row in rows.values()
        ]
        return [you, *sorted(others, key=lambda m: (m.removed, m.name.lower()))]

    def add_member(self, key: str, name: str) -> Member:
        """Pin a teammate's workspace key under a name, or rename one; your own key names you."""
        try:
            member = parse_verify_key(key.strip(), KeyKind.REVIEWER)
            team_recipient(member)
        except (ValueError, ExchangeError):
            raise WorkspaceError(
                f"{key!r} is not a workspace key; ask your teammate for the cairnreviewer1... "
                'key `review team list` shows them beside "you"'
            ) from None
        name = _one_line(name)
        if not name or len(name) > MAX_NAME:
            raise WorkspaceError(f"give the teammate a name of 1 to {MAX_NAME} characters")
        text = str(VerifyKey(member.raw, KeyKind.REVIEWER))
        for other in self.team():
            if other.name.lower() == name.lower() and other.key != text:
                raise WorkspaceError(f"{other.name!r} already names another key; choose another")
        self.workspace.session.merge(
            TeamMember(key=text, name=self.workspace.seal(name), removed=False)
        )
        self.workspace.session.flush()
        return next(m for m in self.team() if m.key == text)

    def remove_member(self, name: str) -> Member:
        """Stop sharing with a teammate and refuse their files; their work merged so far stays."""
        found = [m for m in self.team() if m.name.lower() == _one_line(name).lower()]
        if not found or found[0].you:
            raise WorkspaceError(f"no teammate named {name!r}; `review team list` lists them")
        row = self.workspace.session.get_one(TeamMember, found[0].key)
        row.removed = True
        return Member(found[0].name, row.key, False, True)

    # -- exchange files ----------------------------------------------------------------------

    def share(self, out: Path, *, everything: bool = False) -> Shared:
        """Write the changes made here since the last share (every one, with ``everything``),
        signed by this workspace and sealed to the team."""
        replica = self._sync()
        members = [m for m in self.team() if not m.you and not m.removed]
        if not members:
            raise WorkspaceError(
                "the team has no members to share with: add one with `review team add`"
            )
        since = 0 if everything else self._shared_clock()
        own = [change for change in replica.own_changes() if change.stamp.clock > since]
        if not own:
            raise WorkspaceError(
                "nothing has changed here since your last share; `review share --all` "
                "sends all your work again"
            )
        keys = [self._own_key(), *(parse_verify_key(m.key, KeyKind.REVIEWER) for m in members)]
        data = seal_exchange(
            [change.to_json() for change in own],
            self.workspace.signing_key,
            [team_recipient(key) for key in keys],
        )
        try:
            with open_new(out) as file:
                file.write(data)
        except FileExistsError:
            raise WorkspaceError(f"{out} already exists; give --out a new file") from None
        self.workspace.session.merge(
            Setting(name=SHARED_CLOCK, value=self.workspace.seal(str(own[-1].stamp.clock)))
        )
        return Shared(out, len(own), tuple(m.name for m in members))

    def merge(self, path: Path) -> Merged:
        """Merge a teammate's exchange file; one from a key not pinned, altered, or holding a
        change this workspace cannot take is refused whole, and merges nothing."""
        if path.stat().st_size > MAX_FILE_BYTES:
            raise WorkspaceError(f"{path} is larger than any exchange file; nothing was merged")
        members = {m: parse_verify_key(m.key, KeyKind.REVIEWER) for m in self.team()}
        pinned = [key for m, key in members.items() if not m.removed]
        removed = [key for m, key in members.items() if m.removed]
        try:
            exchange = open_exchange(
                path.read_bytes(), team_identity(self.workspace.signing_key), pinned, removed
            )
            changes = changes_signed_by(exchange.changes, exchange.signer.raw)
            for change in changes:
                check_change(change)
        except (ExchangeError, ChangeError) as err:
            raise WorkspaceError(f"{path}: {err}; nothing was merged") from None
        replica = self._sync(changes)
        conflicts = len(_field_conflicts(replica))
        waiting = self.workspace.session.scalar(select(func.count()).select_from(WaitingLink))
        new = sum(1 for change in changes if replica.changes[change.stamp] is change)
        return Merged(
            self._names()[exchange.signer.raw], len(changes), new, conflicts, waiting or 0
        )

    def sync_team(self) -> None:
        """Place what the team's changes say now that the tables may hold more (an import)."""
        if self.workspace.session.scalar(select(func.count()).select_from(TeamBatch)):
            self._sync()

    # -- conflicts and sign-offs -------------------------------------------------------------

    def conflicts(self) -> list[ConflictView]:
        """Fields two reviewers edited concurrently, each with its values and authors."""
        return self._conflicts(self._sync())

    def settle(self, number: int, keep: int = 1) -> ConflictView:
        """Settle a conflict by writing the ``keep``-th of its values again (1: the one shown)."""
        replica = self._sync()
        found = _field_conflicts(replica)
        if not 1 <= number <= len(found):
            raise WorkspaceError(f"no conflict {number}; `review conflicts` lists them")
        conflict = found[number - 1]
        if not 1 <= keep <= len(conflict.changes):
            raise WorkspaceError(f"conflict {number} has values 1 to {len(conflict.changes)}")
        view = self._conflicts(replica)[number - 1]
        self._write(replica, [(conflict.key, conflict.changes[keep - 1].value)])
        return view

    def sign_off(self, claim_id: int, *, withdraw: bool = False) -> SignOffView:
        """Sign off a claim as checked, or withdraw the sign-off. A reviewer who linked any of
        its evidence cannot: the check is someone else's."""
        replica = self._sync()
        claim = self.workspace.claim(claim_id)
        uid = self._uids("claim")[claim.id]
        me = self._own_key().raw
        linkers = {
            fields["stance"].stamp.author
            for (kind, record), fields in replica.winners().items()
            if kind == "link"
            and record.endswith(SEPARATOR + uid)
            and "stance" in fields
            and not removed(fields)
        }
        if me in linkers and not withdraw:
            raise WorkspaceError(
                f"you linked evidence to claim {claim_id}, so its sign-off is a teammate's to give"
            )
        value = None if withdraw else _evidence(self.workspace, claim.id)
        self._write(replica, [(("signoff", uid, me.hex()), value)])
        return SignOffView(claim.id, self._names()[me], True)

    def sign_offs(self) -> dict[int, list[SignOffView]]:
        """Each signed-off claim's sign-offs, by reviewer name."""
        names = {raw.hex(): name for raw, name in self._names().items()}
        found: dict[int, list[SignOffView]] = {}
        evidence: dict[int, str] = {}
        for row in self.workspace.session.scalars(select(SignOff).order_by(SignOff.claim_id)):
            if row.claim_id not in evidence:
                evidence[row.claim_id] = _evidence(self.workspace, row.claim_id)
            name = names.get(row.reviewer, row.reviewer[:12])
            current = row.evidence == evidence[row.claim_id]
            found.setdefault(row.claim_id, []).append(SignOffView(row.claim_id, name, current))
        return found

    def waiting_links(self) -> list[WaitingView]:
        """Teammates' links to tips not imported here yet: they count once the tip arrives."""
        rows = self.workspace.session.scalars(
            select(WaitingLink).order_by(WaitingLink.claim_id, WaitingLink.tip_id)
        )
        return [WaitingView(r.claim_id, r.tip_id, r.stance, r.basis) for r in rows]

    # -- the replica -------------------------------------------------------------------------

    def _own_key(self) -> VerifyKey:
        return VerifyKey(self.workspace.signing_key.verify_key.raw, KeyKind.REVIEWER)

    def _names(self) -> dict[bytes, str]:
        return {parse_verify_key(m.key, KeyKind.REVIEWER).raw: m.name for m in self.team()}

    def _shared_clock(self) -> int:
        found = self.workspace.session.get(Setting, SHARED_CLOCK)
        return 0 if found is None else int(self.workspace.unseal(found.value))

    def _replica(self) -> Replica:
        replica = Replica(self._own_key().raw)
        for sealed in self.workspace.session.scalars(
            select(TeamBatch.changes).order_by(TeamBatch.id)
        ):
            replica.merge(
                Change.from_json(fields) for fields in json.loads(self.workspace.unseal(sealed))
            )
        return replica

    def _keep(self, changes: Sequence[Change]) -> None:
        if changes:
            text = json.dumps([change.to_json() for change in changes], separators=(",", ":"))
            self.workspace.session.add(TeamBatch(changes=self.workspace.seal(text)))

    def _sync(self, incoming: Iterable[Change] = ()) -> Replica:
        """Capture the edits made here, merge ``incoming``, and place the result in the tables."""
        replica = self._replica()
        local = self._local()
        query = select(TeamPlaced.kind, TeamPlaced.record)
        placed = {(kind, record) for kind, record in self.workspace.session.execute(query)}
        own = [
            replica.write(kind, record, name, value)
            for (kind, record), name, value in own_writes(replica.winners(), local, placed)
        ]
        self._keep([*own, *replica.merge(incoming)])
        self._place(replica, local)
        return replica

    def _write(
        self, replica: Replica, writes: Iterable[tuple[tuple[str, str, str], Value]]
    ) -> None:
        """Write fields as this reviewer (the replica has just been synced) and place them."""
        self._keep([replica.write(*key, value) for key, value in writes])
        self._place(replica, self._local())

    # -- between the tables and the team's records -------------------------------------------

    def _uids(self, kind: str) -> dict[int, str]:
        """The team-wide id of each local claim, hypothesis or note; new ones are given one."""
        session = self.workspace.session
        model: Any = NUMBERED[kind]
        query = select(TeamId.local_id, TeamId.uid).where(TeamId.kind == kind)
        mapped = {local_id: uid for local_id, uid in session.execute(query)}
        present = set(session.scalars(select(model.id)))
        for local_id in present - mapped.keys():
            mapped[local_id] = secrets.token_hex(UID_BYTES)
            session.add(TeamId(kind=kind, local_id=local_id, uid=mapped[local_id]))
        gone = mapped.keys() - present
        if gone:
            session.execute(delete(TeamId).where(TeamId.kind == kind, TeamId.local_id.in_(gone)))
        session.flush()
        return {local_id: uid for local_id, uid in mapped.items() if local_id in present}

    def _local(self) -> State:
        """What the tables hold, as team records (sign-offs are placed only: see ``sign_off``)."""
        w, session = self.workspace, self.workspace.session
        claims, hypotheses, notes = (
            self._uids("claim"),
            self._uids("hypothesis"),
            self._uids("note"),
        )
        text = w.unseal

        def optional(sealed: bytes | None) -> str | None:
            return None if sealed is None else text(sealed)

        state: State = {}
        for claim_id, sealed in session.execute(select(Claim.id, Claim.text)):
            state["claim", claims[claim_id]] = {"text": text(sealed)}
        for hypothesis_id, sealed in session.execute(select(Hypothesis.id, Hypothesis.text)):
            state["hypothesis", hypotheses[hypothesis_id]] = {"text": text(sealed)}
        for note_id, tip, sealed in session.execute(select(Note.id, Note.tip_id, Note.text)):
            state["note", notes[note_id]] = {"tip": tip, "text": text(sealed)}
        for link in session.scalars(select(Link)):
            state["link", joined(link.tip_id, claims[link.claim_id])] = {
                "stance": link.stance,
                "basis": link.basis,
                "quote": optional(link.quote),
            }
        for relation in session.scalars(select(Relation)):
            state["relation", joined(relation.source_a, relation.source_b)] = {
                "kind": relation.kind,
                "note": optional(relation.note),
            }
        for tip, status in session.execute(
            select(Tip.id, Tip.status).where(Tip.status.in_(SHARED_STATUSES))
        ):
            state["mark", tip] = {"status": status}
        for grade in session.scalars(select(SourceGrade)):
            state["grade", grade.source_id] = {
                "reliability": grade.reliability,
                "note": optional(grade.note),
            }
        for override in session.scalars(select(CredibilityOverride)):
            state["credibility", claims[override.claim_id]] = {
                "credibility": override.credibility,
                "reason": text(override.reason),
            }
        for mark in session.scalars(select(AchMark)):
            state["ach", joined(hypotheses[mark.hypothesis_id], claims[mark.claim_id])] = {
                "mark": mark.mark,
                "reason": optional(mark.reason),
            }
        return state

    def _place(self, replica: Replica, local: State) -> None:
        """Make the tables hold the team's placeable records, and nothing else of the team's."""
        session = self.workspace.session
        tips = set(session.scalars(select(Tip.id)))
        sources = set(session.scalars(select(Source.id)))
        placement = placeable(replica.winners(), tips, sources)
        wanted = {ref: values for ref, values in placement.placed.items() if ref[0] != "signoff"}
        rows = _Rows(self.workspace, self._uids)
        with session.no_autoflush:  # rows go in a kind at a time, not one by one
            for ref in sorted(local.keys() - wanted.keys(), key=_dependents_first):
                rows.remove(ref)
            rows.write_out()
            for kind in ORDER:  # a kind's new rows are numbered before the next kind names them
                for ref in sorted(r for r in wanted if r[0] == kind and local.get(r) != wanted[r]):
                    rows.put(ref, wanted[ref], local.get(ref))
                rows.write_out()
        session.execute(delete(TeamPlaced))
        if wanted:
            session.execute(
                insert(TeamPlaced), [{"kind": kind, "record": record} for kind, record in wanted]
            )
        claims = {uid: local_id for local_id, uid in self._uids("claim").items()}
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
        session.flush()

    def _conflicts(self, replica: Replica) -> list[ConflictView]:
        names = self._names()
        describe = _Describer(self.workspace, self._uids)
        views: list[ConflictView] = []
        for conflict in _field_conflicts(replica):
            kind, record, name = conflict.key
            views.append(
                ConflictView(
                    len(views) + 1,
                    describe(kind, record),
                    "removed" if name == REMOVED else name,
                    tuple(
                        Alternative(
                            _shown(change.value, name),
                            names.get(change.stamp.author, change.stamp.author.hex()[:12]),
                        )
                        for change in conflict.changes
                    ),
                )
            )
        return views


ORDER = ("claim", "hypothesis", "note", "link", "relation", "mark", "grade", "credibility", "ach")


def _parents_first(ref: tuple[str, str]) -> tuple[int, str]:
    return ORDER.index(ref[0]), ref[1]


def _dependents_first(ref: tuple[str, str]) -> tuple[int, str]:
    return -ORDER.index(ref[0]), ref[1]


def _field_conflicts(replica: Replica) -> list[Conflict]:
    """The conflicts a reviewer settles: a sign-off is one reviewer's alone, so never one."""
    return [conflict for conflict in replica.conflicts() if conflict.key[0] != "signoff"]


def _shown(value: Value, name: str) -> str:
    if name == REMOVED:
        return "removed" if value is True else "kept"
    return "(none)" if value is None else str(value)


def _evidence(workspace: Workspace, claim_id: int) -> str:
    """A claim's links as a sign-off records them, ``tip:stance:basis`` in order: those placed
    here and those waiting for their tip, so every teammate records the same evidence."""
    rows = workspace.session.execute(
        union(
            select(Link.tip_id, Link.stance, Link.basis).where(Link.claim_id == claim_id),
            select(WaitingLink.tip_id, WaitingLink.stance, WaitingLink.basis).where(
                WaitingLink.claim_id == claim_id
            ),
        ).order_by("tip_id")
    )
    return ",".join(f"{tip}:{stance}:{basis}" for tip, stance, basis in rows)


SEALED_FIELDS = frozenset({"text", "quote", "note", "reason"})
COLUMNS = {"tip": "tip_id"}  # a field named otherwise than its column
JOINING: dict[str, Any] = {  # kind -> its table, and the team records its key columns name
    "link": (Link, (("tip_id", None), ("claim_id", "claim"))),
    "relation": (Relation, (("source_a", None), ("source_b", None))),
    "grade": (SourceGrade, (("source_id", None),)),
    "credibility": (CredibilityOverride, (("claim_id", "claim"),)),
    "ach": (AchMark, (("hypothesis_id", "hypothesis"), ("claim_id", "claim"))),
}


class _Rows:
    """Puts one team record into the tables, or takes it out."""

    def __init__(self, workspace: Workspace, uids: Callable[[str], dict[int, str]]) -> None:
        self.workspace = workspace
        self.uids = uids
        self.locals: dict[str, dict[str, int]] = {}
        self.numbered: list[tuple[str, str, Any]] = []
        self.inserts: dict[Any, list[dict[str, object]]] = {}
        self.statuses: dict[str, list[str]] = {}

    def local(self, kind: str, uid: str) -> int | None:
        if kind not in self.locals:
            self.locals[kind] = {u: i for i, u in self.uids(kind).items()}
        return self.locals[kind].get(uid)

    def _find(
        self, kind: str, record: str, *, look: bool = True
    ) -> tuple[Any, dict[str, object], Any]:
        """The table of a record, its key columns, and its row if there is one (if ``look``)."""
        model: Any
        key: dict[str, object]
        if kind in NUMBERED:
            model, key = NUMBERED[kind], {"id": self.local(kind, record)}
        else:
            model, columns = JOINING[kind]
            parts = record.split(SEPARATOR)
            key = {
                column: part if numbered is None else self.local(numbered, part)
                for (column, numbered), part in zip(columns, parts, strict=True)
            }
        found = None
        if look and None not in key.values():
            found = self.workspace.session.get(model, tuple(key.values()))
        return model, key, found

    def remove(self, ref: tuple[str, str]) -> None:
        kind, record = ref
        if kind == "mark":
            self.statuses.setdefault("read", []).append(record)
            return
        found = self._find(kind, record)[2]
        if found is not None:
            self.workspace.session.delete(found)
        if kind in NUMBERED:  # a note's number can be given again: forget it now
            self.workspace.session.execute(
                delete(TeamId).where(TeamId.kind == kind, TeamId.uid == record)
            )
            self.locals.get(kind, {}).pop(record, None)

    def put(
        self, ref: tuple[str, str], values: dict[str, Value], before: dict[str, Value] | None
    ) -> None:
        """Write a record's values; ``before``: what the tables hold of it, None if nothing."""
        kind, record = ref
        if kind == "mark":
            self.statuses.setdefault(str(values["status"]), []).append(record)
            return
        model, key, row = self._find(kind, record, look=before is not None)
        columns = {
            COLUMNS.get(name, name): self._stored(name, value)
            for name, value in values.items()
            if before is None or before.get(name, ...) != value
        }
        if row is not None:
            for column, value in columns.items():
                setattr(row, column, value)
        elif kind in NUMBERED:
            row = model(**columns)
            self.workspace.session.add(row)
            self.numbered.append((kind, record, row))
        else:
            self.inserts.setdefault(model, []).append({**key, **columns})

    def _stored(self, name: str, value: Value) -> Value | bytes:
        sealed = name in SEALED_FIELDS and value is not None
        return self.workspace.seal(str(value)) if sealed else value

    def write_out(self) -> None:
        """Write the rows put so far, many at once, and number new claims, hypotheses, notes."""
        session = self.workspace.session
        session.flush()
        for kind, record, row in self.numbered:
            session.add(TeamId(kind=kind, local_id=row.id, uid=record))
            self.locals.setdefault(kind, {})[record] = row.id
        for model, rows in self.inserts.items():
            session.execute(insert(model), rows)
        for status, tips in self.statuses.items():
            session.execute(update(Tip).where(Tip.id.in_(tips)).values(status=status))
        self.numbered.clear()
        self.inserts.clear()
        self.statuses.clear()


class _Describer:
    """Names a team record the way the reviewer knows it here."""

    def __init__(self, workspace: Workspace, uids: Any) -> None:
        session = workspace.session
        self.numbers = {
            kind: {uid: local for local, uid in uids(kind).items()}
            for kind in ("claim", "hypothesis")
        }
        self.tips = short_ids(list(session.scalars(select(Tip.id))))
        query = select(Source.id, Source.pseudonym)
        self.sources = {source: pseudonym for source, pseudonym in session.execute(query)}

    def _numbered(self, kind: str, uid: str) -> str:
        number = self.numbers[kind].get(uid)
        return f"{kind} {number}" if number is not None else f"a {kind} removed here"

    def _tip(self, tip: str) -> str:
        short = self.tips.get(tip)
        return f"tip {short}" if short else f"tip {tip} (not imported here yet)"

    def __call__(self, kind: str, record: str) -> str:
        first, _, second = record.partition(SEPARATOR)
        match kind:
            case "claim" | "hypothesis" | "credibility":
                return self._numbered("claim" if kind == "credibility" else kind, record)
            case "link":
                return f"{self._tip(first)} on {self._numbered('claim', second)}"
            case "relation":
                return " and ".join(
                    self.sources.get(s, "a source not imported here yet") for s in (first, second)
                )
            case "mark":
                return self._tip(record)
            case "grade":
                return self.sources.get(record, "a source not imported here yet")
            case "ach":
                claim, hypothesis = (
                    self._numbered("claim", second),
                    self._numbered("hypothesis", first),
                )
                return f"{claim} against {hypothesis}"
            case _:
                return "a note"
