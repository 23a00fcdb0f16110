"""Where a reviewer's text comes from: an argument, a file, or standard input.

Text typed as an argument lands in the shell's history, in plaintext, outside the workspace;
every command that takes free text therefore also reads it from standard input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def read_text(text: str | None, what: str, path: Path | None = None) -> str:
    """``text`` if given, else the file at ``path``, else standard input; never empty."""
    if text is None and path is not None:
        text = path.read_text(encoding="utf-8")
    if text is None:
        if sys.stdin.isatty():
            click.echo(f"Type the {what}, then Ctrl-D on a line of its own:", err=True)
        text = sys.stdin.read()
    text = text.strip()
    if not text:
        raise click.ClickException(f"the {what} is empty")
    return text
