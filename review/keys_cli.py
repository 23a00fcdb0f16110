"""``review keys``: make the reviewer's identity and show its recipient."""

from __future__ import annotations

from pathlib import Path

import click
import platformdirs

from keys import age
from keys.identity_file import (
    PASSPHRASE_WORDS,
    WrongPassphraseError,
    generate_passphrase,
    read_identity_file,
    write_identity_file,
)
from keys.private_files import open_new

from . import agent
from .output import done, json_option, print_json
from .passphrase import read_passphrase
from .path_options import data_path_option


def default_identity_path() -> Path:
    return platformdirs.user_data_path("cairn") / "identity.age"


def recipient_path(identity_path: Path) -> Path:
    """Where the identity's public recipient is kept in the clear: ``identity.pub``."""
    return identity_path.with_suffix(".pub")


identity_option = data_path_option(
    "--identity",
    "identity_path",
    default=default_identity_path,
    envvar="CAIRN_IDENTITY",
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
@data_path_option(
    "--out",
    default=default_identity_path,
    envvar="CAIRN_IDENTITY",
    help="Where to write the new identity file (never overwritten).",
)
@passphrase_file_option
@click.option(
    "--generate-passphrase",
    "generate",
    is_flag=True,
    help=f"Make a passphrase of {PASSPHRASE_WORDS} random words, show it once, and use it.",
)
@json_option
def keys_new(out: Path, passphrase_file: Path | None, generate: bool, as_json: bool) -> None:
    """Make a new identity on this (offline) machine and print its recipient.

    Give the printed age1... recipient to the operator. Keep the identity file and its
    passphrase safe: losing either loses every tip sent to it. The passphrase needs at least
    15 characters; --generate-passphrase makes a strong one.
    """
    for taken in (out, recipient_path(out)):
        if taken.exists():
            raise click.ClickException(f"{taken} already exists; it is never overwritten")
    if generate and passphrase_file is not None:
        raise click.ClickException(
            "give --passphrase-file (or $CAIRN_PASSPHRASE_FILE) or --generate-passphrase, not both"
        )
    if generate:
        passphrase = generate_passphrase()
        click.echo(
            "Your passphrase, shown only this once; write it down and keep it apart from this "
            f"machine:\n\n    {passphrase}\n",
            err=True,
        )
    else:
        passphrase = read_passphrase(passphrase_file, new=True)
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    identity = age.X25519Identity.generate()
    write_identity_file(out, identity, passphrase)
    with open_new(recipient_path(out), 0o644) as public:  # public: `keys show` needs no passphrase
        public.write(f"{identity.recipient}\n".encode())
    if as_json:
        print_json({"identity_file": str(out), "recipient": str(identity.recipient)})
        return
    click.echo(f"Wrote the identity file {out} (readable by you only).", err=True)
    click.echo("Give this recipient to the operator (`intake init --recipient ...`):", err=True)
    click.echo(str(identity.recipient))


@keys_group.command("show")
@identity_option
@passphrase_file_option
@json_option
def keys_show(identity_path: Path, passphrase_file: Path | None, as_json: bool) -> None:
    """Print the age1... recipient of an identity file.

    It is public: read from the identity.pub beside the file, or from the unlocked agent; only
    an identity file without either (made by an older version) asks the passphrase.
    """
    recipient = str(_recipient(identity_path, passphrase_file))
    done(as_json, {"recipient": recipient}, recipient)


def _recipient(identity_path: Path, passphrase_file: Path | None) -> age.X25519Recipient:
    public = recipient_path(identity_path)
    try:
        text = public.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        text = None  # none beside it (an older identity file): the agent or the passphrase
    if text is not None:
        try:
            return age.parse_recipient(text)
        except ValueError:
            raise click.ClickException(
                f"{public} holds no age1... recipient; delete it to be asked the passphrase"
            ) from None
    try:
        held = agent.connect(identity_path)
    except agent.AgentError as err:
        raise click.ClickException(str(err)) from None
    return (held or load_identity(identity_path, passphrase_file)).recipient
