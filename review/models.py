"""The workspace database: the tips' manifest data and everything the reviewer decided.

Every free text the reviewer writes (notes, claims, quotes, relation notes) and every summary of a
tip's content is a sealed column: the bytes of an age file under the workspace key (I9). Statuses,
stances, bases, relation kinds and the pseudonym beside each server source id stay plain: they
hold no words of the source or the reviewer, and they never leave this machine (I10); but they
show whoever holds this disk the shape of the judgement (docs/threat-model.md).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

SCHEMA_VERSION = "1"
TIP_STATUSES = ("new", "read", "flagged", "discarded", "spam")
SET_ASIDE = ("discarded", "spam")  # a set-aside tip's links count for nothing (corroboration)


class Base(DeclarativeBase):
    type_annotation_map = {bytes: LargeBinary}  # noqa: RUF012 -- SQLAlchemy's own class attribute


class Setting(Base):
    """The workspace's own values: schema version, pinned server key, sealed signing key."""

    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[bytes]


class Source(Base):
    """A source as the server names it (an opaque id), and the pseudonym the reviewer reads."""

    __tablename__ = "sources"
    id: Mapped[str] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(unique=True)
    reply_recipient: Mapped[str] = mapped_column(default="")
    tips: Mapped[list[Tip]] = relationship(back_populates="source", order_by="(Tip.day, Tip.id)")


class Import(Base):
    """One imported bundle, with what its decryption told about each of its tips, sealed once.

    One sealed summary per import, not per tip: a listing of thousands of tips unseals a few.
    """

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    bundle: Mapped[str]  # the bundle's file name
    summaries: Mapped[bytes]  # sealed JSON: tip id -> original name, media type, length, preview


class Tip(Base):
    """One sealed item from a bundle; its ciphertext is ``tips/<id>.age``, exactly as it arrived."""

    __tablename__ = "tips"
    id: Mapped[str] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    kind: Mapped[str]
    day: Mapped[str]
    size: Mapped[int]
    sha256: Mapped[str]  # of the ciphertext, as the signed manifest gave it
    status: Mapped[str] = mapped_column(default="new")
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))
    content_tag: Mapped[bytes | None] = mapped_column(index=True)  # keyed fingerprint of a file
    source: Mapped[Source] = relationship(back_populates="tips")
    imported: Mapped[Import] = relationship()
    notes: Mapped[list[Note]] = relationship(
        back_populates="tip", order_by="Note.id", cascade="all, delete-orphan"
    )
    links: Mapped[list[Link]] = relationship(back_populates="tip", cascade="all, delete-orphan")


class TipSubmission(Base):
    """The submission a tip came in, as the server names it: an opaque id, like a source's,
    that says only which tips were sent together (I5) and never goes back to the server (I10).

    A table of its own so that a workspace made before bundles carried it gains it: its tips,
    absent here, are grouped by source and day instead.
    """

    __tablename__ = "tip_submissions"
    tip_id: Mapped[str] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True)
    submission: Mapped[str]


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[str] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), index=True)
    text: Mapped[bytes]
    tip: Mapped[Tip] = relationship(back_populates="notes")


class Claim(Base):
    """A statement the reviewer wants to stand up or knock down; ids are never reused."""

    __tablename__ = "claims"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 -- SQLAlchemy's own attribute
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[bytes]
    links: Mapped[list[Link]] = relationship(back_populates="claim", cascade="all, delete-orphan")


class Link(Base):
    """What one tip says about one claim, on what basis, with an optional quote."""

    __tablename__ = "links"
    # Covers what statuses read, in claim order, so SQLite gathers each claim's links in one
    # pass without a sort and never touches the sealed quotes (review.assessment.sides).
    __table_args__ = (Index("links_by_claim", "claim_id", "tip_id", "stance", "basis"),)
    tip_id: Mapped[str] = mapped_column(ForeignKey("tips.id", ondelete="CASCADE"), primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True
    )
    stance: Mapped[str]
    basis: Mapped[str]
    quote: Mapped[bytes | None]
    tip: Mapped[Tip] = relationship(back_populates="links")
    claim: Mapped[Claim] = relationship(back_populates="links")


