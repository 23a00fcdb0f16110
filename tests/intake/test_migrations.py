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
