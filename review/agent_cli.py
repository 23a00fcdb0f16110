"""``review unlock`` and ``review lock``: one passphrase for a session, as ssh-agent gives."""

from __future__ import annotations

from pathlib import Path

import click

from . import agent
from .keys_cli import identity_option, load_identity, passphrase_file_option
from .output import done, json_option, say


@click.command("unlock")
@identity_option
@passphrase_file_option
@click.option(
    "--timeout",
    "minutes",
    type=click.FloatRange(min=0, min_open=True),
    default=agent.DEFAULT_MINUTES,
    show_default=True,
    help="Minutes until the agent forgets the identity (counted from now).",
)
@json_option
def unlock(
    identity_path: Path, passphrase_file: Path | None, minutes: float, as_json: bool
) -> None:
    """Ask the passphrase once: until `review lock` or the timeout, commands ask no more.

    An agent process holds the identity in locked memory and opens files for your commands
    only (an owner-only socket; other users are refused). Lock it when you step away.
    """
    identity = load_identity(identity_path, passphrase_file)
    try:
        warning = agent.start(identity, identity_path, minutes * 60)
    except (agent.AgentError, OSError) as err:
        raise click.ClickException(str(err)) from None
    if warning:
        say(f"Warning: {warning}", err=True)
    unit = "minute" if minutes == 1 else "minutes"
    message = f"Unlocked for {minutes:g} {unit}; `review lock` forgets the identity sooner."
    done(as_json, {"unlocked_minutes": minutes}, message)


@click.command("lock")
@identity_option
@json_option
def lock(identity_path: Path, as_json: bool) -> None:
    """Make the agent forget the identity now; commands ask the passphrase again."""
    try:
        running = agent.lock(identity_path)
    except agent.AgentError as err:
        raise click.ClickException(str(err)) from None
    message = "Locked: commands ask the passphrase again." if running else "No agent was unlocked."
    done(as_json, {"locked": running}, message)
