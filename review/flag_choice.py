"""One choice made with one of several flags (``--supports``, ``--contradicts``, ``--context``).

Click's flags that share a destination keep the last one given, so ``--supports --contradicts``
would silently mean "contradicts". Each flag here notes itself in the context instead, and
``chosen`` refuses two given together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def choice_flag(choice: str, value: str, help: str) -> Callable[[F], F]:
    """``--VALUE``: picks ``value`` for the command's ``choice``."""

    def note(ctx: click.Context, _param: click.Parameter, given: bool) -> None:
        if given:
            ctx.meta.setdefault(f"review.{choice}", []).append(value)

    return click.option(f"--{value}", is_flag=True, expose_value=False, callback=note, help=help)


def chosen(choice: str, ask: str) -> str:
    """The one value given for ``choice``; a usage error, saying ``ask``, for none or several."""
    given: list[str] = click.get_current_context().meta.get(f"review.{choice}", [])
    if not given:
        raise click.UsageError(ask)
    if len(given) > 1:
        flags = " and ".join(f"--{value}" for value in given)
        raise click.UsageError(f"{flags} refuse each other: give one {choice}")
    return given[0]
