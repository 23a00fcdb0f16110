"""What every ``intake`` command shares: the --instance option, loading the instance, and opening
its database, each with a clear one-line error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from .db import make_engine, pending_migrations
from .instance import Instance, InstanceError, load_instance

instance_option = click.option(
    "--instance",
    "instance_path",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CAIRN_INSTANCE",
    required=True,
    help="The instance directory (or CAIRN_INSTANCE).",
)


def load_or_fail(path: Path) -> Instance:
    try:
        return load_instance(path)
    except InstanceError as err:
        raise click.ClickException(str(err)) from None


def describe_database(url: str) -> str:
    """The database, named for a message: the file for SQLite, else its name and host (never
    the user or password)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "database_url is not a valid SQLAlchemy URL"
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    host = parsed.host or parsed.query.get("host") or "localhost"
    where = f"{host}:{parsed.port}" if parsed.port else str(host)
    return f"{parsed.get_backend_name()} database {parsed.database} on {where}"


def _sqlite_file(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in {None, "", ":memory:"}:
        return None
    return Path(str(parsed.database))


def database_problem(instance: Instance) -> str | None:
    """Why the instance's database cannot be used, in one line, or None when it is ready.

    Creates nothing: a missing SQLite file is reported, not made (an empty one would hide the
    loss of every undelivered tip)."""
    url = instance.database_url
    name = describe_database(url)
    migrate_hint = f"run `intake migrate --instance {instance.path}`"
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.exists():
        return (
            f"the database ({name}) does not exist; restore it from a backup, or {migrate_hint} "
            "to start an empty one"
        )
    try:
        engine = make_engine(url)
    except SQLAlchemyError as err:
        return f"the database cannot be opened ({name}: {type(err).__name__}); check database_url"
    try:
        if pending_migrations(engine):
            return f"the database is not migrated; {migrate_hint}"
    except SQLAlchemyError as err:
        return f"the database cannot be read ({name}: {type(err).__name__}); {_reach_hint(url)}"
    finally:
        engine.dispose()
    return None


def _reach_hint(url: str) -> str:
    if _sqlite_file(url) is not None:
        return "check that this user may read and write the file and its folder"
    return "check database_url and that the database server is running"


@contextmanager
def opened_database(instance: Instance) -> Iterator[Engine]:
    """An engine on the instance's migrated database; any database failure, before or during
    the block, becomes a one-line error naming the database (I8)."""
    problem = database_problem(instance)
    if problem is not None:
        raise click.ClickException(problem)
    engine = make_engine(instance.database_url)
    try:
        yield engine
    except SQLAlchemyError as err:
        raise click.ClickException(
            f"{database_failure(instance, err)}; nothing was changed; "
            f"see `intake check --instance {instance.path}`"
        ) from None
    finally:
        engine.dispose()


def database_failure(instance: Instance, err: SQLAlchemyError) -> str:
    """A database error in one line: which database, what kind of failure, what to check."""
    url, kind = instance.database_url, type(err).__name__
    return f"the database failed ({describe_database(url)}: {kind}); {_reach_hint(url)}"
