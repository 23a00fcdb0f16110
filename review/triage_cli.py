"""Triage: ``review tips``, ``show``, ``export``, ``mark`` and ``note``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.panel import Panel
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .export import export_tip
from .models import TIP_STATUSES, Note, Tip
from .output import cell, console, fitted_table, json_option, print_json, printable
from .text_input import read_text
from .tip_content import Summaries, message_text
from .workspace import Workspace
from .workspace_cli import with_workspace


def _summary(summaries: Summaries, tip: Tip) -> dict[str, object]:
    details = summaries.of(tip)
    return {
        "id": tip.id,
        "day": tip.day,
        "source": tip.source.pseudonym,
        "kind": tip.kind,
        "status": tip.status,
        "name": details.name,
        "type": details.media_type,
        "length": details.length,
        "preview": details.preview,
    }


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
@with_workspace
def tips(
    workspace: Workspace, statuses: tuple[str, ...], source_ref: str | None, as_json: bool
) -> None:
    """List tips, oldest first."""
    query = select(Tip).options(selectinload(Tip.source)).order_by(Tip.day, Tip.id)
    if statuses:
        query = query.where(Tip.status.in_(statuses))
    if source_ref is not None:
        query = query.where(Tip.source_id == workspace.source(source_ref).id)
    counted = workspace.session.execute(select(Note.tip_id, func.count()).group_by(Note.tip_id))
    note_counts = {tip_id: count for tip_id, count in counted}
    summaries = Summaries(workspace)
    rows = [
        {**_summary(summaries, tip), "notes": note_counts.get(tip.id, 0)}
        for tip in workspace.session.scalars(query)
    ]
    if as_json:
        print_json(rows)
        return
    headings = ("Tip", "Day", "Source", "Kind", "Status", "Notes", "What")
    values = [[row[key] for key in ("id", "day", "source", "kind", "status")] for row in rows]
    for row, value in zip(rows, values, strict=True):
        what = row["preview"] if row["kind"] == "message" else f"{row['name']} ({row['type']})"
        value += [row["notes"] or "", what]
    out = console()
    out.print(fitted_table(headings, values, out.width))


@click.command("show")
@click.argument("tip_ref", metavar="TIP")
@json_option
@with_workspace
def show(workspace: Workspace, tip_ref: str, as_json: bool) -> None:
    """Show a tip: a message's text or a file's name, type and size; its notes and links.

    A new tip becomes read.
    """
    tip = workspace.tip(tip_ref)
    summary = _summary(Summaries(workspace), tip)
    text = message_text(workspace, tip) if tip.kind == "message" else None
    notes = [workspace.unseal(note.text) for note in tip.notes]
    links = [
        {
            "claim": link.claim_id,
            "stance": link.stance,
            "basis": link.basis,
            "quote": workspace.unseal_optional(link.quote),
        }
        for link in sorted(tip.links, key=lambda link: link.claim_id)
    ]
    if tip.status == "new":
        tip.status = "read"
    if as_json:
        print_json({**summary, "status": tip.status, "text": text, "notes": notes, "links": links})
        return
    out = console()
    heading = f"Tip {tip.id} from {tip.source.pseudonym}, {tip.day}, {tip.kind}, {tip.status}"
    out.print(cell(heading))
    if text is None:
        out.print(cell(f"File {summary['name']!r}, {summary['type']}, {summary['length']} bytes"))
        out.print(cell(f"Read it outside the workspace with `review export {tip.id} --out DIR`."))
    else:
        out.print(Panel(cell(text), title="Message"))
    for number, note_text in enumerate(notes, 1):
        out.print(cell(f"Note {number}: {note_text}"))
    for found in links:
        quote = f' "{found["quote"]}"' if found["quote"] else ""
        out.print(cell(f"Claim {found['claim']}: {found['stance']} ({found['basis']}){quote}"))


@click.command("export")
@click.argument("tip_ref", metavar="TIP")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A directory outside the workspace.",
)
@with_workspace
def export(workspace: Workspace, tip_ref: str, out_dir: Path) -> None:
    """Decrypt a tip into a file: the only way a tip's plaintext reaches a disk.

    The file is named after the tip id and a sanitized form of the source's name for it; an
    existing file is never overwritten. Delete it once you are done with it.
    """
    tip = workspace.tip(tip_ref)
    exported = export_tip(workspace, tip, out_dir, Summaries(workspace).of(tip).name)
    if exported.warning:
        click.echo(f"Warning: {exported.warning}", err=True)
    click.echo(printable(str(exported.path)))


@click.command("mark")
@click.argument("tip_ref", metavar="TIP")
@click.argument("status", type=click.Choice(TIP_STATUSES))
@with_workspace
def mark(workspace: Workspace, tip_ref: str, status: str) -> None:
    """Set a tip's status: new, read, flagged, discarded or spam.

    A discarded or spam tip is set aside: its links to claims stay listed but no longer count
    towards any claim's status.
    """
    tip = workspace.tip(tip_ref)
    tip.status = status
    click.echo(f"Tip {tip.id} is now {status}.")


@click.command("note")
@click.argument("tip_ref", metavar="TIP")
@click.argument("text", required=False)
@with_workspace
def note(workspace: Workspace, tip_ref: str, text: str | None) -> None:
    """Add a note to a tip (sealed). Without TEXT, reads it from standard input."""
    tip = workspace.tip(tip_ref)
    tip.notes.append(Note(text=workspace.seal(read_text(text, "note"))))
    click.echo(f"Noted on tip {tip.id}.")
