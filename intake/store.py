"""The server's durable state, as operations on the database (no web, no crypto).

A submission is written in many short transactions (intake/submission_writer.py), so a slow Tor
upload never holds a lock; it stays invisible until its completion. An upload that dies leaves
an incomplete submission whose lease runs out, and ``sweep`` removes it with all its chunks (I8).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine, Table, bindparam, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from .driver_sql import DriverStatement, transaction
from .models import Item, Source, Submission, WebSession
from .stamps import new_id, now, today
from .submission_writer import SubmissionWriter, WriterStatements

# Sources deleted per statement by the sweep (SQLite allows some thousands of parameters).
_PURGE_BATCH = 500
_ITEMS, _WEB_SESSIONS = (cast(Table, model.__table__) for model in (Item, WebSession))
# A web session is looked up on every request: compiled once, run on the driver
# (intake/driver_sql.py), since SQLAlchemy's execution cost more than the database's own work.
_LOAD_WEB_SESSION = select(_WEB_SESSIONS.c.source_id, _WEB_SESSIONS.c.sealed).where(
    _WEB_SESSIONS.c.token_hash == bindparam("token_hash")
)


@dataclass(frozen=True)
class StoredSession:
    """A web session as stored: the source it is logged in as, and the rest of its data sealed
    under its token (keys.web_session), the exact expiry with it."""

    source_id: str | None
    sealed: bytes


# How stale the high-water mark's sum may be: summing every item on every request cost more
# than storing a message once thousands were stored.
STORED_BYTES_REFRESH_SECONDS = 5.0


class Store:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        # Hot paths (a web session per request, a submission) go to the driver directly.
        self._engine: Engine = sessions.kw["bind"]
        self._load_web_session = DriverStatement(_LOAD_WEB_SESSION, self._engine.dialect)
        self._writer_statements = WriterStatements.compile(self._engine.dialect)
        self._stored = _StoredBytes(self._sum_stored_bytes)

    # Sources

    def create_source(self, lookup_id: str, reply_recipient: str) -> str:
        source = Source(
            id=new_id(), lookup_id=lookup_id, reply_recipient=reply_recipient, created_day=today()
        )
        with self.sessions.begin() as session:
            session.add(source)
        return source.id

    def find_source(self, lookup_id: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(select(Source.id).where(Source.lookup_id == lookup_id))

    def has_submitted(self, source_id: str) -> bool:
        with self.sessions() as session:
            return bool(session.scalar(select(Source.has_submitted).where(Source.id == source_id)))

    # Submissions

    def submission_writer(self, source_id: str) -> SubmissionWriter:
        """A new submission, written in as few transactions as its size allows."""
        return SubmissionWriter(self._engine, self._writer_statements, source_id, self._stored.add)

    def stored_bytes(self) -> int:
        """All stored ciphertext, for the high-water mark (see ``_StoredBytes``)."""
        return self._stored.total()

    def _sum_stored_bytes(self) -> int:
        with self._engine.connect() as connection:
            return connection.scalar(select(func.coalesce(func.sum(_ITEMS.c.size), 0))) or 0

    # Export

    def undelivered_items(self) -> list[tuple[Item, Source, dt.date]]:
        with self.sessions() as session:
            rows = session.execute(
                select(Item, Source, Submission.day)
                .join(Submission, Item.submission_id == Submission.id)
                .join(Source, Submission.source_id == Source.id)
                .where(Submission.complete.is_(True))
                .order_by(Submission.day, Submission.id, Item.id)
            ).all()
            session.expunge_all()
            return [(item, source, day) for item, source, day in rows]

    # Web sessions

    def load_web_session(self, token_hash: str) -> StoredSession | None:
        with transaction(self._engine) as cursor:
            row = self._load_web_session.first_row(cursor, {"token_hash": token_hash})
        if row is None:
            return None
        source_id, sealed = row
        return StoredSession(source_id, bytes(sealed))

    def save_web_session(
        self, token_hash: str, stored: StoredSession, expires_day: dt.date
    ) -> None:
        """Store a session; one logged in as a source ends that source's other sessions, so the
        table never holds more than one session per source, whatever its logins (I5)."""
        with self.sessions.begin() as session:
            if stored.source_id is not None:
                session.execute(
                    delete(WebSession).where(
                        WebSession.source_id == stored.source_id,
                        WebSession.token_hash != token_hash,
                    )
                )
            session.merge(
                WebSession(
                    token_hash=token_hash,
                    source_id=stored.source_id,
                    expires_day=expires_day,
                    sealed=stored.sealed,
                )
            )

    def delete_web_session(self, token_hash: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))

    # Housekeeping

    def sweep(self, unsubmitted_source_days: int) -> None:
        """Remove dead uploads, sessions whose day has passed, and sources that never sent
        anything. A session ends at its exact time (sealed in it, see intake/sessions.py); its
        row stays until the day it ended is over."""
        cutoff = today() - dt.timedelta(days=unsubmitted_source_days)
        with self.sessions.begin() as session:
            # One statement, so that an upload renewing its lease meanwhile is kept.
            session.execute(
                delete(Submission).where(
                    Submission.complete.is_(False), Submission.lease_until < now()
                )
            )
            session.execute(delete(WebSession).where(WebSession.expires_day < today()))
            # A source whose first upload is still alive (its lease runs), or that is logged in,
            # is kept: deleting it would fail the upload, or every submission of the session,
            # under the source's feet (I8). It goes in a sweep after the session has ended.
            uploading = select(Submission.id).where(Submission.source_id == Source.id).exists()
            logged_in = select(WebSession.token_hash).where(WebSession.source_id == Source.id)
            purged = session.scalars(
                select(Source.id).where(
                    Source.has_submitted.is_(False),
                    Source.created_day < cutoff,
                    ~uploading,
                    ~logged_in.exists(),
                )
            ).all()
            for start in range(0, len(purged), _PURGE_BATCH):
                batch = purged[start : start + _PURGE_BATCH]
                session.execute(delete(Source).where(Source.id.in_(batch)))


class _StoredBytes:
    """The total the high-water mark compares: summed afresh at most every few seconds, plus
    what this process stored since. Other processes' uploads show up at the next sum; deletions
    too, so the mark errs on the closed side for at most that long."""

    def __init__(self, summed: Callable[[], int]) -> None:
        self._summed = summed
        self._total = 0
        self._due = 0.0
        self._lock = threading.Lock()

    def total(self) -> int:
        with self._lock:
            if time.monotonic() >= self._due:
                self._total = self._summed()
                self._due = time.monotonic() + STORED_BYTES_REFRESH_SECONDS
            return self._total

    def add(self, size: int) -> None:
        with self._lock:
            self._total += size
