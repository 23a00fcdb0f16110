"""How listings reach the reviewer: a rich table on a terminal, or JSON with ``--json``.

Text that came from a source (messages, file names, media types) is shown only after
``printable``: a tip must not be able to move the cursor, rewrite the screen or hide text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with control and bidirectional-override characters made visible as U+FFFD."""
    return _UNPRINTABLE.sub("\ufffd", text)


def console(*, stderr: bool = False) -> Console:
    return Console(highlight=False, stderr=stderr)


def print_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def cell(text: object) -> Text:
    """A table cell that shows ``text`` as it is: no rich markup, no control characters."""
    return Text(printable(str(text)))


def counted(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def fitted_table(headings: Sequence[str], rows: Sequence[Sequence[object]], width: int) -> Table:
    """A table ``width`` wide whose columns keep their full width but the last, cut short to fit."""
    texts = [[printable(str(value)) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in texts)]) for i, h in enumerate(headings)]
    rest = max(len(headings[-1]), width - sum(w + 3 for w in widths[:-1]) - 4)  # borders, padding
    table = Table()
    for heading, column_width in zip(headings, [*widths[:-1], min(widths[-1], rest)], strict=True):
        table.add_column(heading, no_wrap=True, width=column_width, overflow="ellipsis")
    for row in texts:
        table.add_row(*map(Text, row))
    return table
