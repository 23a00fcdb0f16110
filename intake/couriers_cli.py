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
from sqlalchemy.orm import sessionmaker

from keys.signing import parse_verify_key

from .cli_options import instance_option, load_or_fail, opened_database
from .courier_store import KIND, CourierError, CourierStore, KeyHolder
from .models import Courier, ReviewerKey


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
            key = parse_verify_key(public_key, KIND[holder])
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
