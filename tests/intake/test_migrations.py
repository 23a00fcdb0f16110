"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL:
a column or table added to a model without its migration would exist in tests (which migrate)
only by accident, and be missing on a real upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from intake.db import make_engine, migrate
from intake.models import Base


def test_migrating_a_fresh_database_gives_the_models_schema(
    database_url: str, tmp_path: Path
) -> None:
    url = database_url or f"sqlite:///{tmp_path / 'cairn.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_ciphertext_is_stored_without_a_compression_attempt_on_postgresql(
    postgres_url: str,
) -> None:
    """Storage EXTERNAL: ciphertext never compresses, and trying cost a large upload time."""
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT attrelid::regclass::text, attstorage FROM pg_attribute "
                    "WHERE attname = 'data' AND attrelid IN ('chunks'::regclass, "
                    "'reply_chunks'::regclass)"
                )
            )
            storage = {table: kind for table, kind in rows}
    finally:
        engine.dispose()
    assert storage == {"chunks": "e", "reply_chunks": "e"}


def test_i5_the_upgrade_to_sessions_without_times_ends_existing_sessions(
    database_url: str, tmp_path: Path
) -> None:
    """A database at the previous revision, holding a logged-in session with its exact expiry
    and language (a login log), upgrades: the sessions end (their tokens were never stored, so
    they cannot be sealed anew), the sources stay, and the schema is the models'."""
    url = database_url or f"sqlite:///{tmp_path / 'cairn.db'}"
    migrate(url, "0004")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO sources (id, lookup_id, reply_recipient, created_day, "
                    "has_submitted) VALUES ('s1', 'l1', 'age1x', '2026-01-02', false)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO web_sessions (token_hash, data, expires) VALUES "
                    """('h1', '{"source_id": "s1", "lang": "fr"}', 1767225600)"""
                )
            )
        migrate(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM web_sessions")).scalar() == 0
            assert list(connection.execute(text("SELECT id FROM sources")).scalars()) == ["s1"]
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
