"""The hot statements: SQLAlchemy's SQL and value conversions for each database, the driver's
execution (intake/driver_sql.py). Running them on both databases is tested in test_store.py;
the connection a large upload's batches are written on, here on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import cast

import pytest
from sqlalchemy import Engine, Table, bindparam, event, insert, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg

from intake.db import make_engine
from intake.driver_sql import BatchConnection, DriverStatement, transaction
from intake.models import Submission

SUBMISSIONS = cast(Table, Submission.__table__)
COLUMNS = ("id", "source_id", "day", "complete", "lease_until")
ROW = {"id": "s", "source_id": "x", "day": dt.date(2026, 1, 2), "complete": True, "lease_until": 9}
INSERT = insert(SUBMISSIONS).values({column: bindparam(column) for column in COLUMNS})


def test_sqlite_gets_the_values_in_order_converted_as_sqlalchemy_would() -> None:
    statement = DriverStatement(INSERT, sqlite.dialect())
    assert statement.sql.endswith("VALUES (?, ?, ?, ?, ?)")
    assert statement.parameters(ROW) == ["s", "x", "2026-01-02", 1, 9]


def test_postgresql_gets_the_values_by_name() -> None:
    statement = DriverStatement(INSERT, psycopg.dialect())
    assert "%(day)s" in statement.sql
    parameters = statement.parameters(ROW)
    assert isinstance(parameters, dict)
    assert parameters["day"] == dt.date(2026, 1, 2)  # psycopg sends dates itself
    assert set(parameters) == set(COLUMNS)


def test_a_value_that_is_not_a_bindparam_is_refused_not_dropped() -> None:
    """Its value would live only in SQLAlchemy's compiled parameters, which the driver never
    sees."""
    with pytest.raises(ValueError, match="bindparam"):
        DriverStatement(update(SUBMISSIONS).values(complete=True), sqlite.dialect())


@pytest.fixture
def postgresql(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def _synchronous_commit(engine: Engine) -> str:
    with transaction(engine) as cursor:
        cursor.execute("SHOW synchronous_commit")
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


def test_i8_batches_skip_the_disk_wait_and_the_pool_gets_a_durable_connection_back(
    postgresql: Engine,
) -> None:
    """Only the completion's commit is acknowledged, so only it must wait for the disk; the
    connection must not carry the batches' setting back to the pool, where a completion or a
    source's log-in could be given it."""
    assert _synchronous_commit(postgresql) == "on"
    batches = BatchConnection(postgresql)
    for _ in range(2):
        with batches.transaction() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("off",)
    batches.close()
    for _ in range(postgresql.pool.checkedin() + 1):  # every pooled connection, and a new one
        assert _synchronous_commit(postgresql) == "on"


def test_a_batch_connection_is_held_unless_idle_too_long(postgresql: Engine) -> None:
    """One checkout (and ping) for a whole fast upload; a slow one gives its connection back."""
    checkouts = []
    event.listen(postgresql, "checkout", lambda *_: checkouts.append(1))
    for max_idle, expected in ((60.0, 1), (0.0, 3)):
        checkouts.clear()
        batches = BatchConnection(postgresql, max_idle=max_idle)
        for _ in range(3):
            with batches.transaction() as cursor:
                cursor.execute("SELECT 1")
            time.sleep(0.01)  # past a max_idle of 0 on any clock
        batches.close()
        assert len(checkouts) == expected
