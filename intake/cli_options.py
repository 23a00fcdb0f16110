"""What every ``intake`` command shares: the --instance option and loading it with a clear error."""

from __future__ import annotations

from pathlib import Path

import click

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
