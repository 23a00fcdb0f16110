"""The database: engine set-up (SQLite or PostgreSQL) and Alembic migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import ConnectionPoolEntry

MIGRATIONS = Path(__file__).parent / "migrations"
# Set on a pooled SQLite connection that deleted rows: it scrubs the WAL when given back.
_DELETED = "cairn.deleted"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA secure_delete=ON")  # freed pages are overwritten, not left readable
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged submission survives power loss
    cursor.close()


def _note_deletion(connection: Connection, cursor: Any, statement: str, *_: Any) -> None:
    if cursor.rowcount != 0 and statement.lstrip()[:6].upper() == "DELETE":
        connection.info[_DELETED] = True


def _scrub_after_deletion(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """A connection that deleted rows, back in the pool (its transaction over): secure_delete
    has overwritten the freed bytes in the pages it changed, but the WAL still holds those pages
    as they were. Checkpoint every page into the database file and truncate the WAL to nothing,
    so no byte of a deleted row remains in any file (I1, I5). Should readers keep the checkpoint
    from finishing, the next deletion (the sweep's, every few minutes) finishes it."""
    if record.info.pop(_DELETED, False) and dbapi_connection is not None:
        dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=20)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "after_cursor_execute", _note_deletion)
        event.listen(engine, "checkin", _scrub_after_deletion)
        return engine
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


def _alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to the newest revision (or to ``revision``, to test an upgrade)."""
    command.upgrade(_alembic_config(url), revision)


def pending_migrations(engine: Engine) -> bool:
    """True when the database is not at the newest revision (or not initialised at all)."""
    head = ScriptDirectory.from_config(_alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current != head
