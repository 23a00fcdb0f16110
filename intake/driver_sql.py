"""The request path's few hot statements: compiled once by SQLAlchemy for the database in use,
and run on the driver's own cursor.

A follow-up message costs a web session's lookup and one short transaction of four statements.
Through SQLAlchemy's ``Connection`` each statement's execution cost more CPU than the database's
own work, and the server's one process is bound by that CPU (bench/README.md, intake.py (a)).
So SQLAlchemy still writes each statement's SQL for whichever database it is, and its types
still convert the values they send (a date, for SQLite); only the execution is the driver's.
Rows come back as the driver gives them, so a statement run here selects only text, integers and
bytes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import DBAPICursor, Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement


class DriverStatement:
    """One statement compiled for ``dialect``; its parameters are given by their bind names."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        binds = compiled.binds  # type: ignore[attr-defined]
        if any(not bind.required for bind in binds.values()):
            raise ValueError("every value of a driver statement must be a bindparam")
        self.sql = compiled.string
        # A positional paramstyle (SQLite's "?") takes the values in this order; else by name.
        self._order: Sequence[str] | None = compiled.positiontup  # type: ignore[attr-defined]
        self._converters = {
            name: convert
            for name, bind in binds.items()
            if (convert := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        convert = self._converters
        if self._order is None:
            return {name: convert[name](v) if name in convert else v for name, v in values.items()}
        return [
            convert[name](values[name]) if name in convert else values[name] for name in self._order
        ]

    def execute(self, cursor: DBAPICursor, values: Mapping[str, Any]) -> int:
        """Run it once; the number of rows it changed."""
        cursor.execute(self.sql, self.parameters(values))
        return int(cursor.rowcount)

    def execute_many(self, cursor: DBAPICursor, rows: Sequence[Mapping[str, Any]]) -> None:
        every: Any = [self.parameters(values) for values in rows]  # all by position, or all by name
        cursor.executemany(self.sql, every)

    def first_row(self, cursor: DBAPICursor, values: Mapping[str, Any]) -> Sequence[Any] | None:
        cursor.execute(self.sql, self.parameters(values))
        return cursor.fetchone()


@contextmanager
def transaction(engine: Engine) -> Iterator[DBAPICursor]:
    """A cursor on a connection from the engine's pool, committed if the block ends normally,
    else rolled back; the driver's own errors pass through (see ``integrity_error``)."""
    connection = engine.raw_connection()
    try:
        with _committed(connection) as cursor:
            yield cursor
    finally:
        connection.close()  # back to the pool


@contextmanager
def _committed(connection: PoolProxiedConnection) -> Iterator[DBAPICursor]:
    cursor = connection.cursor()
    try:
        yield cursor
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        cursor.close()


class BatchConnection:
    """One pooled connection held for a run of transactions that no one is told of until a later
    durable commit: a large upload's batches of rows, written by a thread of their own.

    Holding it saves a checkout per batch, and on PostgreSQL the pool's ping with it; there the
    batches' commits also need not wait for the disk (``synchronous_commit`` off while held),
    since the upload's durable completion flushes them too (PostgreSQL's log is one sequence).
    Each round trip to the server made that thread wait for the interpreter lock besides. SQLite
    has no such setting per connection: there every commit is durable. A connection idle for
    longer than ``max_idle`` seconds (a slow upload) is given back and a fresh one taken.
    """

    def __init__(self, engine: Engine, max_idle: float = 30.0) -> None:
        self._engine = engine
        self._max_idle = max_idle
        self._postgresql = engine.dialect.name == "postgresql"
        self._connection: PoolProxiedConnection | None = None
        self._idle_since = 0.0

    @contextmanager
    def transaction(self) -> Iterator[DBAPICursor]:
        """As ``transaction``, on the held connection."""
        if self._connection is not None and time.monotonic() - self._idle_since > self._max_idle:
            self.close()
        if self._connection is None:
            self._connection = self._engine.raw_connection()
            self._synchronous_commit("OFF")
        try:
            with _committed(self._connection) as cursor:
                yield cursor
        finally:
            self._idle_since = time.monotonic()

    def close(self) -> None:
        """Give the connection back to the pool, durable again (or discarded if it cannot be)."""
        connection = self._connection
        if connection is None:
            return
        try:
            self._synchronous_commit("DEFAULT")
        except Exception:
            connection.invalidate()
        finally:
            self._connection = None
            connection.close()

    def _synchronous_commit(self, value: str) -> None:
        if self._postgresql and self._connection is not None:
            with _committed(self._connection) as cursor:
                cursor.execute(f"SET synchronous_commit TO {value}")


def integrity_error(engine: Engine) -> type[Exception]:
    """The driver's exception for a violated constraint (sqlite3's, psycopg's)."""
    error: type[Exception] = engine.dialect.loaded_dbapi.IntegrityError
    return error
