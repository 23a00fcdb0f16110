"""How listings and messages reach the reviewer: a rich table on a terminal, JSON with ``--json``,
plain lines, and errors, each through the one policy of ``printable`` (I11). Tables never
interpret markup.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .printable import json_text, printable

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def console(*, stderr: bool = False) -> Console:
    return Console(highlight=False, stderr=stderr)


def print_json(value: object) -> None:
    click.echo(json_text(value))


def say(message: str, *, err: bool = False) -> None:
    """Print one message line: every plain line a command prints goes through here."""
    click.echo(printable(message), err=err)


def done(as_json: bool, result: Mapping[str, object], message: str) -> None:
    """What a command did: ``result`` as JSON with ``--json``, else ``message`` as a line."""
    if as_json:
        print_json(result)
    else:
        say(message)


@contextmanager
def printable_errors() -> Iterator[None]:
    """Raise any click error from inside again with its message printable, for click to show."""
    try:
        yield
    except click.UsageError as err:
        raise click.UsageError(printable(err.format_message()), err.ctx) from None
    except click.ClickException as err:
        raise click.ClickException(printable(err.format_message())) from None


class ReviewGroup(click.Group):
    """A command group whose every error, its own or a command's, is shown printable."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with printable_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> object:
        with printable_errors():
            return super().invoke(ctx)


def listing_group(listing: click.Command, help_text: str) -> click.Group:
    """A command group named as ``listing`` that runs it, with its options, when no subcommand
    is given: ``review sources`` lists, ``review sources grade`` grades."""

    def list_unless_a_subcommand(**kwargs: object) -> None:
        if click.get_current_context().invoked_subcommand is None and listing.callback:
            listing.callback(**kwargs)

    return click.Group(
        listing.name,
        callback=list_unless_a_subcommand,
        params=listing.params,
        invoke_without_command=True,
        help=help_text,
    )


def cell(text: object) -> Text:
    """A table cell that shows ``text`` as it is: no rich markup, no control characters."""
    return Text(printable(str(text)))


def fitted_table(
    headings: Sequence[str],
    rows: Sequence[Sequence[object]],
    width: int,
    *,
    section_ends: frozenset[int] = frozenset(),
) -> Table:
    """A table ``width`` wide whose columns keep their full width but the last, cut short to fit;
    a line follows each row whose index is in ``section_ends``."""
    texts = [[printable(str(value)) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in texts)]) for i, h in enumerate(headings)]
    rest = max(len(headings[-1]), width - sum(w + 3 for w in widths[:-1]) - 4)  # borders, padding
    table = Table()
    for heading, column_width in zip(headings, [*widths[:-1], min(widths[-1], rest)], strict=True):
        table.add_column(heading, no_wrap=True, width=column_width, overflow="ellipsis")
    for index, row in enumerate(texts):
        table.add_row(*map(Text, row), end_section=index in section_ends)
    return table
