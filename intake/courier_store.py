"""What the courier API changes: courier and reviewer keys, seen signatures, acks, replies.

Replies arrive in a bundle that keys.bundle has verified whole (signature, manifest, every
item's hash) before any of it is handed here; they are stored all or none (I8, I12).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from keys import age
from keys.bundle import BundleItem
from keys.signing import KeyKind, VerifyKey, parse_verify_key

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
from .stamps import today


class CourierError(ValueError):
    """A courier request that cannot be honoured; the message says why."""


KeyHolder = type[Courier] | type[ReviewerKey]
_ROLE: dict[KeyHolder, str] = {Courier: "courier", ReviewerKey: "reviewer"}
KIND: dict[KeyHolder, KeyKind] = {Courier: KeyKind.COURIER, ReviewerKey: KeyKind.REVIEWER}


class CourierStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    # Keys: couriers may fetch, acknowledge and push; reviewers' workspaces sign replies

    def add(self, name: str, key: VerifyKey, holder: KeyHolder = Courier) -> None:
        other = ReviewerKey if holder is Courier else Courier
        if key in self.known_keys(other):  # compared as keys: a key may be stored in its old form
            raise CourierError(
                f"that key is a {_ROLE[other]}'s; a {_ROLE[holder]} needs a key of its own"
            )
        if key in self.known_keys(holder):
            raise CourierError(f"that {_ROLE[holder]} key is already accepted")
        try:
            with self.sessions.begin() as session:
                session.add(holder(name=name, verify_key=str(key), added_day=today()))
        except IntegrityError:
            role = _ROLE[holder]
            raise CourierError(f"a {role} named {name!r} or with that key exists") from None

    def remove(self, name: str, holder: KeyHolder = Courier) -> bool:
        with self.sessions.begin() as session:
            result = session.execute(delete(holder).where(holder.name == name))
            return bool(cast(CursorResult[Any], result).rowcount)

    def holders(self, holder: KeyHolder = Courier) -> list[Courier | ReviewerKey]:
        with self.sessions() as session:
            statement: Select[tuple[Courier | ReviewerKey]] = select(holder)
            return list(session.scalars(statement.order_by(holder.name)))

    def known_keys(self, holder: KeyHolder = Courier) -> set[VerifyKey]:
        return {parse_verify_key(row.verify_key, KIND[holder]) for row in self.holders(holder)}

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

    def store_replies(self, items: Sequence[BundleItem], contents: Mapping[str, bytes]) -> int:
        """Store the replies of a verified reply bundle, all or none, in one transaction; returns
        how many were new. One already stored (a re-push: the outbox sends every reply again,
        each time) or deleted by its source is skipped."""
        for item in items:
            if item.kind != "reply":
                raise CourierError(f"item {item.id} is not a reply")
            if not contents[item.id].startswith(age.VERSION_LINE):  # I7; the rest is the source's
                raise CourierError(f"reply {item.id} is not an age file")
        stored = 0
        try:
            with self.sessions.begin() as session:
                for item in items:
                    if session.get(Source, item.source) is None:
                        raise CourierError(
                            f"reply {item.id} is for a source this server does not know"
                        )
                    if session.get(DeletedReply, item.id) or session.get(Reply, item.id):
                        continue
                    session.add(
                        Reply(
                            id=item.id,
                            source_id=item.source,
                            day=today(),
                            size=item.size,
                            complete=True,
                        )
                    )
                    session.flush()
                    _add_rows(session, item.id, contents[item.id])
                    stored += 1
        except IntegrityError:
            raise CourierError("these replies are being received right now; push again") from None
        return stored

    def replies_for(self, source_id: str) -> list[tuple[str, dt.date]]:
        """The id and day of each of a source's replies, oldest first."""
        with self.sessions() as session:
            rows = session.execute(
                select(Reply.id, Reply.day)
                .where(Reply.source_id == source_id, Reply.complete.is_(True))
                .order_by(Reply.day, Reply.id)
            )
            return [(reply_id, day) for reply_id, day in rows]

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


def _add_rows(session: Session, reply_id: str, ciphertext: bytes) -> None:
    """A reply's ciphertext as the rows a ``BlobReader`` reads back."""

    def add_row(seq: int, data: bytes) -> None:
        session.add(ReplyChunk(reply_id=reply_id, seq=seq, data=data))

    rows = BlobWriter(add_row)
    rows.write(ciphertext)
    rows.close()
