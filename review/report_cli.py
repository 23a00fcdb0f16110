"""``review report``: the claims and their corroboration, to share beyond this machine."""

from __future__ import annotations

import datetime
from pathlib import Path

import click
from sqlalchemy import select

from .assessment import assess, groups, members, pseudonyms
from .claims_cli import threshold_option
from .models import Relation
from .private_files import private_output
from .report import build_report, to_html, to_markdown
from .workspace import Workspace, WorkspaceError
from .workspace_cli import with_workspace


def _named(row: Relation, names: dict[str, str]) -> tuple[str, str, str]:
    first, second = sorted((names[row.source_a], names[row.source_b]))
    return first, second, row.kind


@click.command("report")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["md", "html"]),
    default="md",
    show_default=True,
    help="Markdown, or one self-contained HTML file.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The report file, outside the workspace; readable by you only.",
)
@click.option("--force", is_flag=True, help="Replace an earlier report at --out.")
@threshold_option
@with_workspace
def report(workspace: Workspace, format_: str, out: Path, force: bool, threshold: int) -> None:
    """Write the claims with their status, support and quotes; sources by pseudonym only.

    The report is plaintext: keep it only where the claims themselves may be. It is written
    whole or not at all, and an existing file is replaced only with --force.
    """
    workspace.check_outside(out)
    names = pseudonyms(workspace)
    group_of = {names[source]: members(group, names) for source, group in groups(workspace).items()}
    relations = tuple(
        sorted(_named(row, names) for row in workspace.session.scalars(select(Relation)))
    )
    today = datetime.date.today().isoformat()
    built = build_report(today, threshold, assess(workspace, threshold), group_of, relations)
    text = to_html(built) if format_ == "html" else to_markdown(built)
    try:
        with private_output(out, overwrite=force) as dst:
            dst.write(text.encode())
    except FileExistsError:
        raise WorkspaceError(
            f"{out} already exists; give --force to replace it, or choose another --out"
        ) from None
    click.echo(f"Wrote {out}.")
