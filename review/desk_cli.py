"""``review desk``: the reviewer's verbs as pages in a browser on this machine."""

from __future__ import annotations

import functools
import webbrowser
from pathlib import Path

import click

from keys import age

from .claims_cli import threshold_option
from .desk import create_desk
from .desk.app import DEFAULT_IDLE_MINUTES
from .desk.serve import listen, serve
from .keys_cli import identity_option, load_identity, passphrase_file_option
from .output import say
from .wording import file_trouble
from .workspace import Workspace, WorkspaceError
from .workspace_cli import workspace_option


@click.command("desk")
@workspace_option
@identity_option
@passphrase_file_option
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default="any free port",
    help="The port on 127.0.0.1.",
)
@click.option("--no-browser", is_flag=True, help="Print the address; open no browser.")
@click.option(
    "--idle-minutes",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_IDLE_MINUTES,
    show_default=True,
    help="Lock and close after this long without a request.",
)
@threshold_option
def desk(
    workspace_dir: Path,
    identity_path: Path,
    passphrase_file: Path | None,
    port: int,
    no_browser: bool,
    idle_minutes: float,
    threshold: int,
) -> None:
    """Open the desk: every reviewer's verb as pages, for this machine's browser only.

    Asks for the passphrase once, serves on 127.0.0.1 and prints an address with a one-time
    token (and opens it, unless --no-browser). The desk locks and exits after --idle-minutes
    without a request, or on Ctrl-C; the key is forgotten with the process.
    """
    identity = load_identity(identity_path, passphrase_file)

    open_workspace = functools.partial(Workspace.open, workspace_dir, identity)
    try:
        with open_workspace():
            pass  # unlock once now, so a wrong workspace is said here, not in the browser
    except (WorkspaceError, age.DecryptError) as err:
        raise click.ClickException(str(err)) from None
    except OSError as err:
        raise click.ClickException(file_trouble(err)) from None
    app = create_desk(open_workspace, idle_minutes=idle_minutes, threshold=threshold)
    try:
        server = listen(app, port)
    except OSError as err:
        raise click.ClickException(
            f"cannot serve on 127.0.0.1:{port} ({err.strerror or err})"
        ) from None

    def announce(address: str) -> None:
        say("The desk is open for this machine only. Open this address once (Ctrl-C closes it):")
        say(address)
        if not no_browser:
            webbrowser.open(address)

    serve(app, server, announce)
    say("The desk is closed; the key is forgotten.")
