"""Merging a team's review work: every record field is a last-writer-wins register that keeps
concurrent writes as conflicts until a reviewer settles them.

A record (claim, link, relation, mark, ...) has a stable id, given when it is made. Each write of
one of its fields is a ``Change`` stamped with a Lamport clock and its author's workspace key;
stamps are ordered by (clock, author bytes), so any two differ. A change also carries ``seen``:
for each author, the newest clock of that author's writes to the same field the writer had when
it wrote. A change is *superseded* when another change to the field has seen it (its ``seen``
for the author reaches its clock); two changes are *concurrent* when neither has seen the other.
A field's value is its newest change by stamp (never superseded, since a writer's clock passes
everything it has seen); its conflict is the set of unsuperseded changes, when their values
differ. Removal is a tombstone: a write of ``REMOVED`` = true, which later writes can undo.

A replica's state is the set of changes it holds, so merging is set union: commutative,
associative and idempotent, and every view is a function of that set alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeGuard

KINDS = frozenset(
    {
        "claim",
        "link",
        "relation",
        "mark",
        "note",
        "grade",
        "credibility",
        "hypothesis",
        "ach",
        "signoff",
    }
)
REMOVED = "removed"
AUTHOR_BYTES = 32
MAX_CLOCK = 2**62  # fits a database's 64-bit integer

Value = str | int | bool | None
FieldKey = tuple[str, str, str]  # kind, record id, field
Ref = tuple[str, str]  # kind, record id


class ChangeError(ValueError):
    """A change that is not well formed; the message is one line."""


@dataclass(frozen=True, order=True)
class Stamp:
    clock: int
    author: bytes


@dataclass(frozen=True)
class Change:
    kind: str
    record: str
    field: str
    value: Value
    stamp: Stamp
    seen: tuple[tuple[bytes, int], ...] = ()  # sorted (author, clock) pairs

    @property
    def key(self) -> FieldKey:
        return (self.kind, self.record, self.field)

    def has_seen(self, other: Change) -> bool:
        return dict(self.seen).get(other.stamp.author, 0) >= other.stamp.clock

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "record": self.record,
            "field": self.field,
            "value": self.value,
            "clock": self.stamp.clock,
            "author": self.stamp.author.hex(),
            "seen": {author.hex(): clock for author, clock in self.seen},
        }

    @classmethod
    def from_json(cls, fields: Mapping[str, object]) -> Change:
        try:
            kind, record, name = fields["kind"], fields["record"], fields["field"]
            value, clock, seen = fields["value"], fields["clock"], fields["seen"]
            author = bytes.fromhex(str(fields["author"]))
            if not isinstance(seen, dict):
                raise TypeError
            pairs = tuple(sorted((bytes.fromhex(a), c) for a, c in seen.items()))
        except (KeyError, TypeError, ValueError):
            raise ChangeError("a change is not well formed") from None
        if not (isinstance(kind, str) and kind in KINDS):
            raise ChangeError(f"a change names an unknown kind of record {kind!r}")
        if not (isinstance(record, str) and isinstance(name, str) and record and name):
            raise ChangeError("a change has no record id or field")
        if value is not None and not isinstance(value, str | int | bool):
            raise ChangeError("a change's value is not text, a number or true/false")
        # A writer's clock passes every clock it has seen: a change claiming to have seen the
        # future would hide writes made after it.
        if not _is_clock(clock) or not all(
            len(a) == AUTHOR_BYTES and _is_clock(c) and c < clock for a, c in pairs
        ):
            raise ChangeError("a change's clock is not well formed")
        if len(author) != AUTHOR_BYTES:
            raise ChangeError("a change's author is not a workspace key")
        return cls(kind, record, name, value, Stamp(clock, author), pairs)


def _is_clock(value: object) -> TypeGuard[int]:
    return type(value) is int and 0 < value < MAX_CLOCK


@dataclass(frozen=True)
class Conflict:
    """Concurrent writes to one field, newest first; settled by writing the field again."""

    key: FieldKey
    changes: tuple[Change, ...]


class Replica:
    """One workspace's copy of the team's changes; writes are made as ``author``."""

    def __init__(self, author: bytes, changes: Iterable[Change] = ()) -> None:
        self.author = author
        self.changes: dict[Stamp, Change] = {}
        self._by_key: dict[FieldKey, dict[Stamp, Change]] = {}
        self.clock = 0
        self.merge(changes)

    def write(self, kind: str, record: str, name: str, value: Value) -> Change:
        """Write a field, superseding every write of it this replica holds (settling any
        conflict there)."""
        seen: dict[bytes, int] = {}
        for change in self._by_key.get((kind, record, name), {}).values():
            for author, clock in (*change.seen, (change.stamp.author, change.stamp.clock)):
                seen[author] = max(seen.get(author, 0), clock)
        stamp = Stamp(self.clock + 1, self.author)
        change = Change(kind, record, name, value, stamp, tuple(sorted(seen.items())))
        self._hold(change)
        return change

    def own_changes(self) -> list[Change]:
        """What this replica shares: the changes its author wrote, oldest first."""
        own = (c for c in self.changes.values() if c.stamp.author == self.author)
        return sorted(own, key=lambda c: c.stamp)

    def remove(self, kind: str, record: str) -> Change:
        return self.write(kind, record, REMOVED, True)

    def merge(self, changes: Iterable[Change]) -> list[Change]:
        """Hold ``changes``; returns those that were new here."""
        added = []
        for change in changes:
            held = self.changes.get(change.stamp)
            # One author never writes two changes with one stamp; if a damaged or hostile
            # file claims so, keep the same one everywhere, so replicas still agree.
            if held is None or repr(change) > repr(held):
                if held is not None:
                    del self._by_key[held.key][held.stamp]
                self._hold(change)
                added.append(change)
        return added

    def _hold(self, change: Change) -> None:
        self.changes[change.stamp] = change
        self._by_key.setdefault(change.key, {})[change.stamp] = change
        self.clock = max(self.clock, change.stamp.clock)

    def fields(self) -> dict[FieldKey, list[Change]]:
        """Every field's unsuperseded writes, newest first."""
        return {key: _live(writes) for key, writes in self._by_key.items() if writes}

    def winners(self) -> dict[Ref, dict[str, Change]]:
        """Every record, removed ones too, and the newest write of each of its fields."""
        found: dict[Ref, dict[str, Change]] = {}
        for change in self.changes.values():
            fields = found.setdefault((change.kind, change.record), {})
            held = fields.get(change.field)
            if held is None or change.stamp > held.stamp:
                fields[change.field] = change
        return found

    def records(self) -> dict[Ref, dict[str, Value]]:
        """The live records and their fields' values: the newest write of each field."""
        return {
            ref: {name: change.value for name, change in fields.items() if name != REMOVED}
            for ref, fields in self.winners().items()
            if not removed(fields)
        }

    def conflicts(self) -> list[Conflict]:
        """Fields whose concurrent writes disagree, in a stable order."""
        found = []
        for key in sorted(key for key, writes in self._by_key.items() if len(writes) > 1):
            live = _live(self._by_key[key])
            if len({repr(c.value) for c in live}) > 1:
                found.append(Conflict(key, tuple(live)))
        return found


def _live(writes: Mapping[Stamp, Change]) -> list[Change]:
    """The writes of one field that no other has seen, newest first."""
    return sorted(
        (
            c
            for c in writes.values()
            if not any(o is not c and o.has_seen(c) for o in writes.values())
        ),
        key=lambda c: c.stamp,
        reverse=True,
    )


def removed(fields: Mapping[str, Change]) -> bool:
    """Whether a record's newest write of ``REMOVED`` removed it."""
    tombstone = fields.get(REMOVED)
    return tombstone is not None and tombstone.value is True


def changes_signed_by(objects: Iterable[Mapping[str, object]], signer: bytes) -> list[Change]:
    """The changes of an exchange file signed by ``signer``. A file carries only its sender's
    own changes, so no teammate can put words in another's name; one that does not is refused
    whole."""
    changes = [Change.from_json(fields) for fields in objects]
    if any(change.stamp.author != signer for change in changes):
        raise ChangeError(
            "the exchange file carries changes written by someone other than its signer"
        )
    return changes
