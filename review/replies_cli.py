"""``review reply`` and ``review outbox``: answering sources through the courier."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from .output import cell, console, json_option, print_json, say
from .service import Review
from .short_ids import short_ids
from .text_input import read_text
from .wording import counted
from .workspace_cli import with_review


@click.command("reply")
@click.argument("source_ref", metavar="SOURCE")
@click.option(
    "--file",
    "message_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the reply from this file instead of standard input.",
)
@json_option
@with_review
def reply(review: Review, source_ref: str, message_file: Path | None, as_json: bool) -> None:
    """Seal a reply to a source into the outbox.

    Only the source (with their codename) and you can open it.
    """
    review.check_can_reply(source_ref)
    sealed = review.reply(source_ref, read_text(None, "reply", message_file))
    if as_json:
        print_json(asdict(sealed))
        return
    say(f"Reply {sealed.id} to {sealed.source} is in the outbox.")


@click.command("delivered")
@click.argument("confirmation", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@with_review
def delivered(review: Review, confirmation: Path, as_json: bool) -> None:
    """Read the delivery confirmation `review push` wrote: the replies it names leave the outbox.

    The server signs it with its bundle key, which this workspace has pinned, so only the server
    can confirm a delivery.
    """
    confirmed = review.confirm_delivery(confirmation)
    if as_json:
        print_json({"delivered": list(confirmed.delivered), "waiting": confirmed.waiting})
        return
    delivered = counted(len(confirmed.delivered), "reply", "replies")
    say(f"Marked {delivered} delivered; {confirmed.waiting} still wait in the outbox.")


@click.command("outbox")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the outbox as a signed reply bundle here, for the courier.",
)
@json_option
@with_review
def outbox_(review: Review, out: Path | None, as_json: bool) -> None:
    """List the replies waiting and delivered, or write the waiting ones as a reply bundle
    with --out.

    Replies wait in the outbox until `review delivered` reads the server's confirmation.
    """
    if out is not None:
        written = review.write_reply_bundle(out)
        if as_json:
            print_json(
                {
                    "bundle": str(out),
                    "replies": list(written.replies),
                    "signed_by": written.signed_by,
                }
            )
            return
        say(f"Wrote {counted(len(written.replies), 'reply', 'replies')} to {out}.", err=True)
        key = written.signed_by
        say(f"It is signed by this workspace's key {key}.")
        say(
            f"The server accepts it once its operator has run `intake reviewers add {key} "
            "--name NAME` (once per workspace).",
            err=True,
        )
        return
    waiting, delivered = review.outbox(), review.delivered_replies()
    if as_json:
        print_json(
            [{**asdict(entry), "status": "waiting"} for entry in waiting]
            + [{**asdict(entry), "status": "delivered"} for entry in delivered]
        )
        return
    short = short_ids([entry.id for entry in waiting] + [done.id for done in delivered])
    table = Table("Reply", "To", "Day", "Status", "Text")
    for entry in waiting:
        table.add_row(*map(cell, (short[entry.id], entry.source, entry.day, "waiting", entry.text)))
    for done in delivered:
        row = (short[done.id], done.source, done.day, f"delivered {done.delivered}", "")
        table.add_row(*map(cell, row))
    console().print(table)
