"""What the server stores. Tip content exists here only as sealed age ciphertext (I1).

Times are days (I5), except the lease of an upload in progress and a courier signature's replay
window: both are deleted or cleared as soon as they have served their purpose.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, synonym


class Base(DeclarativeBase):
    pass


class Source(Base):
    """A source, known only by a lookup id derived from its codename (I3)."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    lookup_id: Mapped[str] = mapped_column(String(64), unique=True)
    reply_recipient: Mapped[str] = mapped_column(String(100))
    created_day: Mapped[dt.date]
    has_submitted: Mapped[bool] = mapped_column(default=False)


class Submission(Base):
    """One POST of a message and files; visible (exportable) only once ``complete``."""

    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date]
    complete: Mapped[bool] = mapped_column(default=False)
    lease_until: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Item(Base):
    """One sealed item (message or file): an age file stored as chunks."""

    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    acked_day: Mapped[dt.date | None] = mapped_column(default=None)


class Chunk(Base):
    __tablename__ = "chunks"

    item_id: Mapped[str] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    owner_id = synonym("item_id")


class WebSession(Base):
    """A server-side session; the cookie holds only a random token, stored here hashed.

    In the clear it keeps only what the server needs without the token: the source it is
    logged in as (a source has one session at most) and the day it ends, for the sweep (I5).
    Its data, the exact expiry with it, is sealed under the token (keys.web_session)."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No foreign key: a source the sweep purged under a session must still be found missing
    # by that session's next submission, which then says the codename is gone.
    source_id: Mapped[str | None] = mapped_column(String(32), index=True)
    expires_day: Mapped[dt.date] = mapped_column(index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Reply(Base):
    """A reviewer's reply, sealed to the source's reply recipient; visible once ``complete``."""

    __tablename__ = "replies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Known only once the bundle's manifest (which comes last) has been checked.
    source_id: Mapped[str | None] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[dt.date]
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    complete: Mapped[bool] = mapped_column(default=False)
    lease_until: Mapped[int | None] = mapped_column(BigInteger, default=None)


class DeletedReply(Base):
    """A reply its source deleted. The reviewer's outbox still holds it and will send it again;
    this keeps it deleted. Only the random id is kept: not the source, not the day."""

    __tablename__ = "deleted_replies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)


class ReplyChunk(Base):
    __tablename__ = "reply_chunks"

    reply_id: Mapped[str] = mapped_column(
        ForeignKey("replies.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    owner_id = synonym("reply_id")


class Courier(Base):
    """A courier's Ed25519 public key: the only thing that may fetch, ack and push."""

    __tablename__ = "couriers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    verify_key: Mapped[str] = mapped_column(String(100), unique=True)
    added_day: Mapped[dt.date]


class ReviewerKey(Base):
    """A review workspace's Ed25519 public key: only bundles it signed become replies."""

    __tablename__ = "reviewer_keys"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    verify_key: Mapped[str] = mapped_column(String(100), unique=True)
    added_day: Mapped[dt.date]


class SeenSignature(Base):
    """A courier signature already accepted, kept while its timestamp is inside the window."""

    __tablename__ = "seen_signatures"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires: Mapped[int] = mapped_column(BigInteger, index=True)
