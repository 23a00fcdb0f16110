"""Team review: pinning teammates, sharing and merging exchange files, conflicts and sign-offs.

The tables stay what every other verb reads and edits. The team's changes live beside them,
sealed in batches (``TeamBatch``), and their union is this workspace's replica
(review.team_merge). Each team verb syncs: it turns the reviewer's edits since the last sync
into changes of their own (review.team_state.own_writes), then places the team's newest values
back in the tables. An import syncs too, so a link waiting for its tip counts once it arrives.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, union

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
    Link,
    Setting,
    SignOff,
    Source,
    TeamBatch,
    TeamMember,
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
    check_change,
    own_writes,
)
from ..workspace import Workspace, WorkspaceError
from .team_tables import TeamTables

SHARED_CLOCK = "team_shared_clock"  # the newest of this reviewer's changes already shared
CONFLICTS = "team_conflicts"  # the conflicts the last sync found, sealed
MAX_NAME = 40
Write = tuple[tuple[str, str, str], Value]  # a field (kind, record, name) and its new value
YOU = "you"


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

    def in_team(self) -> bool:
        """Whether this workspace works in a team: a teammate pinned, or a sign-off merged."""
        session = self.workspace.session
        teammates = select(TeamMember.key).where(TeamMember.key != str(self._own_key()))
        return session.scalar(select(teammates.exists())) or bool(
            session.scalar(select(select(SignOff.claim_id).exists()))
        )

    def add_member(self, key: str, name: str) -> Member:
        """Pin a teammate's workspace key under a name, or rename one; your own key names you."""
        try:
            member = parse_verify_key(key.strip(), KeyKind.REVIEWER)
            team_recipient(member)
        except (ValueError, ExchangeError):
            raise WorkspaceError(
                f"{key!r} is not a workspace key; ask your teammate for the cairnreviewer1... "
                'key `review team` shows them beside "you"'
            ) from None
        name = _one_line(name)
        if not name or len(name) > MAX_NAME:
            raise WorkspaceError(f"give the teammate a name of 1 to {MAX_NAME} characters")
        text = str(member)
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
            raise WorkspaceError(f"no teammate named {name!r}; `review team` lists them")
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
        """Fields two reviewers edited concurrently, each with its values and authors, as the
        last sync found them (a merge, a share, an import, a settling or a sign-off): an edit
        made here since cannot add one, only settle one."""
        return self._describe(self._kept_conflicts())

    def conflict_count(self) -> int:
        """How many conflicts ``conflicts`` lists, cheaply (for a menu)."""
        return len(self._kept_conflicts())

    def settle(
        self, number: int, keep: int = 1, *, shown_as: tuple[str, str] | None = None
    ) -> ConflictView:
        """Settle conflict ``number`` of ``conflicts`` by writing its ``keep``-th value again
        (1: the one shown). ``shown_as``: the record and field the reviewer saw numbered so,
        refused if the list has changed since."""
        shown = self._kept_conflicts()
        if not 1 <= number <= len(shown):
            raise WorkspaceError(f"no conflict {number}; `review conflicts` lists them")
        conflict = shown[number - 1]
        if not 1 <= keep <= len(conflict.changes):
            raise WorkspaceError(f"conflict {number} has values 1 to {len(conflict.changes)}")
        view = self._describe(shown)[number - 1]
        if shown_as is not None and (view.record, view.field) != shown_as:
            raise WorkspaceError("the conflicts changed since that page was shown; look again")

        def keep_the_value(replica: Replica) -> list[Write]:
            if all(found.key != conflict.key for found in _field_conflicts(replica)):
                raise WorkspaceError(
                    f"conflict {number} was settled by an edit made here since it was listed; "
                    "`review conflicts` lists those left"
                )
            return [(conflict.key, conflict.changes[keep - 1].value)]

        self._sync(then=keep_the_value)
        return view

    def sign_off(self, claim_id: int, *, withdraw: bool = False) -> SignOffView:
        """Sign off a claim as checked, or withdraw the sign-off. A reviewer who linked any of
        its evidence cannot: the check is someone else's."""
        claim = self.workspace.claim(claim_id)
        uid = TeamTables(self.workspace).uids("claim")[claim.id]
        me = self._own_key().raw

        def sign(replica: Replica) -> list[Write]:
            linkers = {  # whoever wrote what one of its live links says now
                change.stamp.author
                for (kind, record), fields in replica.winners().items()
                if kind == "link" and record.endswith(SEPARATOR + uid) and not removed(fields)
                for name, change in fields.items()
                if name != REMOVED
            }
            if me in linkers and not withdraw:
                raise WorkspaceError(
                    f"you linked evidence to claim {claim_id}, so its sign-off is a teammate's "
                    "to give"
                )
            value = None if withdraw else _evidence(self.workspace, claim.id)
            return [(("signoff", uid, me.hex()), value)]

        self._sync(then=sign)
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
        return self.workspace.signing_key.verify_key

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

    def _sync(
        self,
        incoming: Iterable[Change] = (),
        then: Callable[[Replica], Iterable[Write]] | None = None,
    ) -> Replica:
        """Capture the edits made here, merge ``incoming``, write what ``then`` says as this
        reviewer, and place the result in the tables."""
        replica = self._replica()
        tables = TeamTables(self.workspace)
        winners = replica.winners()  # what the tables were last made to hold
        held = tables.read(winners)
        own = [
            replica.write(kind, record, name, value)
            for (kind, record), name, value in own_writes(winners, held.state, held.placed)
        ]
        merged = replica.merge(incoming)
        written = [replica.write(*key, value) for key, value in (then(replica) if then else ())]
        self._keep([*own, *merged, *written])
        tables.place(replica.winners(), held)
        kept = [
            [*conflict.key, [change.to_json() for change in conflict.changes]]
            for conflict in _field_conflicts(replica)
        ]
        sealed = self.workspace.seal(json.dumps(kept, separators=(",", ":")))
        self.workspace.session.merge(Setting(name=CONFLICTS, value=sealed))
        return replica

    def _kept_conflicts(self) -> list[Conflict]:
        found = self.workspace.session.get(Setting, CONFLICTS)
        if found is None:
            return []
        return [
            Conflict((kind, record, name), tuple(Change.from_json(c) for c in changes))
            for kind, record, name, changes in json.loads(self.workspace.unseal(found.value))
        ]

    def _describe(self, conflicts: Sequence[Conflict]) -> list[ConflictView]:
        if not conflicts:
            return []
        names = self._names()
        describe = _Describer(self.workspace)
        views: list[ConflictView] = []
        for conflict in conflicts:
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


class _Describer:
    """Names a team record the way the reviewer knows it here."""

    def __init__(self, workspace: Workspace) -> None:
        session = workspace.session
        self.tables = TeamTables(workspace)
        self.tips = short_ids(list(session.scalars(select(Tip.id))))
        query = select(Source.id, Source.pseudonym)
        self.sources = {source: pseudonym for source, pseudonym in session.execute(query)}

    def _numbered(self, kind: str, uid: str) -> str:
        number = self.tables.local(kind, uid)
        return f"{kind} {number}" if number is not None else f"a removed {kind}"

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
