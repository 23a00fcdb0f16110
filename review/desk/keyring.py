"""What the desk holds while unlocked: the way to open the workspace, the tips it has decrypted
into memory (for search and suggestions), and when it was last used.

Each request opens the workspace afresh with the identity kept in memory, so each commits or
rolls back on its own. After ``idle`` seconds without a request the desk locks: it drops its
hold on the identity and the decrypted tips, refuses every page, and the command that serves it
exits. Python cannot wipe memory, so exiting the process is what truly forgets the key.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager

from ..service import Review
from ..service.plaintexts import Plaintexts
from ..workspace import Workspace

OpenWorkspace = Callable[[], ContextManager[Workspace]]


class Locked(Exception):
    """The desk locked itself (idle too long, or closed); the reviewer starts it again."""


class Keyring:
    def __init__(
        self,
        open_workspace: OpenWorkspace,
        idle: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_workspace: OpenWorkspace | None = open_workspace
        self.plaintexts = Plaintexts()
        self._idle = idle
        self._clock = clock
        self._last = clock()
        self._guard = threading.Lock()
        self.locked_event = threading.Event()

    @property
    def locked(self) -> bool:
        return self.locked_event.is_set()

    def check_idle(self) -> None:
        """Lock if the desk has been idle too long."""
        with self._guard:
            self._check_idle()

    def _check_idle(self) -> None:
        if self._clock() - self._last > self._idle:
            self._lock()

    def lock(self) -> None:
        with self._guard:
            self._lock()

    def _lock(self) -> None:
        self._open_workspace = None
        self.plaintexts.forget()
        self.locked_event.set()

    @contextlib.contextmanager
    def review(self) -> Iterator[Review]:
        """The reviewer's verbs on the workspace for one request; refused once locked."""
        with self._guard:
            self._check_idle()
            open_workspace = self._opener()
            self._last = self._clock()
        with open_workspace() as workspace:
            yield Review(workspace, self.plaintexts)

    def warm(self) -> None:
        """Decrypt every tip into memory (not a use: the idle clock runs on); nothing once
        locked."""
        with self._guard:
            open_workspace = self._opener()
        with open_workspace() as workspace:
            Review(workspace, self.plaintexts).warm()

    def warm_in_background(self) -> threading.Thread:
        """``warm`` in a thread of its own, so pages answer meanwhile."""
        thread = threading.Thread(target=self._warm_quietly, name="desk-warm", daemon=True)
        thread.start()
        return thread

    def _warm_quietly(self) -> None:
        with contextlib.suppress(Locked):  # locked meanwhile: nothing to hold
            self.warm()

    def _opener(self) -> OpenWorkspace:
        if self._open_workspace is None:
            raise Locked
        return self._open_workspace
