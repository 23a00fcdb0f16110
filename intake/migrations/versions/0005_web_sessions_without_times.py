"""web sessions: the source and the day they end in the clear, the rest sealed under the token

Revision ID: 0005
Revises: 0004

The old table kept each session's exact expiry and its data (source id, language) as readable
JSON: a login log. The new one keeps the source id and the day the session ends, and seals the
rest under the cookie's token (keys.web_session). Existing sessions cannot be converted (their
tokens are not stored), so the upgrade ends them: everyone logged in logs in again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_web_sessions_expires"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=32), nullable=True),
        sa.Column("expires_day", sa.Date(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(op.f("ix_web_sessions_source_id"), "web_sessions", ["source_id"])
    op.create_index(op.f("ix_web_sessions_expires_day"), "web_sessions", ["expires_day"])


def downgrade() -> None:
    op.drop_index(op.f("ix_web_sessions_expires_day"), table_name="web_sessions")
    op.drop_index(op.f("ix_web_sessions_source_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(op.f("ix_web_sessions_expires"), "web_sessions", ["expires"], unique=False)
