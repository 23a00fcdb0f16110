"""courier: replies, couriers, seen signatures, acks

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "couriers",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("verify_key", sa.String(length=100), nullable=False),
        sa.Column("added_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("verify_key"),
    )
    op.create_table(
        "seen_signatures",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index(
        op.f("ix_seen_signatures_expires"), "seen_signatures", ["expires"], unique=False
    )
    op.create_table(
        "replies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=32), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["sources.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_replies_source_id"), "replies", ["source_id"], unique=False)
    op.create_table(
        "reply_chunks",
        sa.Column("reply_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["reply_id"], ["replies.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("reply_id", "seq"),
    )
    op.add_column("items", sa.Column("acked_day", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("items", "acked_day")
    op.drop_table("reply_chunks")
    op.drop_index(op.f("ix_replies_source_id"), table_name="replies")
    op.drop_table("replies")
    op.drop_index(op.f("ix_seen_signatures_expires"), table_name="seen_signatures")
    op.drop_table("seen_signatures")
    op.drop_table("couriers")
