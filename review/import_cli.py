"""``review trust`` and ``review import``: how tips enter the workspace."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from keys.bundle import BundleError
from keys.signing import parse_verify_key

from .importer import BundleImport
from .output import console, counted
from .workspace import Workspace, WorkspaceError
from .workspace_cli import with_workspace


@click.command("trust")
@click.argument("server_key")
@click.option("--replace", is_flag=True, help="Replace a key pinned before.")
@with_workspace
def trust(workspace: Workspace, server_key: str, replace: bool) -> None:
    """Pin the server's bundle key (cairnpub1...), as the operator gave it to you.

    Bundles are imported only when this key signed them.
    """
    try:
        key = parse_verify_key(server_key)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    pinned = workspace.pinned_server_key()
    if pinned is not None and pinned != key and not replace:
        raise click.ClickException(
            f"this workspace already trusts {pinned}; check the new key with the operator, "
            "then pass --replace"
        )
    workspace.pin_server_key(key)
    click.echo(f"Pinned the server key {key}; bundles signed by any other key are refused.")


@click.command("import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_workspace
def import_(workspace: Workspace, bundle: Path) -> None:
    """Verify a bundle from the server completely, then add its tips.

    The signature, the manifest, every item's hash, and that every item opens with your identity
    are all checked first; if anything fails, nothing is imported. Importing a bundle again adds
    nothing. Writes the ack file that tells the server, through the courier, what arrived.
    """
    try:
        with BundleImport(workspace, bundle) as job:
            progress = Progress(
                TextColumn("Verifying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console(stderr=True),
                transient=True,
            )
            with progress:
                task = progress.add_task("verify", total=len(job.items))
                for _ in job.verify():
                    progress.advance(task)
            result = job.store()
    except (BundleError, WorkspaceError) as err:
        raise click.ClickException(f"{err}; nothing was imported") from None
    added = counted(len(result.added), "new tip", "new tips")
    click.echo(f"Imported {added} from {bundle.name} ({len(result.already)} already here).")
    click.echo("Ack file for the courier:", err=True)
    click.echo(str(result.ack_path))
