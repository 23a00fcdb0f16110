"""What the desk remembers of the team between requests: how many conflicts wait to be settled.

Counting them means syncing the team's changes, too costly for every page's menu; the count is
taken where it is cheap, when a merge or the conflicts page has just synced, and the menu shows
that. Nothing but a number is held.
"""

from __future__ import annotations

import threading


class ConflictTally:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._count: int | None = None  # unknown until a team page has counted

    @property
    def count(self) -> int | None:
        with self._guard:
            return self._count

    def found(self, count: int) -> None:
        with self._guard:
            self._count = count
