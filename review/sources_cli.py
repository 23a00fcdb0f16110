"""Sources, their grades and their independence: ``review sources`` (``grade``, ``grades``),
``relate``, ``unrelate`` and ``suggest``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from .claims_cli import threshold_option
from .flag_choice import choice_flag, chosen
from .grading import RELIABILITIES, RELIABILITY_WORDS
from .output import cell, console, done, json_option, listing_group, print_json, say
from .service import Review
from .text_input import optional_text, text_file_option
from .wording import tips_with_kinds
from .workspace_cli import with_review


@click.command("sources")
@json_option
@with_review
def _listing(review: Review, as_json: bool) -> None:
    views = review.sources()
    if as_json:
        print_json([asdict(view) for view in views])
        return
    table = Table("Source", "Server id", "Grade", "Group", "Tips", "Relations")
    for view in views:
        relations = "; ".join(f"{r.kind} {r.source}" for r in view.relations)
        group = ", ".join(view.group) if len(view.group) > 1 else "independent"
        tips = tips_with_kinds(view.messages, view.files)
        row = (view.pseudonym, view.id, view.reliability, group, tips, relations)
        table.add_row(*map(cell, row))
    console().print(table)


sources = listing_group(
    _listing,
    "List sources by pseudonym, with their grade, independence group, tips and relations; "
    "`sources grade` sets a grade, `sources grades` shows each grade's track record.",
)


@sources.command("grade")
@click.argument("source", metavar="PSEUDONYM")
@click.argument("reliability", metavar="GRADE", type=click.Choice(RELIABILITIES))
@click.option(
    "--note", help="Why (sealed). Typed here it stays in your shell history: prefer --note-file -."
)
@text_file_option("note", "note")
@json_option
@with_review
def grade(
    review: Review,
    source: str,
    reliability: str,
    note: str | None,
    note_file: Path | None,
    as_json: bool,
) -> None:
    """Grade a source's reliability, the Admiralty way: A completely reliable, B usually,
    C fairly, D not usually, E unreliable, F cannot be judged (every source until graded).

    The grade is this source's alone: grade each member of a group on its own record.
    """
    review.check_source(source)
    note = optional_text(note, note_file, "note")
    graded = review.grade_source(source, reliability, note)
    message = (
        f"{graded.source} is graded {reliability} ({RELIABILITY_WORDS[reliability]}); "
        f"it was {graded.previous}."
    )
    done(as_json, asdict(graded), message)


@sources.command("grades")
@threshold_option
@json_option
@with_review
def grades(review: Review, threshold: int, as_json: bool) -> None:
    """Each source's grade and track record: of the claims it supported firsthand, how many
    ended corroborated or contradicted, and a reason to revisit the grade (never applied)."""
    records = review.source_records(threshold)
    if as_json:
        print_json([asdict(record) for record in records])
        return
    table = Table("Source", "Grade", "Firsthand claims", "Corroborated", "Contradicted", "Revisit?")
    for found in records:
        record = found.record
        row = (
            found.source,
            found.reliability,
            record.supported,
            record.corroborated,
            record.contradicted,
            found.suggestion or "",
        )
        table.add_row(*map(cell, row))
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
