"""Where a passphrase comes from: a file for scripted use, else the terminal (twice when new).

A new identity file's passphrase must clear the floor in keys.identity_file: at the terminal a
short one is asked again, from a file it is a one-line error, and either says how to get a
generated one. An existing file's passphrase is taken as it is, so old files keep opening.
"""

from __future__ import annotations

from pathlib import Path

import click

from keys.identity_file import WeakPassphraseError, check_new_passphrase

from .text_input import read_file_text


def _any_passphrase(passphrase: str) -> str:
    if not passphrase:
        raise click.UsageError("the passphrase is empty")
    return passphrase


def _new_passphrase(passphrase: str) -> str:
    try:
        check_new_passphrase(passphrase)
    except WeakPassphraseError as err:
        raise click.UsageError(
            f"{err}; choose a longer one, or let `review keys new --generate-passphrase` make one"
        ) from None
    return passphrase


def read_passphrase(passphrase_file: Path | None, *, new: bool = False) -> str:
    check = _new_passphrase if new else _any_passphrase
    if passphrase_file is None:
        return str(
            click.prompt(
                "New passphrase" if new else "Passphrase",
                hide_input=True,
                confirmation_prompt="Repeat the passphrase" if new else False,
                value_proc=check,
            )
        )
    lines = read_file_text(passphrase_file, "passphrase").splitlines()
    try:
        return check(lines[0] if lines else "")
    except click.UsageError as err:
        raise click.ClickException(err.message) from None
