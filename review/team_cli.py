"""Team review: ``review team`` (``add``, ``remove``), ``share``, ``merge``, ``conflicts``
(``settle``) and ``sign-off``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from .output import cell, console, done, json_option, listing_group, print_json, say
from .service import Review
from .wording import counted, waiting
from .workspace_cli import with_review


@click.command("team")
@json_option
@with_review
def _members(review: Review, as_json: bool) -> None:
    """List you (your key, for teammates) and the teammates you pinned."""
    members = review.team()
    if as_json:
        print_json([asdict(member) for member in members])
        return
    table = Table("Name", "Workspace key", "")
    for member in members:
        state = "you" if member.you else "removed" if member.removed else ""
        table.add_row(cell(member.name), cell(member.key), cell(state))
    console().print(table)
    if len(members) == 1:
        say(
            "Give teammates your key (the row marked you); pin theirs with "
            "`review team add KEY --name NAME`."
        )


team_group = listing_group(
    _members,
    "List your team: you (give your key to teammates) and the teammates you pinned; "
    "`team add` pins one, `team remove` stops sharing with one.",
)

team_group.add_command(_members, "list")  # `review team list`, as `review team` alone


@team_group.command("add")
@click.argument("key", metavar="KEY")
@click.option("--name", required=True, help="The team's name for them, shown beside their work.")
@json_option
@with_review
def add(review: Review, key: str, name: str, as_json: bool) -> None:
    """Pin a teammate's workspace key (cairnreviewer1...) under a name; adding a pinned key
    again renames it, and adding your own names you."""
    member = review.add_member(key, name)
    who = "You are" if member.you else f"{member.name} is"
    done(as_json, asdict(member), f"{who} on the team as {member.name!r}.")


@team_group.command("remove")
@click.argument("name", metavar="NAME")
@json_option
@with_review
def remove(review: Review, name: str, as_json: bool) -> None:
    """Stop sharing with a teammate and refuse their files; what they shared stays."""
    member = review.remove_member(name)
    done(
        as_json,
        asdict(member),
        f"{member.name} is off the team: your next shares are not sealed to them, and their "
        "files are refused.",
    )


@click.command("share")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The exchange file to write (never overwritten).",
)
@click.option("--all", "everything", is_flag=True, help="Send all your work, not just what is new.")
@json_option
@with_review
def share(review: Review, out: Path, everything: bool, as_json: bool) -> None:
    """Write your changes since your last share to a file sealed to the team and signed by
    this workspace; carry it to your teammates, who `review merge` it."""
    shared = review.share(out, everything=everything)
    changes = counted(shared.changes, "change", "changes")
    message = f"Wrote {changes} to {shared.path}, for {', '.join(shared.members)}."
    done(as_json, {**asdict(shared), "path": str(shared.path)}, message)


@click.command("merge")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@with_review
def merge(review: Review, file: Path, as_json: bool) -> None:
    """Merge a teammate's exchange file. One from a key you have not pinned, or altered on
    the way, is refused whole; merging a file twice adds nothing."""
    merged = review.merge(file)
    lines = [
        f"Merged {counted(merged.new, 'new change', 'new changes')} of {merged.changes} "
        f"from {merged.sender}."
    ]
    if merged.conflicts:
        lines.append(
            f"{counted(merged.conflicts, 'conflict', 'conflicts')} to settle: `review conflicts`."
        )
    if merged.waiting:
        lines.append(f"{waiting(merged.waiting)}; each counts once its tip is imported.")
    done(as_json, asdict(merged), " ".join(lines))


@click.command("conflicts")
@json_option
@with_review
def _conflicts(review: Review, as_json: bool) -> None:
    views = review.conflicts()
    if as_json:
        print_json([asdict(view) for view in views])
        return
    if not views:
        say("No conflicts: every field has one value across the team.")
        return
    table = Table("#", "Record", "Field", "Values (1 is shown now)")
    for view in views:
        values = "\n".join(
            f"{n}. {alt.value} ({alt.author})" for n, alt in enumerate(view.alternatives, 1)
        )
        table.add_row(cell(view.number), cell(view.record), cell(view.field), cell(values))
    console().print(table)
    say("Settle one with `review conflicts settle NUMBER --keep N`.")


conflicts = listing_group(
    _conflicts,
    "List fields two reviewers changed at once, with each value and its author, as your last "
    "merge, share or import found them; `conflicts settle` keeps one, and so does editing the "
    "field again.",
)


@conflicts.command("settle")
@click.argument("number", type=int)
@click.option("--keep", type=int, default=1, show_default=True, help="Which value to keep.")
@json_option
@with_review
def settle(review: Review, number: int, keep: int, as_json: bool) -> None:
    """Settle a conflict by keeping one of its values; teammates see it when you next share."""
    view = review.settle(number, keep)
    kept = view.alternatives[keep - 1]
    message = f"Kept {kept.value!r} ({kept.author}) for {view.record}: {view.field}."
    done(as_json, {"conflict": asdict(view), "kept": keep}, message)


@click.command("sign-off")
@click.argument("claim", type=int)
@click.option("--withdraw", is_flag=True, help="Withdraw your sign-off.")
@json_option
@with_review
def sign_off(review: Review, claim: int, withdraw: bool, as_json: bool) -> None:
    """Sign off a claim as checked (the editor's check): only a reviewer who linked none of
    its evidence can. The report and the desk show who signed off."""
    signed = review.sign_off(claim, withdraw=withdraw)
    verb = "withdrew the sign-off of" if withdraw else "signed off"
    done(as_json, asdict(signed), f"{signed.reviewer} {verb} claim {claim}.")
