"""``review keys``: make the reviewer's identity and show its recipient."""

from __future__ import annotations

from pathlib import Path

import click
import platformdirs

from keys import age
from keys.identity_file import WrongPassphraseError, read_identity_file, write_identity_file

from .passphrase import read_passphrase


def default_identity_path() -> Path:
    return platformdirs.user_data_path("cairn") / "identity.age"


identity_option = click.option(
    "--identity",
    "identity_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CAIRN_IDENTITY",
    default=default_identity_path,
    show_default="the user's data directory, or $CAIRN_IDENTITY",
    help="The passphrase-protected identity file.",
)
passphrase_file_option = click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    envvar="CAIRN_PASSPHRASE_FILE",
    help="Read the passphrase from the first line of this file instead of the terminal.",
)


def load_identity(identity_path: Path, passphrase_file: Path | None) -> age.X25519Identity:
    """Open the identity file, turning every failure into a one-line error naming it."""
    try:
        if not identity_path.is_file():
            raise click.ClickException(
                f"no identity file at {identity_path}; make one with `review keys new`"
            )
        return read_identity_file(identity_path, read_passphrase(passphrase_file))
    except WrongPassphraseError as err:
        raise click.ClickException(str(err)) from None
    except (age.DecryptError, ValueError) as err:
        raise click.ClickException(
            f"{identity_path} is not an identity file written by `review keys new` ({err})"
        ) from None
    except OSError as err:
        raise click.ClickException(
            f"cannot read the identity file {identity_path} ({err.strerror or err})"
        ) from None


@click.group("keys")
def keys_group() -> None:
    """The reviewer's identity: the key that opens every tip."""


@keys_group.command("new")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CAIRN_IDENTITY",
    default=default_identity_path,
    show_default="the user's data directory, or $CAIRN_IDENTITY",
    help="Where to write the new identity file (never overwritten).",
)
@passphrase_file_option
def keys_new(out: Path, passphrase_file: Path | None) -> None:
    """Make a new identity on this (offline) machine and print its recipient.

    Give the printed age1... recipient to the operator. Keep the identity file and its
    passphrase safe: losing either loses every tip sent to it.
    """
    if out.exists():
        raise click.ClickException(f"{out} already exists; it is never overwritten")
    passphrase = read_passphrase(passphrase_file, new=True)
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    identity = age.X25519Identity.generate()
    write_identity_file(out, identity, passphrase)
    click.echo(f"Wrote the identity file {out} (readable by you only).", err=True)
    click.echo("Give this recipient to the operator (`intake init --recipient ...`):", err=True)
    click.echo(str(identity.recipient))


@keys_group.command("show")
@identity_option
@passphrase_file_option
def keys_show(identity_path: Path, passphrase_file: Path | None) -> None:
    """Print the age1... recipient of an identity file."""
    click.echo(str(load_identity(identity_path, passphrase_file).recipient))
