"""The hot statements: SQLAlchemy's SQL and value conversions for each database, the driver's
execution (intake/driver_sql.py). Running them on both databases is tested in test_store.py."""

from __future__ import annotations

import datetime as dt
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg

from intake.driver_sql import DriverStatement
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
