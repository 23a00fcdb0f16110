"""The server's durable state, as operations on the database (no web, no crypto).

A submission is written in many short transactions, so a slow Tor upload never holds a lock;
it stays invisible until ``complete_submission``. An upload that dies leaves an incomplete
submission whose lease runs out, and ``sweep`` removes it with all its chunks (I8).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from .blobs import BlobWriter
from .models import Chunk, Item, Source, Submission, WebSession

LEASE_SECONDS = 15 * 60


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

    def begin_submission(self, source_id: str) -> str:
        submission = Submission(id=new_id(), source_id=source_id, day=today(), lease_until=_lease())
        with self.sessions.begin() as session:
            session.add(submission)
        return submission.id

    def add_item(self, submission_id: str, kind: str) -> str:
        item = Item(id=new_id(), submission_id=submission_id, kind=kind)
        with self.sessions.begin() as session:
            session.add(item)
            session.execute(
                update(Submission)
                .where(Submission.id == submission_id)
                .values(lease_until=_lease())
            )
        return item.id

    def blob_writer(self, submission_id: str, item_id: str) -> BlobWriter:
        """Each stored row also renews the submission's lease, so a slow upload stays alive."""

        def store_row(seq: int, data: bytes) -> None:
            with self.sessions.begin() as session:
                session.add(Chunk(item_id=item_id, seq=seq, data=data))
                session.execute(
                    update(Submission)
                    .where(Submission.id == submission_id)
                    .values(lease_until=_lease())
                )

        return BlobWriter(store_row)

    def finish_item(self, item_id: str, size: int) -> None:
        with self.sessions.begin() as session:
            session.execute(update(Item).where(Item.id == item_id).values(size=size))

    def complete_submission(self, submission_id: str) -> None:
        """Make the submission visible, in one transaction: after this it is acknowledged."""
        with self.sessions.begin() as session:
            submission = session.get_one(Submission, submission_id)
            submission.complete = True
            submission.lease_until = None
            session.execute(
                update(Source).where(Source.id == submission.source_id).values(has_submitted=True)
            )

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
            session.execute(
                delete(Source).where(Source.has_submitted.is_(False), Source.created_day < cutoff)
            )


def _now() -> int:
    return int(time.time())


def _lease() -> int:
    return _now() + LEASE_SECONDS


def _delete_submissions(session: Session, submission_ids: list[str]) -> None:
    """Delete submissions; their items and chunks go with them (ON DELETE CASCADE)."""
    if submission_ids:
        session.execute(delete(Submission).where(Submission.id.in_(submission_ids)))
