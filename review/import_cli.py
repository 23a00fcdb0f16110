"""``review trust`` and ``review import``: how tips enter the workspace."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .output import console, json_option, print_json, say
from .service import Review
from .wording import counted, tip_kinds
from .workspace_cli import with_review


@click.command("trust")
@click.argument("server_key")
@click.option("--replace", is_flag=True, help="Replace a key pinned before.")
@json_option
@with_review
def trust(review: Review, server_key: str, replace: bool, as_json: bool) -> None:
    """Pin the server's bundle key (cairnserver1...), as the operator gave it from `intake init`.

    Bundles are imported only when this key signed them.
    """
    key = review.trust(server_key, replace=replace)
    if as_json:
        print_json({"server_key": key})
        return
    say(f"Pinned the server key {key}; bundles signed by any other key are refused.")


@click.command("import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--ack-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the ack file [default: beside the bundle, BUNDLE.ack.json].",
)
@json_option
@with_review
def import_(review: Review, bundle: Path, ack_out: Path | None, as_json: bool) -> None:
    """Verify a bundle from the server completely, then add its tips.

    The signature, the manifest, every item's hash, and that every item opens with your identity
    are all checked first; if anything fails, nothing is imported. Importing a bundle again adds
    nothing. Writes the ack file that tells the server, through the courier, what arrived; an
    existing file that is not this bundle's ack is never overwritten.
    """
    progress = Progress(
        TextColumn("Verifying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
        disable=as_json,
    )
    with progress:
        task = progress.add_task("verify", total=None)
        result = review.import_bundle(
            bundle,
            lambda done, total: progress.update(task, completed=done, total=total),
            ack_out,
        )
    if as_json:
        print_json(
            {
                "added": list(result.added),
                "already": list(result.already),
                "messages": result.messages,
                "files": result.files,
                "ack": str(result.ack_path),
            }
        )
        return
    added = counted(len(result.added), "new tip", "new tips")
    kinds = f": {tip_kinds(result.messages, result.files)}" if result.added else ""
    say(f"Imported {added} from {bundle.name} ({len(result.already)} already here){kinds}.")
    say("Ack file for the courier:", err=True)
    say(str(result.ack_path))
