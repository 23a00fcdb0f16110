"""Between the team's changes and this workspace's tables: the writes a reviewer's own edits
make, and the team records the tables can hold.

A *state* maps each record, ``(kind, id)``, to its fields' values as the tables hold them. The
reviewer edits the tables as before; ``own_writes`` turns what differs from the team's newest
values into writes (review.team_merge), and ``placeable`` says which of the team's records the
tables can hold: a link to a tip not imported here yet waits, and counts once the tip arrives.

Record ids: a claim, hypothesis or note has a random id given where it was made; the others are
named by what they join: ``tip/claim`` for a link, ``source/source`` (in order) for a relation,
``hypothesis/claim`` for an ACH mark, the tip for a mark, the source for a grade, the claim for
a credibility or a sign-off. A sign-off has one field per reviewer, named by their key in hex,
which only that reviewer can write.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from .ach import MARKS
from .corroboration import BASES, RELATION_KINDS, STANCES
from .grading import CREDIBILITIES, RELIABILITIES
from .team_merge import REMOVED, Change, ChangeError, Ref, Value, removed

State = dict[Ref, dict[str, Value]]
SHARED_STATUSES = ("flagged", "discarded", "spam")  # "new" and "read" are each reviewer's own
SEPARATOR = "/"

_TEXT = (str,)
_OPTIONAL_TEXT = (str, type(None))
# kind -> field -> the values it may hold; a field in REQUIRED must be there to place a record
FIELDS: dict[str, dict[str, tuple[object, ...] | tuple[type, ...]]] = {
    "claim": {"text": _TEXT},
    "link": {"stance": STANCES, "basis": BASES, "quote": _OPTIONAL_TEXT},
    "relation": {"kind": RELATION_KINDS, "note": _OPTIONAL_TEXT},
    "mark": {"status": SHARED_STATUSES},
    "note": {"tip": _TEXT, "text": _TEXT},
    "grade": {"reliability": RELIABILITIES, "note": _OPTIONAL_TEXT},
    "credibility": {"credibility": CREDIBILITIES, "reason": _TEXT},
    "hypothesis": {"text": _TEXT},
    "ach": {"mark": MARKS, "reason": _OPTIONAL_TEXT},
    "signoff": {},
}
REQUIRED = {
    "claim": ("text",),
    "link": ("stance", "basis"),
    "relation": ("kind",),
    "mark": ("status",),
    "note": ("tip", "text"),
    "grade": ("reliability",),
    "credibility": ("credibility", "reason"),
    "hypothesis": ("text",),
    "ach": ("mark",),
    "signoff": (),
}
PAIRED = ("link", "relation", "ach")


def joined(first: str, second: str) -> str:
    return f"{first}{SEPARATOR}{second}"


def check_change(change: Change) -> None:
    """Refuse a change this workspace could not hold, so that a bad file is refused whole (I8)."""
    kind, name, value = change.kind, change.field, change.value
    if kind in PAIRED and len(change.record.split(SEPARATOR)) != 2:
        raise ChangeError(f"a {kind} change names no pair of records")
    if name == REMOVED:
        ok = type(value) is bool
    elif kind == "signoff":
        ok = name == change.stamp.author.hex() and (value is None or isinstance(value, str))
    else:
        allowed = FIELDS[kind].get(name)
        if allowed is None:
            raise ChangeError(f"a {kind} change names an unknown field {name!r}")
        ok = any(isinstance(value, t) for t in allowed if isinstance(t, type)) or any(
            type(value) is type(v) and value == v for v in allowed if not isinstance(v, type)
        )
    if not ok:
        raise ChangeError(f"a {kind} change holds a value its {name} cannot take: {value!r}")


def own_writes(
    winners: Mapping[Ref, Mapping[str, Change]], local: State, placed: Collection[Ref]
) -> list[tuple[Ref, str, Value]]:
    """The writes that make the team's newest values what the tables hold: each field edited
    here, each record added here, and a removal for each placed record gone from the tables."""
    writes: list[tuple[Ref, str, Value]] = []
    for ref, values in local.items():
        held = winners.get(ref, {})
        edits = [
            (ref, name, values.get(name))
            for name in sorted(set(values) | (set(held) - {REMOVED}))
            if name not in held or held[name].value != values.get(name)
        ]
        # An edit keeps the record: so an edit and a teammate's concurrent removal conflict,
        # and neither is lost without a word.
        if removed(held) or (edits and any(name != REMOVED for name in held)):
            writes.append((ref, REMOVED, False))
        writes += edits
    for ref in sorted(set(placed) - set(local)):
        if ref in winners and not removed(winners[ref]):
            writes.append((ref, REMOVED, True))
    return writes


@dataclass(frozen=True)
class Placement:
    """The team's live records the tables can hold, and the links waiting for their tip."""

    placed: State
    waiting: State


def placeable(
    winners: Mapping[Ref, Mapping[str, Change]], tips: Collection[str], sources: Collection[str]
) -> Placement:
    live: State = {}
    for ref, fields in winners.items():
        kind = ref[0]
        if removed(fields) or not all(name in fields for name in REQUIRED[kind]):
            continue
        live[ref] = {
            name: change.value
            for name, change in fields.items()
            if name != REMOVED and (kind != "signoff" or change.value is not None)
        }

    def claim(uid: str) -> bool:
        return ("claim", uid) in live

    def fits(ref: Ref, values: Mapping[str, Value]) -> bool:
        kind, record = ref
        first, _, second = record.partition(SEPARATOR)
        match kind:
            case "link":
                return first in tips and claim(second)
            case "relation":
                return first < second and first in sources and second in sources
            case "mark":
                return record in tips
            case "note":
                return values["tip"] in tips
            case "grade":
                return record in sources
            case "credibility" | "signoff":
                return claim(record)
            case "ach":
                return ("hypothesis", first) in live and claim(second)
            case _:
                return True

    placed, waiting = {}, {}
    for ref, values in live.items():
        if fits(ref, values):
            placed[ref] = values
        elif ref[0] == "link" and claim(ref[1].partition(SEPARATOR)[2]):
            waiting[ref] = values
    return Placement(placed, waiting)
