"""The click side of the workspace: ``--workspace``, unlocking, and one-line errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from keys import age
from keys.bundle import BundleError

from . import agent
from .keys_cli import identity_option, load_identity, passphrase_file_option
from .path_options import data_path_option
from .service import Review
from .wording import file_trouble
from .workspace import Workspace, WorkspaceError, default_workspace_path

R = TypeVar("R")

workspace_option = data_path_option(
    "--workspace",
    "workspace_dir",
    default=default_workspace_path,
    envvar="CAIRN_WORKSPACE",
    folder=True,
    help="The workspace directory (made on first use).",
)


def with_review(command: Callable[..., R]) -> Callable[..., R]:
    """Give ``command`` the reviewer's verbs on the unlocked workspace as its first argument.

    Adds ``--workspace``, ``--identity`` and ``--passphrase-file``; the identity comes from the
    agent when `review unlock` started one, else from its file and passphrase. Any error the
    reviewer can put right becomes a one-line message, and nothing of a failed command is
    committed.
    """

    @workspace_option
    @identity_option
    @passphrase_file_option
    @functools.wraps(command)
    def wrapper(
        workspace_dir: Path, identity_path: Path, passphrase_file: Path | None, **kwargs: object
    ) -> R:
        try:
            identity = agent.connect(identity_path) or load_identity(identity_path, passphrase_file)
        except agent.AgentError as err:
            raise click.ClickException(str(err)) from None
        try:
            with Workspace.open(workspace_dir, identity) as workspace:
                return command(Review(workspace), **kwargs)
        except (WorkspaceError, BundleError, age.DecryptError, agent.AgentError) as err:
            raise click.ClickException(str(err)) from None
        except OSError as err:
            raise click.ClickException(file_trouble(err)) from None

    return wrapper
