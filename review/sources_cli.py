"""Sources and their independence: ``review sources``, ``relate``, ``unrelate`` and ``suggest``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import click
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .assessment import Members, groups, members, pseudonyms
from .corroboration import RELATION_KINDS
from .models import Relation, Source, Tip
from .output import cell, console, json_option, print_json
from .suggest import Suggestion, TipSignals, suggest
from .text_input import optional_text, text_file_option
from .tip_content import message_text
from .workspace import Workspace, WorkspaceError
from .workspace_cli import with_workspace


@dataclass(frozen=True)
class SourceView:
    pseudonym: str
    id: str
    group: Members
    tips: tuple[str, ...]
    relations: tuple[dict[str, str], ...]
    can_reply: bool


@click.command("sources")
@json_option
@with_workspace
def sources(workspace: Workspace, as_json: bool) -> None:
    """List sources by pseudonym, with their independence group, tips and relations."""
    names = pseudonyms(workspace)
    group_of = groups(workspace)
    related: dict[str, list[dict[str, str]]] = {source: [] for source in names}
    for relation in workspace.session.scalars(select(Relation)):
        note = workspace.unseal_optional(relation.note)
        pair = (relation.source_a, relation.source_b)
        for this, other in (pair, pair[::-1]):
            related[this].append({"source": names[other], "kind": relation.kind, "note": note})
    views = [
        SourceView(
            pseudonym=source.pseudonym,
            id=source.id,
            group=members(group_of[source.id], names),
            tips=tuple(tip.id for tip in source.tips),
            relations=tuple(related[source.id]),
            can_reply=bool(source.reply_recipient),
        )
        for source in workspace.session.scalars(
            select(Source).options(selectinload(Source.tips)).order_by(Source.pseudonym)
        )
    ]
    if as_json:
        print_json([asdict(view) for view in views])
        return
    table = Table("Source", "Server id", "Group", "Tips", "Relations")
    for view in views:
        relations = "; ".join(f"{r['kind']} {r['source']}" for r in view.relations)
        group = ", ".join(view.group) if len(view.group) > 1 else "independent"
        table.add_row(*map(cell, (view.pseudonym, view.id, group, len(view.tips), relations)))
    console().print(table)


def _ordered_pair(workspace: Workspace, first: str, second: str) -> tuple[Source, Source]:
    a, b = workspace.source(first), workspace.source(second)
    if a.id == b.id:
        raise WorkspaceError(f"{first} and {second} are the same source")
    return (a, b) if a.id < b.id else (b, a)


@click.command("relate")
@click.argument("first", metavar="S1")
@click.argument("second", metavar="S2")
@click.option("--same-person", "kind", flag_value="same-person", help="One person, two codenames.")
@click.option(
    "--shared-origin", "kind", flag_value="shared-origin", help="Their knowledge has one origin."
)
@click.option(
    "--note", help="Why (sealed). Typed here it stays in your shell history: prefer --note-file -."
)
@text_file_option("note", "note")
@with_workspace
def relate(
    workspace: Workspace,
    first: str,
    second: str,
    kind: str | None,
    note: str | None,
    note_file: Path | None,
) -> None:
    """Record that two sources are not independent; they then count as one group.

    Relating them again replaces the kind and the note.
    """
    if kind not in RELATION_KINDS:
        raise click.UsageError("say how they are related: --same-person or --shared-origin")
    a, b = _ordered_pair(workspace, first, second)
    note = optional_text(note, note_file, "note")
    sealed = None if note is None else workspace.seal(note)
    workspace.session.merge(Relation(source_a=a.id, source_b=b.id, kind=kind, note=sealed))
    click.echo(f"Related {a.pseudonym} and {b.pseudonym} ({kind}).")


@click.command("unrelate")
@click.argument("first", metavar="S1")
@click.argument("second", metavar="S2")
@with_workspace
def unrelate(workspace: Workspace, first: str, second: str) -> None:
    """Remove the relation between two sources, restoring their independence."""
    a, b = _ordered_pair(workspace, first, second)
    relation = workspace.session.get(Relation, (a.id, b.id))
    if relation is None:
        raise WorkspaceError(f"{a.pseudonym} and {b.pseudonym} are not related")
    workspace.session.delete(relation)
    click.echo(f"{a.pseudonym} and {b.pseudonym} are no longer related.")


@click.command("suggest")
@json_option
@with_workspace
def suggest_(workspace: Workspace, as_json: bool) -> None:
    """Suggest likely shared-origin pairs: near-duplicate messages, identical attachments.

    Nothing is related until you accept a suggestion with `review relate`.
    """
    names = pseudonyms(workspace)
    signals = [
        TipSignals(
            tip.id,
            tip.source_id,
            text=message_text(workspace, tip) if tip.kind == "message" else None,
            content_tag=tip.content_tag,
        )
        for tip in workspace.session.scalars(select(Tip).order_by(Tip.id))
    ]
    found = suggest(signals, groups(workspace))
    if as_json:
        print_json([_suggestion_json(suggestion, names) for suggestion in found])
        return
    if not found:
        click.echo("No suggestions: no near-duplicate text or identical files across groups.")
        return
    table = Table("Sources", "Evidence", "To accept")
    for suggestion in found:
        evidence = "\n".join(
            f"{clue.kind}: {' and '.join(clue.tips)} ({clue.score:.0%})"
            for clue in suggestion.clues
        )
        first, second = (names[source] for source in suggestion.sources)
        table.add_row(cell(f"{first} and {second}"), cell(evidence), cell(_accept(first, second)))
    console().print(table)


def _accept(first: str, second: str) -> str:
    return f"review relate {first} {second} --shared-origin"


def _suggestion_json(suggestion: Suggestion, names: dict[str, str]) -> dict[str, object]:
    first, second = (names[source] for source in suggestion.sources)
    return {
        "sources": [first, second],
        "evidence": [
            {"kind": clue.kind, "tips": list(clue.tips), "score": clue.score}
            for clue in suggestion.clues
        ],
        "accept": _accept(first, second),
    }
