"""Options naming a file or folder that lives in the user's data directory unless told otherwise:
the identity, the workspace and the courier key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from click.decorators import FC


def data_path_option(
    *names: str,
    default: Callable[[], Path],
    help: str,
    envvar: str | None = None,
    folder: bool = False,
) -> Callable[[FC], FC]:
    where = "the user's data directory" + (f", or ${envvar}" if envvar else "")
    return click.option(
        *names,
        type=click.Path(file_okay=not folder, dir_okay=folder, path_type=Path),
        envvar=envvar,
        default=default,
        show_default=where,
        help=help,
    )
