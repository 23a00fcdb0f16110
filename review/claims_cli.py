"""Claims and evidence: ``review claim add|edit|remove``, ``link``, ``unlink`` and ``claims``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from .assessment import assess
from .corroboration import BASES, DEFAULT_THRESHOLD, STANCES
from .models import Claim, Link
from .output import cell, console, counted, json_option, print_json
from .text_input import optional_text, read_text, text_file_option
from .workspace import Workspace, WorkspaceError
from .workspace_cli import with_workspace

DEFAULT_BASIS = "secondhand"

threshold_option = click.option(
    "--threshold",
    type=click.IntRange(min=1),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Independent groups needed for a claim to be corroborated.",
)


@click.group("claim")
def claim_group() -> None:
    """Record, reword or remove a claim (its text is sealed)."""


@claim_group.command("add")
@click.argument("text", required=False)
@with_workspace
def claim_add(workspace: Workspace, text: str | None) -> None:
    """Add a claim and print its id. Without TEXT, reads it from standard input."""
    claim = Claim(text=workspace.seal(read_text(text, "claim")))
    workspace.session.add(claim)
    workspace.session.flush()
    click.echo(str(claim.id))


@claim_group.command("edit")
@click.argument("claim_id", metavar="ID", type=int)
@click.argument("text", required=False)
@with_workspace
def claim_edit(workspace: Workspace, claim_id: int, text: str | None) -> None:
    """Reword a claim; its links stay. Without TEXT, reads it from standard input."""
    workspace.claim(claim_id).text = workspace.seal(read_text(text, "claim"))
    click.echo(f"Claim {claim_id} reworded.")


@claim_group.command("remove")
@click.argument("claim_id", metavar="ID", type=int)
@with_workspace
def claim_remove(workspace: Workspace, claim_id: int) -> None:
    """Remove a claim and its links; its id is never reused."""
    claim = workspace.claim(claim_id)
    links = len(claim.links)
    workspace.session.delete(claim)
    click.echo(f"Claim {claim_id} removed, with {counted(links, 'link', 'links')}.")


@click.command("link")
@click.argument("tip_ref", metavar="TIP")
@click.argument("claim_id", metavar="CLAIM", type=int)
@click.option("--supports", "stance", flag_value="supports", help="The tip supports the claim.")
@click.option("--contradicts", "stance", flag_value="contradicts", help="The tip contradicts it.")
@click.option("--context", "stance", flag_value="context", help="Background; counts for nothing.")
@click.option(
    "--basis",
    type=click.Choice(BASES),
    default=DEFAULT_BASIS,
    show_default=True,
    help="How the source knows: only firsthand and document links count.",
)
@click.option(
    "--quote",
    help="The words that bear on the claim (sealed). Typed here they stay in your shell "
    "history: prefer --quote-file -.",
)
@text_file_option("quote", "quote")
@with_workspace
def link(
    workspace: Workspace,
    tip_ref: str,
    claim_id: int,
    stance: str | None,
    basis: str,
    quote: str | None,
    quote_file: Path | None,
) -> None:
    """Link a tip to a claim; linking the same pair again replaces the link.

    The basis defaults to secondhand, which counts for nothing: say --basis firsthand or
    --basis document when the tip shows the source saw it or holds the record.
    """
    if stance not in STANCES:
        raise click.UsageError("say how: --supports, --contradicts or --context")
    tip, claim = workspace.tip(tip_ref), workspace.claim(claim_id)
    quote = optional_text(quote, quote_file, "quote")
    sealed = None if quote is None else workspace.seal(quote)
    workspace.session.merge(
        Link(tip_id=tip.id, claim_id=claim.id, stance=stance, basis=basis, quote=sealed)
    )
    click.echo(f"Tip {tip.id} {stance} claim {claim.id} ({basis}).")
    if stance != "context" and basis == "secondhand":
        click.echo("Secondhand links are weak: shown, never counted.", err=True)


@click.command("unlink")
@click.argument("tip_ref", metavar="TIP")
@click.argument("claim_id", metavar="CLAIM", type=int)
@with_workspace
def unlink(workspace: Workspace, tip_ref: str, claim_id: int) -> None:
    """Remove the link between a tip and a claim."""
    tip = workspace.tip(tip_ref)
    found = workspace.session.get(Link, (tip.id, claim_id))
    if found is None:
        raise WorkspaceError(f"tip {tip.id} is not linked to claim {claim_id}")
    workspace.session.delete(found)
    click.echo(f"Tip {tip.id} is no longer linked to claim {claim_id}.")


def _groups_text(found: tuple[tuple[str, ...], ...]) -> str:
    return "; ".join(" + ".join(group) for group in found)


@click.command("claims")
@threshold_option
@json_option
@with_workspace
def claims(workspace: Workspace, threshold: int, as_json: bool) -> None:
    """Each claim's status and its independent groups; with --json, its evidence too."""
    views = assess(workspace, threshold, with_evidence=as_json)
    if as_json:
        print_json([view.as_json() for view in views])
        return
    table = Table("Claim", "Status", f"Independent (of {threshold})", "Text", "Groups")
    for view in views:
        lines = [
            f"{label}: {_groups_text(found)}"
            for label, found in (
                ("supports", view.supporting),
                ("contradicts", view.contradicting),
                ("weak support", view.weak_support),
                ("weak contradiction", view.weak_contradiction),
            )
            if found
        ]
        table.add_row(
            *map(cell, (view.id, view.status, len(view.supporting), view.text, "\n".join(lines)))
        )
    console().print(table)
