"""reviewer keys that may sign replies; replies their sources deleted

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviewer_keys",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("verify_key", sa.String(length=100), nullable=False),
        sa.Column("added_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("verify_key"),
    )
    op.create_table(
        "deleted_replies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("deleted_replies")
    op.drop_table("reviewer_keys")
