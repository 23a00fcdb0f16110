"""``intake couriers`` and ``intake reviewers``: the Ed25519 keys this server accepts.

A courier key signs requests to fetch, acknowledge and push (see keys.courier); a reviewer key is
a review workspace's own, and signs the reply bundles a courier pushes. Both groups work alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from keys.signing import parse_verify_key

from .cli_options import instance_option, load_or_fail
from .courier_store import CourierError, CourierStore, KeyHolder
from .db import make_engine, pending_migrations
from .instance import Instance
from .models import Courier, ReviewerKey

# The database checks below are shared by every ``intake`` command that opens the database
# (export and check in intake/cli.py too).


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
        name = describe_database(instance.database_url)
        raise click.ClickException(
            f"the database failed ({name}: {type(err).__name__}); nothing was changed; "
            f"see `intake check --instance {instance.path}`"
        ) from None
    finally:
        engine.dispose()


@contextmanager
def _store(instance_path: Path) -> Iterator[CourierStore]:
    with opened_database(load_or_fail(instance_path)) as engine:
        yield CourierStore(sessionmaker(engine, expire_on_commit=False))


def key_group(holder: KeyHolder, role: str, summary: str, where_from: str) -> click.Group:
    """The add, remove and list commands for one kind of key holder."""
    group_name = f"{role}s"

    @click.group(group_name, help=summary)
    def group() -> None:
        pass

    @group.command("add", help=f"Accept a {role}'s key ({where_from}).")
    @instance_option
    @click.argument("public_key")
    @click.option("--name", required=True, help=f"A name to recognise this {role} by.")
    def add(instance_path: Path, public_key: str, name: str) -> None:
        try:
            key = parse_verify_key(public_key)
        except ValueError as err:
            raise click.ClickException(str(err)) from None
        with _store(instance_path) as store:
            try:
                store.add(name, key, holder)
            except CourierError as err:
                raise click.ClickException(str(err)) from None
        click.echo(f"Added the {role} {name}.")

    @group.command("remove", help=f"Stop accepting a {role}'s key at once.")
    @instance_option
    @click.argument("name")
    def remove(instance_path: Path, name: str) -> None:
        with _store(instance_path) as store:
            removed = store.remove(name, holder)
        if not removed:
            raise click.ClickException(
                f"there is no {role} named {name!r}; see `intake {group_name} list`"
            )
        click.echo(f"Removed the {role} {name}.")

    @group.command("list", help=f"The accepted {role} keys.")
    @instance_option
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    def list_keys(instance_path: Path, as_json: bool) -> None:
        with _store(instance_path) as store:
            rows = [
                {"name": row.name, "key": row.verify_key, "added": row.added_day.isoformat()}
                for row in store.holders(holder)
            ]
        if as_json:
            click.echo(json.dumps(rows, indent=2))
        elif not rows:
            click.echo(f"None yet; add one with `intake {group_name} add KEY --name NAME`.")
        for row in [] if as_json else rows:
            click.echo(f"{row['name']}\t{row['key']}\tadded {row['added']}")

    return group


couriers_group = key_group(
    Courier,
    "courier",
    "The courier keys this server accepts.",
    "printed by `review courier new` on the networked machine",
)
reviewers_group = key_group(
    ReviewerKey,
    "reviewer",
    "The review workspaces whose reply bundles this server accepts.",
    "printed by `review outbox --out` on the offline machine",
)
