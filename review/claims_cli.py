"""Claims and evidence: ``review claim add|edit|remove``, ``link``, ``unlink`` and ``claims``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from .corroboration import BASES, DEFAULT_THRESHOLD
from .flag_choice import choice_flag, chosen
from .grading import CREDIBILITY_WORDS, Members, group_label
from .output import cell, console, done, json_option, print_json, say
from .service import Review
from .service.claims import DEFAULT_BASIS, Linked, Replaced
from .text_input import optional_text, read_text, text_file_option
from .wording import counted, signers, support, waiting
from .workspace_cli import with_review

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
@json_option
@with_review
def claim_add(review: Review, text: str | None, as_json: bool) -> None:
    """Add a claim and print its id. Without TEXT, reads it from standard input."""
    claim = review.add_claim(read_text(text, "claim"))
    done(as_json, {"claim": claim}, str(claim))


@claim_group.command("edit")
@click.argument("claim_id", metavar="ID", type=int)
@click.argument("text", required=False)
@json_option
@with_review
def claim_edit(review: Review, claim_id: int, text: str | None, as_json: bool) -> None:
    """Reword a claim; its links stay. Without TEXT, reads it from standard input."""
    review.reword_claim(claim_id, read_text(text, "claim"))
    done(as_json, {"claim": claim_id}, f"Claim {claim_id} reworded.")


@claim_group.command("remove")
@click.argument("claim_id", metavar="ID", type=int)
@json_option
@with_review
def claim_remove(review: Review, claim_id: int, as_json: bool) -> None:
    """Remove a claim and its links; its id is never reused."""
    links = review.remove_claim(claim_id)
    message = f"Claim {claim_id} removed, with {counted(links, 'link', 'links')}."
    done(as_json, {"claim": claim_id, "links_removed": links}, message)


@claim_group.command("credibility")
@click.argument("claim_id", metavar="ID", type=int)
@click.argument("credibility", metavar="N", type=click.IntRange(1, 6), required=False)
@click.option(
    "--reason", help="Why (sealed). Prefer --reason-file -: typed here it stays in history."
)
@text_file_option("reason", "reason")
@click.option("--derived", is_flag=True, help="Drop the override: derive it from corroboration.")
@json_option
@with_review
def claim_credibility(
    review: Review,
    claim_id: int,
    credibility: int | None,
    reason: str | None,
    reason_file: Path | None,
    derived: bool,
    as_json: bool,
) -> None:
    """Override a claim's credibility (1 confirmed, 2 probably true, 3 possibly true,
    4 doubtful, 5 improbable, 6 cannot be judged) with a reason, shown beside it; --derived
    goes back to what corroboration gives."""
    if derived:
        if credibility is not None or reason is not None or reason_file is not None:
            raise click.UsageError("--derived takes no credibility and no reason")
        review.derive_credibility(claim_id)
        message = f"Claim {claim_id}'s credibility is derived from corroboration again."
        done(as_json, {"claim": claim_id, "overridden": False}, message)
        return
    if credibility is None:
        raise click.UsageError("give a credibility, 1 to 6, or --derived")
    review.claim(claim_id)
    text = optional_text(reason, reason_file, "reason") or read_text(None, "reason")
    review.override_credibility(claim_id, credibility, text)
    words = CREDIBILITY_WORDS[credibility]
    message = f"Claim {claim_id}'s credibility is {credibility} ({words}), overridden."
    done(as_json, {"claim": claim_id, "credibility": credibility, "overridden": True}, message)


def _replaced_text(old: Replaced, linked: Linked, quote_given: bool) -> str:
    if not old.had_quote:
        quote = "it had no quote"
    elif quote_given:
        quote = "its quote is replaced by the new one"
    elif linked.has_quote:
        quote = "its quote is kept"
    else:
        quote = "its quote is dropped"
    return f"This replaces the link it had: {old.stance} ({old.basis}); {quote}."


@click.command("link")
@click.argument("tip_ref", metavar="TIP")
@click.argument("claim_id", metavar="CLAIM", type=int)
@choice_flag("stance", "supports", "The tip supports the claim.")
@choice_flag("stance", "contradicts", "The tip contradicts it.")
@choice_flag("stance", "context", "Background; counts for nothing.")
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
@click.option("--drop-quote", is_flag=True, help="Drop the quote of the link this one replaces.")
@json_option
@with_review
def link(
    review: Review,
    tip_ref: str,
    claim_id: int,
    basis: str,
    quote: str | None,
    quote_file: Path | None,
    drop_quote: bool,
    as_json: bool,
) -> None:
    """Link a tip to a claim with one stance; linking the same pair again replaces the link.

    The basis defaults to secondhand, which counts for nothing: say --basis firsthand or
    --basis document when the tip shows the source saw it or holds the record. A replaced
    link's quote is kept unless a new one or --drop-quote is given.
    """
    stance = chosen("stance", "say how: --supports, --contradicts or --context")
    if drop_quote and (quote is not None or quote_file is not None):
        raise click.UsageError("--drop-quote and a new quote refuse each other: give one")
    review.check_link(tip_ref, claim_id)
    quote = optional_text(quote, quote_file, "quote")
    linked = review.link(tip_ref, claim_id, stance, basis, quote, drop_quote=drop_quote)
    if as_json:
        print_json(
            {
                "tip": linked.tip,
                "claim": linked.claim,
                "stance": stance,
                "basis": basis,
                "has_quote": linked.has_quote,
                "replaced": linked.replaced is not None,
                "weak": linked.weak,
            }
        )
        return
    say(f"Tip {linked.tip} {stance} claim {linked.claim} ({basis}).")
    if linked.replaced is not None:
        say(_replaced_text(linked.replaced, linked, quote is not None))
    if linked.weak:
        say("Secondhand links are weak: shown, never counted.", err=True)


@click.command("unlink")
@click.argument("tip_ref", metavar="TIP")
@click.argument("claim_id", metavar="CLAIM", type=int)
@json_option
@with_review
def unlink(review: Review, tip_ref: str, claim_id: int, as_json: bool) -> None:
    """Remove the link between a tip and a claim."""
    tip = review.unlink(tip_ref, claim_id)
    message = f"Tip {tip} is no longer linked to claim {claim_id}."
    done(as_json, {"tip": tip, "claim": claim_id}, message)


def _groups_text(found: tuple[Members, ...]) -> str:
    return "; ".join(group_label(group) for group in found)


@click.command("claims")
@threshold_option
@json_option
@with_review
def claims(review: Review, threshold: int, as_json: bool) -> None:
    """Each claim's status and its independent groups; with --json, its evidence too. In a
    team, who signed each claim off, and the links that wait for a tip not imported here yet."""
    views = review.claims(threshold, with_evidence=as_json)
    sign_offs = review.sign_offs()
    waiting_links = review.waiting_links()
    if as_json:
        print_json(
            [
                {
                    **view.as_json(),
                    "signed_off": [
                        {"reviewer": s.reviewer, "current": s.current}
                        for s in sign_offs.get(view.id, ())
                    ],
                    "waiting": [
                        {"tip": w.tip, "stance": w.stance, "basis": w.basis}
                        for w in waiting_links
                        if w.claim == view.id
                    ],
                }
                for view in views
            ]
        )
        return
    team = review.in_team()
    headings = ["Claim", "Grade", "Status", "Support", "Text", "Groups", "To settle it"]
    table = Table(*headings, *(["Signed off"] if team else []))
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
        if view.grade.overridden:
            derived, reason = view.grade.derived, view.grade.override_reason
            lines.append(f"credibility overridden ({derived} derived): {reason}")
        table.add_row(
            *map(
                cell,
                (
                    view.id,
                    view.grade.text,
                    view.status,
                    support(len(view.supporting), threshold),
                    view.text,
                    "\n".join(lines),
                    "\n".join(view.to_do),
                    *([signers(sign_offs.get(view.id, ()))] if team else []),
                ),
            )
        )
    console().print(table)
    if waiting_links:
        say(f"{waiting(len(waiting_links))}; each counts once its tip is imported.")