class Relation(Base):
    """Two sources the reviewer judged not independent; stored once, the smaller id first."""

    __tablename__ = "relations"
    __table_args__ = (CheckConstraint("source_a < source_b"),)
    source_a: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    source_b: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    kind: Mapped[str]
    note: Mapped[bytes | None]


class SourceGrade(Base):
    """The reviewer's Admiralty reliability for one source (A-F), with a sealed note; a source
    without one is F, cannot be judged (review.grading)."""

    __tablename__ = "source_grades"
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    reliability: Mapped[str]
    note: Mapped[bytes | None]


class CredibilityOverride(Base):
    """The reviewer's information credibility (1-6) for a claim in place of the derived one,
    with the sealed reason that is shown beside it."""

    __tablename__ = "credibility_overrides"
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True
    )
    credibility: Mapped[int]
    reason: Mapped[bytes]


class Hypothesis(Base):
    """A competing explanation the reviewer weighs claims against (ACH); ids are never reused."""

    __tablename__ = "hypotheses"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 -- SQLAlchemy's own attribute
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[bytes]


class AchMark(Base):
    """How consistent one claim is with one hypothesis, with an optional sealed reason."""

    __tablename__ = "ach_marks"
    hypothesis_id: Mapped[int] = mapped_column(
        ForeignKey("hypotheses.id", ondelete="CASCADE"), primary_key=True
    )
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    mark: Mapped[str]
    reason: Mapped[bytes | None]


class Reply(Base):
    """A reply sealed into ``outbox/<id>.age``, waiting for the courier until it is delivered."""

    __tablename__ = "replies"
    id: Mapped[str] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    day: Mapped[str]
    size: Mapped[int]
    sha256: Mapped[str]
    source: Mapped[Source] = relationship()
    delivery: Mapped[Delivery | None] = relationship()


class Delivery(Base):
    """The day the server confirmed it holds a reply; its sealed file has left the outbox."""

    __tablename__ = "deliveries"
    reply_id: Mapped[str] = mapped_column(ForeignKey("replies.id"), primary_key=True)
    day: Mapped[str]


class TeamMember(Base):
    """A teammate pinned by their workspace key, under the name the team gave them. A removed
    one keeps their name for the work they did, but no file of theirs is merged again."""

    __tablename__ = "team_members"
    key: Mapped[str] = mapped_column(primary_key=True)  # cairnreviewer1...
    name: Mapped[bytes]  # sealed
    removed: Mapped[bool] = mapped_column(default=False)


class TeamBatch(Base):
    """Changes to the team's judgement, sealed together: one merged file, or one capture of the
    reviewer's own edits (review.team_merge). Their union is this workspace's replica."""

    __tablename__ = "team_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    changes: Mapped[bytes]  # sealed JSON list


class TeamId(Base):
    """The team-wide id of a claim, hypothesis or note, beside the local number it has here."""

    __tablename__ = "team_ids"
    __table_args__ = (UniqueConstraint("kind", "uid"),)
    kind: Mapped[str] = mapped_column(primary_key=True)
    local_id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str]


class TeamPlaced(Base):
    """A team record the tables hold: one gone from them was removed here, while one never
    placed (its tip not imported here yet) was not (review.team_state). The keyed fingerprint
    of its sealed cells as placed tells whether they were edited since, without opening them."""

    __tablename__ = "team_placed"
    kind: Mapped[str] = mapped_column(primary_key=True)
    record: Mapped[str] = mapped_column(primary_key=True)
    fingerprint: Mapped[bytes | None]


class SignOff(Base):
    """A reviewer's check of a claim, with its evidence as they saw it: ``tip:stance:basis``
    of each link, so that a sign-off on evidence that has changed since says so."""

    __tablename__ = "sign_offs"
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True
    )
    reviewer: Mapped[str] = mapped_column(primary_key=True)  # their workspace key, hex
    evidence: Mapped[str]


class WaitingLink(Base):
    """A teammate's link to a tip not imported here yet; it becomes a link when the tip does."""

    __tablename__ = "waiting_links"
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True
    )
    tip_id: Mapped[str] = mapped_column(primary_key=True)
    stance: Mapped[str]
    basis: Mapped[str]
