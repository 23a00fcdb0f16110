"""Competing hypotheses: ``review hypothesis add|edit|remove``, ``review ach`` and ``ach mark``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from .ach import SYMBOLS
from .claims_cli import threshold_option
from .flag_choice import choice_flag, chosen
from .output import cell, console, done, json_option, listing_group, print_json, say
from .service import Review
from .text_input import optional_text, read_text, text_file_option
from .wording import ach_notes, counted
from .workspace_cli import with_review


@click.group("hypothesis")
def hypothesis_group() -> None:
    """Record, reword or remove a competing hypothesis (its text is sealed)."""


@hypothesis_group.command("add")
@click.argument("text", required=False)
@json_option
@with_review
def hypothesis_add(review: Review, text: str | None, as_json: bool) -> None:
    """Add a hypothesis and print its id. Without TEXT, reads it from standard input."""
    hypothesis = review.add_hypothesis(read_text(text, "hypothesis"))
    done(as_json, {"hypothesis": hypothesis}, str(hypothesis))


@hypothesis_group.command("edit")
@click.argument("hypothesis_id", metavar="ID", type=int)
@click.argument("text", required=False)
@json_option
@with_review
def hypothesis_edit(review: Review, hypothesis_id: int, text: str | None, as_json: bool) -> None:
    """Reword a hypothesis; its marks stay. Without TEXT, reads it from standard input."""
    review.reword_hypothesis(hypothesis_id, read_text(text, "hypothesis"))
    done(as_json, {"hypothesis": hypothesis_id}, f"Hypothesis {hypothesis_id} reworded.")


@hypothesis_group.command("remove")
@click.argument("hypothesis_id", metavar="ID", type=int)
@json_option
@with_review
def hypothesis_remove(review: Review, hypothesis_id: int, as_json: bool) -> None:
    """Remove a hypothesis and its marks."""
    marks = review.remove_hypothesis(hypothesis_id)
    message = f"Hypothesis {hypothesis_id} removed, with {counted(marks, 'mark', 'marks')}."
    done(as_json, {"hypothesis": hypothesis_id, "marks_removed": marks}, message)


@click.command("ach")
@threshold_option
@json_option
@with_review
def _matrix(review: Review, threshold: int, as_json: bool) -> None:
    found = review.matrix(threshold)
    if as_json:
        print_json(found.as_json())
        return
    if not found.hypotheses:
        say("No hypotheses yet: `review hypothesis add` records one.")
        return
    table = Table("Claim", "Grade", "Groups", *(f"H{h.id}" for h in found.hypotheses), "Notes")
    for row in found.evidence:
        marks = [found.mark(h.id, row.claim) for h in found.hypotheses]
        symbols = [SYMBOLS[m.mark] if m else "" for m in marks]
        cells = (f"{row.claim} {row.text}", row.grade, row.groups, *symbols, ach_notes(row))
        table.add_row(*map(cell, cells))
    table.add_row(
        *map(cell, ("Weighted inconsistency", "", "", *(h.score for h in found.hypotheses), ""))
    )
    console().print(table)
    for h in found.hypotheses:
        say(f"{h.rank}. H{h.id} (inconsistency {h.score}): {h.text}")
    say("Key: CC strongly consistent, C consistent, N neutral, I inconsistent, II strongly.")


ach = listing_group(
    _matrix,
    "The claims-by-hypotheses matrix, hypotheses ranked least inconsistent first, with the "
    "claims that are not diagnostic and those the ranking is sensitive to; `ach mark` marks.",
)


@ach.command("mark")
@click.argument("hypothesis_id", metavar="H", type=int)
@click.argument("claim_id", metavar="C", type=int)
@choice_flag("mark", "strongly-consistent", "The claim strongly fits the hypothesis.")
@choice_flag("mark", "consistent", "It fits.")
@choice_flag("mark", "neutral", "It says nothing either way.")
@choice_flag("mark", "inconsistent", "It goes against it.")
@choice_flag("mark", "strongly-inconsistent", "It strongly goes against it.")
@click.option(
    "--reason", help="Why (sealed). Prefer --reason-file -: typed here it stays in history."
)
@text_file_option("reason", "reason")
@json_option
@with_review
def ach_mark(
    review: Review,
    hypothesis_id: int,
    claim_id: int,
    reason: str | None,
    reason_file: Path | None,
    as_json: bool,
) -> None:
    """Mark how consistent claim C is with hypothesis H; marking again replaces the mark."""
    mark = chosen("mark", "say how: --consistent, --inconsistent, --neutral, or --strongly-...")
    review.check_mark(hypothesis_id, claim_id)
    review.mark_evidence(
        hypothesis_id, claim_id, mark, optional_text(reason, reason_file, "reason")
    )
    result = {"hypothesis": hypothesis_id, "claim": claim_id, "mark": mark}
    done(as_json, result, f"Claim {claim_id} is {mark} with hypothesis {hypothesis_id}.")
