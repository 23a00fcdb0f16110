"""The ``review`` command."""

from __future__ import annotations

import click

from .keys_cli import keys_group


@click.group()
@click.version_option(package_name="cairn")
def main() -> None:
    """Cairn's offline review tool: open tips, record claims, see what is corroborated."""


main.add_command(keys_group)
