"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL:
a column or table added to a model without its migration would exist in tests (which migrate)
only by accident, and be missing on a real upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

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
