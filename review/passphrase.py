"""Where a passphrase comes from: a file for scripted use, else the terminal (twice when new)."""

from __future__ import annotations

from pathlib import Path

import click

from .text_input import read_file_text


def read_passphrase(passphrase_file: Path | None, *, new: bool = False) -> str:
    if passphrase_file is not None:
        lines = read_file_text(passphrase_file, "passphrase").splitlines()
        passphrase = lines[0] if lines else ""
    else:
        passphrase = click.prompt(
            "New passphrase" if new else "Passphrase",
            hide_input=True,
            confirmation_prompt="Repeat the passphrase" if new else False,
        )
    if not passphrase:
        raise click.ClickException("the passphrase is empty")
    return passphrase
