"""Where a reviewer's text comes from: an argument, a file, or standard input.

Text typed as an argument lands in the shell's history, in plaintext, outside the workspace;
every command that takes free text therefore also reads it from standard input. Required text
(a note, a claim, a reply) is read from standard input when no argument gives it; optional text
(a quote, a relation's note) has a ``--...-file`` option, where ``-`` means standard input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])

STDIN = Path("-")


def read_file_text(path: Path, what: str) -> str:
    """The UTF-8 text of ``path``, which holds the ``what``; unreadable is a one-line error."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(
            f"{path} is not UTF-8 text; save the {what} in it as UTF-8"
        ) from None
    except OSError as err:
        reason = err.strerror or err
        raise click.ClickException(f"cannot read the {what} from {path} ({reason})") from None


def read_text(text: str | None, what: str, path: Path | None = None) -> str:
    """``text`` if given, else the file at ``path``, else standard input; never empty."""
    if text is None and path is not None and path != STDIN:
        text = read_file_text(path, what)
    if text is None:
        if sys.stdin.isatty():
            click.echo(f"Type the {what}, then Ctrl-D on a line of its own:", err=True)
        text = sys.stdin.read()
    text = text.strip()
    if not text:
        raise click.ClickException(f"the {what} is empty")
    return text


def text_file_option(name: str, what: str) -> Callable[[F], F]:
    """``--NAME-file``: optional text from a file, or from standard input with ``-``."""
    return click.option(
        f"--{name}-file",
        type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
        help=f"Read the {what} from this file, or from standard input with -.",
    )


def optional_text(text: str | None, path: Path | None, what: str) -> str | None:
    """The ``what`` from ``text`` or from ``path`` (see ``read_text``); None when neither."""
    if text is not None and path is not None:
        raise click.UsageError(f"give the {what} as text or from a file, not both")
    if text is None and path is None:
        return None
    return read_text(text, what, path)
