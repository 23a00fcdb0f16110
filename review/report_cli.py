"""``review report``: the claims and their corroboration, to share beyond this machine."""

from __future__ import annotations

from pathlib import Path

import click

from .claims_cli import threshold_option
from .output import done, json_option
from .service import Review
from .service.claims import REPORT_FORMATS
from .workspace_cli import with_review


@click.command("report")
@click.option(
    "--format",
    "format_",
    type=click.Choice(REPORT_FORMATS),
    default="md",
    show_default=True,
    help="Markdown, or one self-contained HTML file.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file, outside the workspace and readable by you only, "
    "instead of printing it.",
)
@click.option("--force", is_flag=True, help="Replace an earlier report at --out.")
@threshold_option
@json_option
@with_review
def report(
    review: Review, format_: str, out: Path | None, force: bool, threshold: int, as_json: bool
) -> None:
    """Print the claims with their status, support and quotes; sources by pseudonym only.

    The report is plaintext: keep it only where the claims themselves may be. With --out it is
    written whole or not at all, and an existing file is replaced only with --force.
    """
    if out is None:
        if force:
            raise click.UsageError("--force replaces a file: give it with --out")
        text = review.report_text(format_, threshold=threshold)
        done(as_json, {"format": format_, "report": text}, text.rstrip("\n"))
        return
    review.report(out, format_, force=force, threshold=threshold)
    done(as_json, {"format": format_, "path": str(out)}, f"Wrote {out}.")
