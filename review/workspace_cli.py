"""The click side of the workspace: ``--workspace``, unlocking, and one-line errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from keys import age
from keys.bundle import BundleError

from .keys_cli import identity_option, load_identity, passphrase_file_option
from .workspace import Workspace, WorkspaceError, default_workspace_path

R = TypeVar("R")

workspace_option = click.option(
    "--workspace",
    "workspace_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CAIRN_WORKSPACE",
    default=default_workspace_path,
    show_default="the user's data directory, or $CAIRN_WORKSPACE",
    help="The workspace directory (made on first use).",
)


def with_workspace(command: Callable[..., R]) -> Callable[..., R]:
    """Give ``command`` the unlocked workspace as its first argument.

    Adds ``--workspace``, ``--identity`` and ``--passphrase-file``; any error the reviewer can
    put right becomes a one-line message, and nothing of a failed command is committed.
    """

    @workspace_option
    @identity_option
    @passphrase_file_option
    @functools.wraps(command)
    def wrapper(
        workspace_dir: Path, identity_path: Path, passphrase_file: Path | None, **kwargs: object
    ) -> R:
        identity = load_identity(identity_path, passphrase_file)
        try:
            with Workspace.open(workspace_dir, identity) as workspace:
                return command(workspace, **kwargs)
        except (WorkspaceError, BundleError, age.DecryptError) as err:
            raise click.ClickException(str(err)) from None
        except OSError as err:
            where = f": {err.filename}" if err.filename else ""
            raise click.ClickException(f"{err.strerror or err}{where}") from None

    return wrapper
