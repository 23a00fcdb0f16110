"""Decrypted tips and notes held in memory, so that a search or the suggestions need not decrypt
every tip again.

The desk keeps one for as long as it is unlocked and forgets it when it locks; a verb called
from the command line gets a fresh one that lives as long as the command. Nothing here is ever
written anywhere (I9); Python cannot wipe memory, so the process ending is what truly forgets.

Nothing goes stale: a tip's name and text never change after import, a note is looked up by its
own ciphertext, and the suggestions are remembered with the tips they were worked out from.
Tips imported since are opened the first time they are asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..models import Tip
from ..suggest import Suggestion
from ..tip_content import Summaries, message_text
from ..workspace import Workspace

CHUNK = 200  # tips opened under one hold of the lock, so other requests wait little


@dataclass(frozen=True)
class TipText:
    """What a search and the suggestions read of one tip."""

    text: str | None  # a message's text; None for a file
    searchable: str  # its name and text, case-folded


class Plaintexts:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._suggesting = threading.Lock()  # one caller works the suggestions out; others wait
        self._tips: dict[str, TipText] = {}
        self._notes: dict[bytes, str] = {}
        self._suggested: tuple[Hashable, list[Suggestion]] | None = None
        self._forgotten = False

    def __len__(self) -> int:
        return len(self._tips)

    def tips(self, workspace: Workspace, ids: Sequence[str]) -> dict[str, TipText]:
        """Each of ``ids``' text, decrypting into memory those not held yet, a chunk at a time
        (two callers never open the same tip twice)."""
        found: dict[str, TipText] = {}
        summaries = Summaries(workspace)  # each import's unsealed once for every chunk
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            with self._guard:
                missing = [tip_id for tip_id in chunk if tip_id not in self._tips]
                opened = _open(workspace, summaries, missing) if missing else {}
                if not self._forgotten:
                    self._tips.update(opened)
                found.update(opened)
                found.update(
                    (tip_id, self._tips[tip_id]) for tip_id in chunk if tip_id in self._tips
                )
        return found

    def notes(self, workspace: Workspace, sealed: Iterable[bytes]) -> dict[bytes, str]:
        """Each sealed note's text, unsealing into memory those not held yet."""
        with self._guard:
            found = {
                note: self._notes[note] if note in self._notes else workspace.unseal(note)
                for note in sealed
            }
            if not self._forgotten:
                self._notes.update(found)
        return found

    def suggested(
        self, key: Hashable, work_out: Callable[[], list[Suggestion]]
    ) -> list[Suggestion]:
        """The suggestions last worked out for ``key`` (what they depend on), or new ones."""
        with self._suggesting:
            with self._guard:
                if self._suggested is not None and self._suggested[0] == key:
                    return self._suggested[1]
            found = work_out()
            with self._guard:
                if not self._forgotten:
                    self._suggested = (key, found)
            return found

    def forget(self) -> None:
        """Drop every text held, and hold none from now on."""
        with self._guard:
            self._forgotten = True
            self._tips.clear()
            self._notes.clear()
            self._suggested = None


def _open(workspace: Workspace, summaries: Summaries, ids: list[str]) -> dict[str, TipText]:
    tips = workspace.session.scalars(
        select(Tip).where(Tip.id.in_(ids)).options(selectinload(Tip.imported))
    )
    opened = {}
    for tip in tips:
        text = message_text(workspace, tip) if tip.kind == "message" else None
        name = summaries.of(tip).name
        opened[tip.id] = TipText(text, f"{name}\0{text or ''}".casefold())
    return opened
