"""What the courier API changes: courier and reviewer keys, seen signatures, acks, replies.

Replies arrive in a bundle whose manifest comes last: each is stored as it streams in, invisible
and leased, and becomes visible only when the whole bundle has been checked (I8).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from keys.bundle import BundleItem
from keys.signing import VerifyKey, parse_verify_key

from .blobs import BlobReader, BlobWriter
from .models import (
    Courier,
    DeletedReply,
    Item,
    Reply,
    ReplyChunk,
    ReviewerKey,
    SeenSignature,
    Source,
    Submission,
)
from .store import LEASE_SECONDS, today


class CourierError(ValueError):
    """A courier request that cannot be honoured; the message says why."""


KeyHolder = type[Courier] | type[ReviewerKey]
_ROLE: dict[KeyHolder, str] = {Courier: "courier", ReviewerKey: "reviewer"}


class CourierStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # Keys: couriers may fetch, acknowledge and push; reviewers' workspaces sign replies

    def add(self, name: str, key: VerifyKey, holder: KeyHolder = Courier) -> None:
        other = ReviewerKey if holder is Courier else Courier
        try:
            with self.sessions.begin() as session:
                if session.scalar(select(exists().where(other.verify_key == str(key)))):
                    raise CourierError(
                        f"that key is a {_ROLE[other]}'s; a {_ROLE[holder]} needs a key of its own"
                    )
                session.add(holder(name=name, verify_key=str(key), added_day=today()))
        except IntegrityError:
            role = _ROLE[holder]
            raise CourierError(f"a {role} named {name!r} or with that key exists") from None

    def remove(self, name: str, holder: KeyHolder = Courier) -> bool:
        with self.sessions.begin() as session:
            result = session.execute(delete(holder).where(holder.name == name))
            return bool(cast(CursorResult[Any], result).rowcount)

    def holders(self, holder: KeyHolder = Courier) -> list[Courier] | list[ReviewerKey]:
        with self.sessions() as session:
            return list(session.scalars(select(holder).order_by(holder.name)))

    def known_keys(self, holder: KeyHolder = Courier) -> set[VerifyKey]:
        return {parse_verify_key(row.verify_key) for row in self.holders(holder)}

    def remember_signature(self, digest: str, expires: int) -> bool:
        """Record a signature as used; False if it was used before (a replay)."""
        try:
            with self.sessions.begin() as session:
                session.add(SeenSignature(digest=digest, expires=expires))
        except IntegrityError:
            return False
        return True

    # Acknowledgements

    def acknowledge(self, item_ids: Sequence[str], grace_days: int) -> int:
        """Mark delivered items; with no grace period they are deleted at once."""
        with self.sessions.begin() as session:
            delivered = (
                select(Item.id)
                .join(Submission)
                .where(
                    Item.id.in_(item_ids), Submission.complete.is_(True), Item.acked_day.is_(None)
                )
            )
            ids = list(session.scalars(delivered))
            session.execute(update(Item).where(Item.id.in_(ids)).values(acked_day=today()))
        if grace_days == 0:
            self.delete_acknowledged(today())
        return len(ids)

    def delete_acknowledged(self, acked_by: dt.date) -> None:
        """Delete items acknowledged on or before ``acked_by``, and submissions left empty."""
        with self.sessions.begin() as session:
            session.execute(delete(Item).where(Item.acked_day <= acked_by))
            session.execute(
                delete(Submission).where(
                    Submission.complete.is_(True),
                    ~exists().where(Item.submission_id == Submission.id),
                )
            )

    # Replies

    def begin_reply(self, reply_id: str) -> BlobWriter | None:
        """A writer for a reply arriving in a bundle; None if it is already stored (a re-push)
        or its source deleted it: the outbox sends every reply again, each time."""
        with self.sessions.begin() as session:
            if session.get(DeletedReply, reply_id) is not None:
                return None
            existing = session.get(Reply, reply_id)
            if existing is not None:
                if existing.complete:
                    return None
                raise CourierError("that reply is being received right now")
            session.add(
                Reply(id=reply_id, day=today(), lease_until=int(time.time()) + LEASE_SECONDS)
            )

        def store_row(seq: int, data: bytes) -> None:
            with self.sessions.begin() as session:
                session.add(ReplyChunk(reply_id=reply_id, seq=seq, data=data))

        return BlobWriter(store_row)

    def complete_replies(self, items: Sequence[BundleItem], received: Sequence[str]) -> None:
        """Make the received replies visible, in one transaction, once the bundle checked out."""
        with self.sessions.begin() as session:
            for item in items:
                if item.kind != "reply":
                    raise CourierError(f"item {item.id} is not a reply")
                if session.get(Source, item.source) is None:
                    raise CourierError(f"reply {item.id} is for a source this server does not know")
                if item.id in received:
                    session.execute(
                        update(Reply)
                        .where(Reply.id == item.id)
                        .values(
                            source_id=item.source, size=item.size, complete=True, lease_until=None
                        )
                    )

    def discard_replies(self, reply_ids: Sequence[str]) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(Reply).where(Reply.id.in_(reply_ids), Reply.complete.is_(False)))

    def replies_for(self, source_id: str) -> list[str]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(Reply.id)
                    .where(Reply.source_id == source_id, Reply.complete.is_(True))
                    .order_by(Reply.day, Reply.id)
                )
            )

    def reply_reader(self, reply_id: str) -> BlobReader:
        return BlobReader(self.sessions, reply_id, ReplyChunk)

    def delete_reply(self, source_id: str, reply_id: str) -> bool:
        with self.sessions.begin() as session:
            result = session.execute(
                delete(Reply).where(Reply.id == reply_id, Reply.source_id == source_id)
            )
            deleted = bool(cast(CursorResult[Any], result).rowcount)
            if deleted:
                session.add(DeletedReply(id=reply_id))
            return deleted

    # Housekeeping

    def sweep(self, grace_days: int) -> None:
        now = int(time.time())
        with self.sessions.begin() as session:
            session.execute(delete(SeenSignature).where(SeenSignature.expires <= now))
            session.execute(delete(Reply).where(Reply.complete.is_(False), Reply.lease_until < now))
        self.delete_acknowledged(today() - dt.timedelta(days=grace_days))
