"""Triage: ``review tips``, ``show``, ``export``, ``mark`` and ``note``."""

from __future__ import annotations

from dataclasses import asdict
from itertools import pairwise
from pathlib import Path

import click
from rich.panel import Panel

from .models import TIP_STATUSES
from .output import cell, console, done, fitted_table, json_option, print_json, say
from .service import Review
from .text_input import read_text
from .workspace_cli import with_review


@click.command("tips")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(TIP_STATUSES),
    help="Only tips with this status (repeatable).",
)
@click.option("--source", "source_ref", help="Only tips from this source (pseudonym or id).")
@json_option
@with_review
def tips(review: Review, statuses: tuple[str, ...], source_ref: str | None, as_json: bool) -> None:
    """List tips, oldest first, by submission: the tips sent together, the message first.

    A tip from an older bundle, which did not say which tips were sent together, is grouped
    with its source's tips of the same day. Ids are shown as their shortest unique prefix (any
    command takes one); --json gives them whole.
    """
    rows = review.tips(statuses, source_ref)
    if as_json:
        print_json([asdict(row) for row in rows])
        return
    short = review.short_tip_ids()
    headings = ("Tip", "Day", "Source", "Kind", "Status", "Notes", "What")
    values = [
        [
            short[row.id],
            row.day,
            row.source,
            row.kind,
            row.status,
            row.notes or "",
            row.preview if row.kind == "message" else f"{row.name} ({row.type})",
        ]
        for row in rows
    ]
    ends = frozenset(
        index for index, (row, after) in enumerate(pairwise(rows)) if row.group != after.group
    )
    out = console()
    out.print(fitted_table(headings, values, out.width, section_ends=ends))


@click.command("show")
@click.argument("tip_ref", metavar="TIP")
@json_option
@with_review
def show(review: Review, tip_ref: str, as_json: bool) -> None:
    """Show a tip: a message's text or a file's name, type and size; its notes and links.

    A new tip becomes read.
    """
    tip = review.show(tip_ref)
    if as_json:
        print_json(asdict(tip))
        return
    out = console()
    out.print(cell(f"Tip {tip.id} from {tip.source}, {tip.day}, {tip.kind}, {tip.status}"))
    if tip.text is None:
        out.print(cell(f"File {tip.name!r}, {tip.type}, {tip.length} bytes"))
        out.print(cell(f"Read it outside the workspace with `review export {tip.id} --out DIR`."))
    else:
        out.print(Panel(cell(tip.text), title="Message"))
    for number, note_text in enumerate(tip.notes, 1):
        out.print(cell(f"Note {number}: {note_text}"))
    for found in tip.links:
        quote = f' "{found.quote}"' if found.quote else ""
        out.print(cell(f"Claim {found.claim}: {found.stance} ({found.basis}){quote}"))


@click.command("export")
@click.argument("tip_ref", metavar="TIP")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A directory outside the workspace.",
)
@json_option
@with_review
def export(review: Review, tip_ref: str, out_dir: Path, as_json: bool) -> None:
    """Decrypt a tip into a file: the only way a tip's plaintext reaches a disk.

    The file is named after the tip id and a sanitized form of the source's name for it; an
    existing file is never overwritten. Delete it once you are done with it.
    """
    exported = review.export(tip_ref, out_dir)
    if exported.warning:
        say(f"Warning: {exported.warning}", err=True)
    done(as_json, {"path": str(exported.path), "warning": exported.warning}, str(exported.path))


@click.command("mark")
@click.argument("tip_ref", metavar="TIP")
@click.argument("status", type=click.Choice(TIP_STATUSES))
@json_option
@with_review
def mark(review: Review, tip_ref: str, status: str, as_json: bool) -> None:
    """Set a tip's status: new, read, flagged, discarded or spam.

    A discarded or spam tip is set aside: its links to claims stay listed but no longer count
    towards any claim's status.
    """
    tip = review.mark(tip_ref, status)
    done(as_json, {"tip": tip, "status": status}, f"Tip {tip} is now {status}.")


@click.command("note")
@click.argument("tip_ref", metavar="TIP")
@click.argument("text", required=False)
@json_option
@with_review
def note(review: Review, tip_ref: str, text: str | None, as_json: bool) -> None:
    """Add a note to a tip (sealed). Without TEXT, reads it from standard input."""
    tip = review.note(tip_ref, read_text(text, "note"))
    done(as_json, {"tip": tip}, f"Noted on tip {tip}.")
