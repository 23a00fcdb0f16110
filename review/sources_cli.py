"""Sources and their independence: ``review sources``, ``relate``, ``unrelate`` and ``suggest``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from .flag_choice import choice_flag, chosen
from .output import cell, console, done, json_option, print_json, say
from .service import Review
from .text_input import optional_text, text_file_option
from .wording import tips_with_kinds
from .workspace_cli import with_review


@click.command("sources")
@json_option
@with_review
def sources(review: Review, as_json: bool) -> None:
    """List sources by pseudonym, with their independence group, tips and relations."""
    views = review.sources()
    if as_json:
        print_json([asdict(view) for view in views])
        return
    table = Table("Source", "Server id", "Group", "Tips", "Relations")
    for view in views:
        relations = "; ".join(f"{r.kind} {r.source}" for r in view.relations)
        group = ", ".join(view.group) if len(view.group) > 1 else "independent"
        tips = tips_with_kinds(view.messages, view.files)
        table.add_row(*map(cell, (view.pseudonym, view.id, group, tips, relations)))
    console().print(table)


@click.command("relate")
@click.argument("first", metavar="S1")
@click.argument("second", metavar="S2")
@choice_flag("kind", "same-person", "One person, two codenames.")
@choice_flag("kind", "shared-origin", "Their knowledge has one origin.")
@click.option(
    "--note", help="Why (sealed). Typed here it stays in your shell history: prefer --note-file -."
)
@text_file_option("note", "note")
@json_option
@with_review
def relate(
    review: Review,
    first: str,
    second: str,
    note: str | None,
    note_file: Path | None,
    as_json: bool,
) -> None:
    """Record that two sources are not independent; they then count as one group.

    Relating them again replaces the kind and the note.
    """
    kind = chosen("kind", "say how they are related: --same-person or --shared-origin")
    review.check_pair(first, second)
    note = optional_text(note, note_file, "note")
    related = review.relate(first, second, kind, note)
    pair = {"first": related.first, "second": related.second, "kind": kind}
    done(as_json, pair, f"Related {related.first} and {related.second} ({kind}).")


@click.command("unrelate")
@click.argument("first", metavar="S1")
@click.argument("second", metavar="S2")
@json_option
@with_review
def unrelate(review: Review, first: str, second: str, as_json: bool) -> None:
    """Remove the relation between two sources, restoring their independence."""
    a, b = review.unrelate(first, second)
    done(as_json, {"first": a, "second": b}, f"{a} and {b} are no longer related.")


@click.command("suggest")
@json_option
@with_review
def suggest_(review: Review, as_json: bool) -> None:
    """Suggest likely shared-origin pairs: near-duplicate messages, identical attachments.

    Nothing is related until you accept a suggestion with `review relate`.
    """
    found = review.suggestions()
    if as_json:
        print_json([asdict(suggestion) for suggestion in found])
        return
    if not found:
        say("No suggestions: no near-duplicate text or identical files across groups.")
        return
    short = review.short_tip_ids()
    table = Table("Sources", "Evidence", "To accept")
    for suggestion in found:
        evidence = "\n".join(
            f"{clue.kind}: {' and '.join(short[tip] for tip in clue.tips)} ({clue.score:.0%})"
            for clue in suggestion.evidence
        )
        first, second = suggestion.sources
        table.add_row(cell(f"{first} and {second}"), cell(evidence), cell(suggestion.accept))
    console().print(table)
