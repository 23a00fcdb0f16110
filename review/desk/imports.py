"""One bundle import at a time, in a thread the desk owns, so a page can show how far it got.

The import opens the workspace in its own thread with the identity in memory, as a request
does, and commits or rolls back on its own; the page that watches it only reads its counts.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path

from ..service.bundles import Imported
from ..workspace import WorkspaceError
from .keyring import Keyring, Locked

UNEXPECTED = "The import failed unexpectedly; nothing was imported."
LOCKED = "The desk locked before the import began; nothing was imported."


@dataclass
class ImportJob:
    """How far the latest import got: items checked of the bundle's, then its result or error."""

    bundle: str  # the bundle file's name
    checked: int = 0
    total: int = 0  # 0 until the bundle's index is read
    result: Imported | None = None
    error: str = ""

    @property
    def running(self) -> bool:
        return self.result is None and not self.error


class Imports:
    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._guard = threading.Lock()
        self._job: ImportJob | None = None

    @property
    def job(self) -> ImportJob | None:
        """The import running now, or else the last one; None before the first."""
        with self._guard:
            return None if self._job is None else dataclasses.replace(self._job)  # a snapshot

    def start(self, bundle: Path) -> threading.Thread | None:
        """Import ``bundle`` in the background; nothing if an import is running already."""
        with self._guard:
            if self._job is not None and self._job.running:
                return None
            job = self._job = ImportJob(bundle.name)
        thread = threading.Thread(
            target=self._run, args=(job, bundle), name="desk-import", daemon=True
        )
        thread.start()
        return thread

    def _run(self, job: ImportJob, bundle: Path) -> None:
        def checked(done: int, total: int) -> None:
            with self._guard:
                job.checked, job.total = done, total

        try:
            with self._keyring.review() as r:
                result = r.import_bundle(bundle, checked)
        except WorkspaceError as err:
            self._end(job, error=str(err))
        except Locked:
            self._end(job, error=LOCKED)
        except BaseException:
            self._end(job, error=UNEXPECTED)
            raise  # for the thread's excepthook: a fault to see, not one for the reviewer
        else:
            self._end(job, result=result)
            self._keyring.warm_in_background()  # the new tips, ready for the next search

    def _end(self, job: ImportJob, *, result: Imported | None = None, error: str = "") -> None:
        with self._guard:
            job.result, job.error = result, error
