"""The ``intake`` command: set up, check, serve and export an instance."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from limits.storage import storage_from_string
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from .cli_options import (
    database_failure,
    database_problem,
    instance_option,
    load_or_fail,
    opened_database,
)
from .couriers_cli import couriers_group, reviewers_group
from .db import migrate
from .export import export_bundle
from .instance import Instance, InstanceError, init_instance, unsafe_secret_files
from .onion import onion_auth, report_onions
from .store import Store


@click.group()
@click.version_option(package_name="cairn")
def main() -> None:
    """Cairn's intake server: source pages that encrypt every tip as it arrives."""


@main.command()
@instance_option
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    required=True,
    help="A reviewer's age1... recipient (from `review keys new`); repeat for each reviewer.",
)
@click.option("--database-url", default="", help="SQLAlchemy URL; default: SQLite in DIR.")
def init(instance_path: Path, recipients: tuple[str, ...], database_url: str) -> None:
    """Create an instance: configuration, secrets and the database."""
    try:
        signing_key = init_instance(instance_path, list(recipients), database_url)
    except (InstanceError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    migrate(load_or_fail(instance_path).database_url)
    click.echo(f"Created the instance in {instance_path}.", err=True)
    click.echo("Reviewers pin this bundle-signing key with `review trust`:", err=True)
    click.echo(str(signing_key.verify_key))


def instance_problems(instance: Instance) -> list[str]:
    """Every problem that would stop the instance from working safely, one line each."""
    problems = []
    if not instance.config.recipients:
        problems.append(
            "no reviewer recipients are configured; add each reviewer's age1... recipient to "
            f'"recipients" in {instance.path / "config.json"} (or set CAIRN_RECIPIENTS, '
            "space separated)"
        )
    try:
        instance.recipients  # noqa: B018 -- parsing is the check
    except ValueError as err:
        problems.append(f"a configured recipient is invalid: {err}")
    for name in unsafe_secret_files(instance.path):
        problems.append(f"{instance.path / name} is readable by others; run chmod 600 on it")
    database = database_problem(instance)
    if database is not None:
        problems.append(database)
    try:
        if not storage_from_string(instance.config.limiter_storage_uri).check():
            problems.append("the rate-limit storage does not answer")
    except Exception as err:  # any failure to reach it is the same problem
        problems.append(f"the rate-limit storage cannot be reached ({type(err).__name__})")
    return problems


@main.command()
@instance_option
def check(instance_path: Path) -> None:
    """Check an instance; exits non-zero with one line per problem."""
    instance = load_or_fail(instance_path)
    problems = instance_problems(instance) + report_onions(instance.config)
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo("The instance looks good.")


main.add_command(onion_auth)
main.add_command(couriers_group)
main.add_command(reviewers_group)


@main.command("migrate")
@instance_option
def migrate_command(instance_path: Path) -> None:
    """Bring the database schema up to date (safe to run at every upgrade)."""
    instance = load_or_fail(instance_path)
    try:
        migrate(instance.database_url)
    except SQLAlchemyError as err:
        raise click.ClickException(database_failure(instance, err)) from None
    click.echo("The database is up to date.")


@main.command()
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Processes; with more than one, use Redis (limiter_storage_uri) for shared budgets.",
)
@click.option(
    "--threads",
    default=16,
    show_default=True,
    type=click.IntRange(min=1),
    help="Threads per process; uploads in progress may hold at most three quarters of them.",
)
@click.option(
    "--proxy-protocol",
    is_flag=True,
    help="Read Tor's circuit ids (HiddenServiceExportCircuitID haproxy) for per-circuit limits.",
)
def serve(
    instance_path: Path, host: str, port: int, workers: int, threads: int, proxy_protocol: bool
) -> None:
    """Serve the source pages with gunicorn."""
    from .serve import serve as run

    instance = load_or_fail(instance_path)
    problems = instance_problems(instance)
    if problems:
        raise click.ClickException("; ".join(problems) + " (see `intake check`)")
    run(instance_path, host, port, workers, threads, proxy_protocol)


@main.command("export")
@instance_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_command(instance_path: Path, out: Path) -> None:
    """Write a signed bundle of every undelivered item, for the offline reviewers."""
    instance = load_or_fail(instance_path)
    out = out.resolve()
    with opened_database(instance) as engine:
        store = Store(sessionmaker(engine, expire_on_commit=False))
        try:
            fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
        except OSError as err:
            raise click.ClickException(
                f"cannot write the bundle in {out.parent} ({err.strerror or err})"
            ) from None
        try:
            with os.fdopen(fd, "wb") as dst:
                items = export_bundle(store, instance.signing_key, dst)
            os.replace(tmp, out)
        except BaseException:
            os.unlink(tmp)
            raise
    click.echo(f"Wrote {len(items)} items to {out}.")
