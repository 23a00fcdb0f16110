"""The ``intake`` command: set up, check, serve and export an instance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from click.decorators import FC
from limits.storage import storage_from_string
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from keys.bundle import DEFAULT_MAX_BYTES
from keys.private_files import private_output

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


def instance_warnings(instance: Instance) -> list[str]:
    """What works but should not face real sources, one line each."""
    from .demo import INSTANCE as DEMO_INSTANCE

    warnings = []
    # The demo serves everything on one loopback port by design.
    if not instance.config.courier_port and instance.path.resolve() != DEMO_INSTANCE.resolve():
        warnings.append(
            "the courier API answers on the main port, beside the source pages (courier_port "
            "is 0), so whoever reaches the source onion reaches it too; set courier_port (8090 "
            "in the shipped files) and point only the courier onion at that port"
        )
    return warnings


@main.command()
@instance_option
def check(instance_path: Path) -> None:
    """Check an instance; exits non-zero with one line per problem, and names each risk."""
    instance = load_or_fail(instance_path)
    problems = instance_problems(instance) + report_onions(instance.config)
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    warnings = instance_warnings(instance)
    for warning in warnings:
        click.echo(f"warning: {warning}")
    click.echo(
        "The instance works; see the warning above." if warnings else "The instance looks good."
    )


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


def _count_option(name: str, default: int, help: str) -> Callable[[FC], FC]:
    """An option counting something there must be at least one of."""
    return click.option(
        name, default=default, show_default=True, type=click.IntRange(min=1), help=help
    )


@main.command()
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@_count_option(
    "--workers",
    1,
    "Processes; with more than one, use Redis (limiter_storage_uri) for shared budgets.",
)
@_count_option(
    "--threads",
    16,
    "Threads per process; uploads in progress may hold at most three quarters of them.",
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
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="The bundle's size at most; the items left over come in the next bundle.",
)
def export_command(instance_path: Path, out: Path, max_bytes: int) -> None:
    """Write a signed bundle of the oldest undelivered items, for the offline reviewers."""
    instance = load_or_fail(instance_path)
    out = out.resolve()
    with opened_database(instance) as engine:
        store = Store(sessionmaker(engine, expire_on_commit=False))
        try:
            with private_output(out) as dst:
                items, left = export_bundle(store, instance.signing_key, dst, max_bytes)
        except OSError as err:
            raise click.ClickException(
                f"cannot write the bundle {out} ({err.strerror or err})"
            ) from None
    click.echo(f"Wrote {len(items)} items to {out}.")
    if left:
        click.echo(f"{left} more items wait for the next bundle, once these are acknowledged.")
