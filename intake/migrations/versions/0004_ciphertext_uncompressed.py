"""ciphertext columns stored without PostgreSQL's compression attempt

Revision ID: 0004
Revises: 0003

Ciphertext never compresses, but PostgreSQL tries to compress every large value before storing
it out of line; storage EXTERNAL skips the attempt, which took about a tenth of a large upload's
time on PostgreSQL (bench/README.md). SQLite has no such setting: there this does nothing.
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_CIPHERTEXT = (("chunks", "data"), ("reply_chunks", "data"))


def _set_storage(storage: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in _CIPHERTEXT:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE {storage}")


def upgrade() -> None:
    _set_storage("EXTERNAL")


def downgrade() -> None:
    _set_storage("EXTENDED")
