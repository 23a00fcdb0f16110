"""Ids as a terminal shows them: each cut to the shortest prefix that names it alone, as git does.

A tip id is 32 hex characters; a table of them leaves no room for the tip's words. Every
command that takes a tip accepts a unique prefix (``Workspace.tip``), so a table shows the
prefix the reviewer can type back. ``--json`` keeps whole ids for scripts.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import takewhile

SHORTEST = 7  # as git: short enough to read, long enough to stay unique as a workspace grows


def _shared(first: str, second: str) -> int:
    """How many leading characters ``first`` and ``second`` have in common."""
    return sum(
        1 for _ in takewhile(lambda pair: pair[0] == pair[1], zip(first, second, strict=False))
    )


def short_ids(ids: Iterable[str], shortest: int = SHORTEST) -> dict[str, str]:
    """Each of ``ids`` mapped to its shortest prefix, at least ``shortest`` long, that no other
    id starts with (the whole id when another id starts with all of it: input takes an exact
    match first)."""
    ordered = sorted(set(ids))
    shown: dict[str, str] = {}
    for index, id_ in enumerate(ordered):
        # Ids sharing a prefix with this one sort next to it: its two neighbours decide.
        neighbours = ordered[max(index - 1, 0) : index] + ordered[index + 1 : index + 2]
        length = max([shortest, *(_shared(id_, neighbour) + 1 for neighbour in neighbours)])
        shown[id_] = id_[:length]
    return shown
