"""``intake couriers``: which courier keys may fetch, acknowledge and push (see keys.courier)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy.orm import sessionmaker

from keys.signing import parse_verify_key

from .cli_options import instance_option, load_or_fail
from .courier_store import CourierError, CourierStore
from .db import make_engine


def _couriers(instance_path: Path) -> CourierStore:
    instance = load_or_fail(instance_path)
    return CourierStore(sessionmaker(make_engine(instance.database_url), expire_on_commit=False))


@click.group("couriers")
def couriers_group() -> None:
    """The courier keys this server accepts."""


@couriers_group.command("add")
@instance_option
@click.argument("public_key")
@click.option("--name", required=True, help="A name to recognise this courier by.")
def add(instance_path: Path, public_key: str, name: str) -> None:
    """Accept a courier key (printed by `review courier new` on the networked machine)."""
    try:
        _couriers(instance_path).add(name, parse_verify_key(public_key))
    except (ValueError, CourierError) as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"Added the courier {name}.")


@couriers_group.command("remove")
@instance_option
@click.argument("name")
def remove(instance_path: Path, name: str) -> None:
    """Stop accepting a courier's key at once."""
    if not _couriers(instance_path).remove(name):
        raise click.ClickException(
            f"there is no courier named {name!r}; see `intake couriers list`"
        )
    click.echo(f"Removed the courier {name}.")


@couriers_group.command("list")
@instance_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_couriers(instance_path: Path, as_json: bool) -> None:
    """The accepted courier keys."""
    couriers = [
        {"name": c.name, "key": c.verify_key, "added": c.added_day.isoformat()}
        for c in _couriers(instance_path).couriers()
    ]
    if as_json:
        click.echo(json.dumps(couriers, indent=2))
    elif not couriers:
        click.echo("No couriers yet; add one with `intake couriers add KEY --name NAME`.")
    for courier in [] if as_json else couriers:
        click.echo(f"{courier['name']}\t{courier['key']}\tadded {courier['added']}")
