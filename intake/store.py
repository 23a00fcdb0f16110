"""The server's durable state, as operations on the database (no web, no crypto).

A submission is written in many short transactions, so a slow Tor upload never holds a lock;
it stays invisible until ``complete_submission``. An upload that dies leaves an incomplete
submission whose lease runs out, and ``sweep`` removes it with all its chunks (I8).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session, sessionmaker

from .blobs import ROW_SIZE, BlobWriter
from .models import Chunk, Item, Source, Submission, WebSession

LEASE_SECONDS = 15 * 60
_SOURCES, _SUBMISSIONS, _ITEMS, _CHUNKS = (
    Source.__table__,
    Submission.__table__,
    Item.__table__,
    Chunk.__table__,
)


def new_id() -> str:
    return secrets.token_hex(16)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


class Store:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

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
        return SubmissionWriter(self.sessions, source_id)

    def discard_submission(self, submission_id: str) -> None:
        with self.sessions.begin() as session:
            _delete_submissions(session, [submission_id])

    def stored_bytes(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.coalesce(func.sum(Item.size), 0))) or 0

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
        with self.sessions() as session:
            row = session.get(WebSession, token_hash)
            return row.data if row is not None and row.expires > int(time.time()) else None

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
            stale = session.scalars(
                select(Submission.id).where(
                    Submission.complete.is_(False), Submission.lease_until < now
                )
            ).all()
            _delete_submissions(session, list(stale))
            session.execute(delete(WebSession).where(WebSession.expires <= now))
            # A source whose first upload is still alive (its lease runs) is kept: deleting it
            # would cascade into the upload and fail it under the source's feet (I8).
            uploading = select(Submission.id).where(Submission.source_id == Source.id).exists()
            session.execute(
                delete(Source).where(
                    Source.has_submitted.is_(False), Source.created_day < cutoff, ~uploading
                )
            )


class SubmissionWriter:
    """One submission as it arrives, in as few transactions as bounded memory allows.

    The submission row is written when its first item starts, so the upload holds its lease (and
    its source) from then on. After that, items, rows and sizes
    wait in memory until a full row's worth is pending, and then go in one short transaction that
    also renews the lease (as does a new item once a third of the lease has passed); whatever is
    left goes with the completion. A message of a few KiB thus costs two transactions instead of
    five, a large file still one per row, in bounded memory. Statements go to the tables directly
    (SQLAlchemy Core): the ORM's unit of work cost more than SQLite's own work for a message.
    """

    def __init__(self, sessions: sessionmaker[Session], source_id: str) -> None:
        self._sessions = sessions
        self._source_id = source_id
        self.submission_id: str | None = None
        self._items: list[dict[str, object]] = []
        self._chunks: list[dict[str, object]] = []
        self._sizes: dict[str, int] = {}
        self._pending_bytes = 0
        self._renewed = 0.0

    def add_item(self, kind: str) -> str:
        if self.submission_id is None:
            submission_id = new_id()
            with self._sessions.begin() as session:
                session.execute(
                    insert(_SUBMISSIONS).values(
                        id=submission_id,
                        source_id=self._source_id,
                        day=today(),
                        complete=False,
                        lease_until=_lease(),
                    )
                )
            self.submission_id = submission_id
            self._renewed = time.monotonic()
        elif time.monotonic() - self._renewed > LEASE_SECONDS / 3:
            self._flush()
        item_id = new_id()
        self._items.append({"id": item_id, "submission_id": self.submission_id, "kind": kind})
        return item_id

    def blob_writer(self, item_id: str) -> BlobWriter:
        def store_row(seq: int, data: bytes) -> None:
            self._chunks.append({"item_id": item_id, "seq": seq, "data": data})
            self._pending_bytes += len(data)
            if (
                self._pending_bytes >= ROW_SIZE
                or time.monotonic() - self._renewed > LEASE_SECONDS / 3
            ):
                self._flush()

        return BlobWriter(store_row)

    def finish_item(self, item_id: str, size: int) -> None:
        self._sizes[item_id] = size

    def complete(self) -> None:
        """Make the submission visible, in one transaction: after this it is acknowledged."""
        if self.submission_id is None:
            return
        with self._sessions.begin() as session:
            self._write_pending(session, complete=True)
            session.execute(
                update(_SOURCES).where(_SOURCES.c.id == self._source_id).values(has_submitted=True)
            )

    def discard(self) -> None:
        self._items, self._chunks, self._sizes, self._pending_bytes = [], [], {}, 0
        if self.submission_id is not None:
            with self._sessions.begin() as session:
                _delete_submissions(session, [self.submission_id])
            self.submission_id = None

    def _flush(self) -> None:
        with self._sessions.begin() as session:
            self._write_pending(session)
        self._renewed = time.monotonic()

    def _write_pending(self, session: Session, complete: bool = False) -> None:
        for item in self._items:  # sizes known by now go in with the item
            item["size"] = self._sizes.pop(str(item["id"]), 0)
        if self._items:
            session.execute(insert(_ITEMS), self._items)
        if self._chunks:
            session.execute(insert(_CHUNKS), self._chunks)
        for item_id, size in self._sizes.items():
            session.execute(update(_ITEMS).where(_ITEMS.c.id == item_id).values(size=size))
        result = session.execute(
            update(_SUBMISSIONS)
            .where(_SUBMISSIONS.c.id == self.submission_id)
            .values(
                {"complete": True, "lease_until": None} if complete else {"lease_until": _lease()}
            )
        )
        if result.rowcount != 1:  # swept after its lease ran out: never acknowledge it
            raise NoResultFound(f"submission {self.submission_id} is gone")
        self._items, self._chunks, self._sizes, self._pending_bytes = [], [], {}, 0


def _now() -> int:
    return int(time.time())


def _lease() -> int:
    return _now() + LEASE_SECONDS


def _delete_submissions(session: Session, submission_ids: list[str]) -> None:
    """Delete submissions; their items and chunks go with them (ON DELETE CASCADE)."""
    if submission_ids:
        session.execute(delete(Submission).where(Submission.id.in_(submission_ids)))
