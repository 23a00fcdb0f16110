"""The server's durable state, as operations on the database (no web, no crypto).

A submission is written in many short transactions, so a slow Tor upload never holds a lock;
it stays invisible until its completion. An upload that dies leaves an incomplete
submission whose lease runs out, and ``sweep`` removes it with all its chunks (I8).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    Engine,
    Insert,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine.interfaces import DBAPICursor, Dialect
from sqlalchemy.orm import Session, sessionmaker

from .blobs import ROW_SIZE, BlobWriter
from .driver_sql import BatchConnection, DriverStatement, integrity_error, transaction
from .models import Chunk, Item, Source, Submission, WebSession

LEASE_SECONDS = 15 * 60
# A large upload's rows after its first go in transactions of this much: each costs round trips
# (bench/README.md: on PostgreSQL one per row held a large upload to 100 MiB/s, four 135).
BATCH_SIZE = 4 * ROW_SIZE
# The key of a web session's data that holds the source it is logged in as.
SESSION_SOURCE_KEY = "source_id"
# Sources deleted per statement by the sweep (SQLite allows some thousands of parameters).
_PURGE_BATCH = 500
_SOURCES, _SUBMISSIONS, _ITEMS, _CHUNKS, _WEB_SESSIONS = (
    cast(Table, model.__table__) for model in (Source, Submission, Item, Chunk, WebSession)
)
# The hot paths' statements: SQLAlchemy compiles each once per database, and the driver runs it
# (intake/driver_sql.py), since SQLAlchemy's execution cost more than the database's own work.
_LOAD_WEB_SESSION = select(_WEB_SESSIONS.c.data, _WEB_SESSIONS.c.expires).where(
    _WEB_SESSIONS.c.token_hash == bindparam("token_hash")
)


def _insert(table: Table, *columns: str) -> Insert:
    return insert(table).values({column: bindparam(column) for column in columns})


_INSERT_SUBMISSION = _insert(_SUBMISSIONS, "id", "source_id", "day", "complete", "lease_until")
_INSERT_ITEM = _insert(_ITEMS, "id", "submission_id", "kind", "size")
_INSERT_CHUNK = _insert(_CHUNKS, "item_id", "seq", "data")
_SET_ITEM_SIZE = (
    update(_ITEMS).where(_ITEMS.c.id == bindparam("item_id")).values(size=bindparam("size"))
)
_UPDATE_SUBMISSION = (
    update(_SUBMISSIONS)
    .where(_SUBMISSIONS.c.id == bindparam("submission_id"))
    .values(complete=bindparam("complete"), lease_until=bindparam("lease_until"))
)
_DELETE_SUBMISSION = delete(_SUBMISSIONS).where(_SUBMISSIONS.c.id == bindparam("submission_id"))
_MARK_SUBMITTED = (
    update(_SOURCES)
    .where(_SOURCES.c.id == bindparam("source_id"), _SOURCES.c.has_submitted.is_(False))
    .values(has_submitted=bindparam("submitted"))
)


@dataclass(frozen=True)
class _HotStatements:
    """The statements above, compiled for one database."""

    load_web_session: DriverStatement
    insert_submission: DriverStatement
    insert_item: DriverStatement
    insert_chunk: DriverStatement
    set_item_size: DriverStatement
    update_submission: DriverStatement
    delete_submission: DriverStatement
    mark_submitted: DriverStatement

    @classmethod
    def compile(cls, dialect: Dialect) -> _HotStatements:
        statements = {
            "load_web_session": _LOAD_WEB_SESSION,
            "insert_submission": _INSERT_SUBMISSION,
            "insert_item": _INSERT_ITEM,
            "insert_chunk": _INSERT_CHUNK,
            "set_item_size": _SET_ITEM_SIZE,
            "update_submission": _UPDATE_SUBMISSION,
            "delete_submission": _DELETE_SUBMISSION,
            "mark_submitted": _MARK_SUBMITTED,
        }
        return cls(**{name: DriverStatement(s, dialect) for name, s in statements.items()})


# How stale the high-water mark's sum may be: summing every item on every request cost more
# than storing a message once thousands were stored.
STORED_BYTES_REFRESH_SECONDS = 5.0


class SourceGone(LookupError):
    """The source was purged by the sweep (it had never submitted) before its upload's first
    row was stored: its codename no longer exists."""


class UploadGone(LookupError):
    """The sweep removed this upload after its lease ran out: there is nothing to complete."""


def new_id() -> str:
    return secrets.token_hex(16)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class Store:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        # Hot paths (a web session per request, a submission) go to the driver directly.
        self._engine: Engine = sessions.kw["bind"]
        self._sql = _HotStatements.compile(self._engine.dialect)
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
        return SubmissionWriter(self._engine, self._sql, source_id, self._stored.add)

    def discard_submission(self, submission_id: str) -> None:
        """Delete a submission; its items and chunks go with it (ON DELETE CASCADE)."""
        with self.sessions.begin() as session:
            session.execute(delete(Submission).where(Submission.id == submission_id))

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

    def load_web_session(self, token_hash: str) -> str | None:
        with transaction(self._engine) as cursor:
            row = self._sql.load_web_session.first_row(cursor, {"token_hash": token_hash})
        if row is None:
            return None
        data, expires = row
        return str(data) if expires > _now() else None

    def save_web_session(self, token_hash: str, data: str, lifetime: int) -> None:
        with self.sessions.begin() as session:
            session.merge(WebSession(token_hash=token_hash, data=data, expires=_now() + lifetime))

    def delete_web_session(self, token_hash: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))

    # Housekeeping

    def sweep(self, unsubmitted_source_days: int) -> None:
        """Remove dead uploads, expired sessions and sources that never sent anything."""
        now = _now()
        cutoff = today() - dt.timedelta(days=unsubmitted_source_days)
        with self.sessions.begin() as session:
            # Read before the first delete, so that SQLite's write lock is not held meanwhile.
            logged_in = set(_logged_in_sources(session, now))
            # One statement, so that an upload renewing its lease meanwhile is kept.
            session.execute(
                delete(Submission).where(
                    Submission.complete.is_(False), Submission.lease_until < now
                )
            )
            session.execute(delete(WebSession).where(WebSession.expires <= now))
            # A source whose first upload is still alive (its lease runs), or that is logged in,
            # is kept: deleting it would fail the upload, or every submission of the session,
            # under the source's feet (I8). It goes in a sweep after the session has expired.
            uploading = select(Submission.id).where(Submission.source_id == Source.id).exists()
            idle = session.scalars(
                select(Source.id).where(
                    Source.has_submitted.is_(False), Source.created_day < cutoff, ~uploading
                )
            ).all()
            purged = [source_id for source_id in idle if source_id not in logged_in]
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


@dataclass
class _Batch:
    """What waits to be written: new items, rows, and the sizes of items finished since."""

    items: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[dict[str, Any]] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    size: int = 0


class SubmissionWriter:
    """One submission as it arrives, in as few transactions as bounded memory allows.

    Items, rows and sizes wait in memory until a full row's worth (``ROW_SIZE``) is pending, and
    then go in one short transaction that also writes the submission row with its lease; later
    ones wait for ``BATCH_SIZE`` and renew the lease, as does ``keep_alive`` once a third of the
    lease has passed. Whatever is left goes with the completion. A message of a few KiB is thus
    one transaction at completion; a large file one for its first row and one per batch after
    it, in bounded memory, and its upload holds its lease (and its source, against the sweep)
    from its first row on.

    A large upload's rows are written by a thread of its own while the request thread goes on
    receiving and sealing: on PostgreSQL a row's round trips and commit took as long as all the
    rest (bench/README.md). One batch is in flight at a time, so memory stays at two batches,
    and a batch's error is raised in the request thread at the next flush or at the completion.
    """

    def __init__(
        self,
        engine: Engine,
        statements: _HotStatements,
        source_id: str,
        on_complete: Callable[[int], None],
    ) -> None:
        self._engine = engine
        self._sql = statements
        self._source_id = source_id
        self._on_complete = on_complete
        self.submission_id: str | None = None
        self._written = False  # may the submission row be in the database yet?
        self._pending = _Batch()
        self._total = 0
        self._renewed = 0.0
        self._row_thread: ThreadPoolExecutor | None = None
        self._in_flight: Future[None] | None = None
        self._batches = BatchConnection(engine)

    def add_item(self, kind: str) -> str:
        if self.submission_id is None:
            self.submission_id = new_id()
        item_id = new_id()
        self._pending.items.append(
            {"id": item_id, "submission_id": self.submission_id, "kind": kind}
        )
        return item_id

    def blob_writer(self, item_id: str) -> BlobWriter:
        def store_row(seq: int, data: bytes) -> None:
            self._pending.chunks.append({"item_id": item_id, "seq": seq, "data": data})
            self._pending.size += len(data)
            if self._pending.size >= (BATCH_SIZE if self._written else ROW_SIZE):
                self._flush()

        return BlobWriter(store_row)

    def keep_alive(self) -> None:
        """Call as data arrives: renews the lease once a third of it has passed, so an upload
        slower than a row per lease (a slow Tor circuit) is never swept while it still arrives.
        A check of the clock, and a transaction only every few minutes."""
        if self._written and time.monotonic() - self._renewed > LEASE_SECONDS / 3:
            self._flush()

    def finish_item(self, item_id: str, size: int) -> None:
        self._pending.sizes[item_id] = size
        self._total += size

    def complete(self) -> None:
        """Make the submission visible, in one transaction: after this it is acknowledged."""
        if self.submission_id is None:
            return
        try:
            self.settle()
            with transaction(self._engine) as cursor:
                self._write(cursor, *self._take(), complete=True)
                self._sql.mark_submitted.execute(
                    cursor, {"source_id": self._source_id, "submitted": True}
                )
        finally:
            self._stop()
        self._on_complete(self._total)

    def discard(self) -> None:
        with contextlib.suppress(Exception):  # the batch in flight is deleted with the rest
            self.settle()
        self._stop()
        self._pending = _Batch()
        if self._written:
            with transaction(self._engine) as cursor:
                self._sql.delete_submission.execute(cursor, {"submission_id": self.submission_id})
        self.submission_id = None
        self._written = False

    def _flush(self) -> None:
        """Hand what is pending to the row thread, once the batch before it is in."""
        batch = self._take()
        self.settle()
        if self._row_thread is None:
            self._row_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cairn-rows")
        self._in_flight = self._row_thread.submit(self._write_batch, *batch)
        self._renewed = time.monotonic()

    def _take(self) -> tuple[_Batch, bool]:
        """The pending batch, and whether it is the first (it writes the submission row)."""
        batch, self._pending = self._pending, _Batch()
        first, self._written = not self._written, True
        return batch, first

    def settle(self) -> None:
        """Until the rows handed over are written; their error, if any, is raised here."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _stop(self) -> None:
        if self._row_thread is not None:
            self._row_thread.shutdown()
            self._row_thread = None
        self._batches.close()

    def _write_batch(self, batch: _Batch, first: bool) -> None:
        with self._batches.transaction() as cursor:
            self._write(cursor, batch, first)

    def _write(
        self, cursor: DBAPICursor, batch: _Batch, first: bool, complete: bool = False
    ) -> None:
        values = {"complete": complete, "lease_until": None if complete else _lease()}
        if first:
            self._insert_submission(cursor, values)
        else:  # first, so a swept upload stops here rather than at its rows' foreign keys
            changed = self._sql.update_submission.execute(
                cursor, {"submission_id": self.submission_id, **values}
            )
            if changed != 1:  # swept after its lease ran out: never acknowledge it
                raise UploadGone(f"submission {self.submission_id} is gone")
        for item in batch.items:  # sizes known by now go in with the item
            item["size"] = batch.sizes.pop(str(item["id"]), 0)
        if batch.items:
            self._sql.insert_item.execute_many(cursor, batch.items)
        if batch.chunks:
            self._sql.insert_chunk.execute_many(cursor, batch.chunks)
        if batch.sizes:
            sizes = [{"item_id": i, "size": size} for i, size in batch.sizes.items()]
            self._sql.set_item_size.execute_many(cursor, sizes)

    def _insert_submission(self, cursor: DBAPICursor, values: dict[str, Any]) -> None:
        """The submission row. Its source may have been purged by the sweep meanwhile (one that
        had never submitted, held no upload row yet, and whose session the sweep did not see):
        then the submission is refused."""
        row = {"id": self.submission_id, "source_id": self._source_id, "day": today()}
        try:
            self._sql.insert_submission.execute(cursor, {**row, **values})
        except integrity_error(self._engine):  # the foreign key: the source is gone
            raise SourceGone(f"source {self._source_id} is gone") from None


def _now() -> int:
    return int(time.time())


def _lease() -> int:
    return _now() + LEASE_SECONDS


def _logged_in_sources(session: Session, now: int) -> Iterator[str]:
    """The sources that live web sessions are logged in as. Every visitor has a session (for its
    CSRF token), so only those that name a source are read and parsed."""
    logged = WebSession.data.contains(f'"{SESSION_SOURCE_KEY}"')
    for data in session.scalars(select(WebSession.data).where(WebSession.expires > now, logged)):
        source_id = json.loads(data).get(SESSION_SOURCE_KEY)
        if isinstance(source_id, str):
            yield source_id
