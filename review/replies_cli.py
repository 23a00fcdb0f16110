"""``review reply`` and ``review outbox``: answering sources through the courier."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from .output import cell, console, counted, json_option, print_json
from .replies import check_can_reply, outbox, reply_text, seal_reply, write_reply_bundle
from .text_input import read_text
from .workspace import Workspace
from .workspace_cli import with_workspace


@click.command("reply")
@click.argument("source_ref", metavar="SOURCE")
@click.option(
    "--file",
    "message_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the reply from this file instead of standard input.",
)
@with_workspace
def reply(workspace: Workspace, source_ref: str, message_file: Path | None) -> None:
    """Seal a reply to a source into the outbox.

    Only the source (with their codename) and you can open it.
    """
    source = workspace.source(source_ref)
    check_can_reply(source)
    sealed = seal_reply(workspace, source, read_text(None, "reply", message_file))
    click.echo(f"Reply {sealed.id} to {source.pseudonym} is in the outbox.")


@click.command("outbox")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the outbox as a signed reply bundle here, for the courier.",
)
@json_option
@with_workspace
def outbox_(workspace: Workspace, out: Path | None, as_json: bool) -> None:
    """List the replies waiting in the outbox, or write them as a reply bundle with --out.

    Replies stay in the outbox until the courier confirms them.
    """
    if out is not None:
        written = write_reply_bundle(workspace, out)
        click.echo(f"Wrote {counted(len(written), 'reply', 'replies')} to {out}.", err=True)
        key = workspace.signing_key.verify_key
        click.echo(f"It is signed by this workspace's key {key}.")
        click.echo(
            f"The server accepts it once its operator has run `intake reviewers add {key} "
            "--name NAME` (once per workspace).",
            err=True,
        )
        return
    rows = [
        {
            "id": reply.id,
            "source": reply.source.pseudonym,
            "day": reply.day,
            "text": reply_text(workspace, reply),
        }
        for reply in outbox(workspace)
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("Reply", "To", "Day", "Text")
    for row in rows:
        table.add_row(*map(cell, row.values()))
    console().print(table)
