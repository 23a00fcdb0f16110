"""The operator's side of the onion services: their addresses in `intake check`, and
`intake onion-auth`, which makes the courier's client-authorization key pair (keys.onion_auth).

A hostname file is labelled by its name: ``source.hostname`` is the source onion, and tor's own
``.../cairn-source/hostname`` (or ``.../source/hostname``) too.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from keys.onion_auth import OnionAuthKeyPair, parse_onion_address
from keys.private_files import open_new

from .instance import Config

NAME = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


def hostname_label(path: Path) -> str:
    name = path.parent.name if path.name == "hostname" else path.stem
    return name.removeprefix("cairn-") or "onion"


def report_onions(config: Config) -> list[str]:
    """Print each configured onion address; returns one problem per unreadable hostname file."""
    problems = []
    for entry in config.onion_hostname_files:
        path = Path(entry)
        label = hostname_label(path)
        try:
            address = parse_onion_address(path.read_text())
        except OSError as err:
            reason = err.strerror or type(err).__name__
            problems.append(
                f"the {label} onion's hostname file {path} cannot be read ({reason}); "
                "has tor started with its HiddenServiceDir?"
            )
        except (ValueError, UnicodeDecodeError):
            problems.append(f"{path} holds no valid v3 onion address")
        else:
            click.echo(f"{label} onion: {address}.onion")
    return problems


def _write_new(path: Path, text: str, mode: int) -> None:
    with open_new(path, mode) as out:
        out.write(f"{text}\n".encode())


@click.command("onion-auth")
@click.option("--name", required=True, help="The courier's name: NAME.auth and NAME.auth_private.")
@click.option("--onion", "onion", default=None, help="The courier onion's address (xxx.onion).")
@click.option(
    "--hostname-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Or tor's hostname file of the courier onion service.",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write NAME.auth and NAME.auth_private (0600) here instead of printing the secret half.",
)
def onion_auth(
    name: str, onion: str | None, hostname_file: Path | None, out_dir: Path | None
) -> None:
    """Make a client-authorization key pair for the courier onion service.

    Best run on the courier's machine, so the private half never travels: give the operator the
    public `descriptor:x25519:...` line for the service's authorized_clients/NAME.auth.
    """
    if not NAME.match(name):
        raise click.BadParameter("use letters, digits, - and _ only", param_hint="--name")
    if (onion is None) == (hostname_file is None):
        raise click.UsageError("give the courier onion's address with --onion or --hostname-file")
    try:
        text = onion if onion is not None else hostname_file.read_text()  # type: ignore[union-attr]
        address = parse_onion_address(text)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise click.ClickException(f"no onion address: {err}") from None
    pair = OnionAuthKeyPair.generate()
    server, client = pair.server_line(), pair.client_line(address)
    if out_dir is None:
        click.echo(f"# Server side: the courier onion's authorized_clients/{name}.auth", err=True)
        click.echo(server)
        click.echo(f"# Courier side, SECRET: ClientOnionAuthDir/{name}.auth_private", err=True)
        click.echo(client)
        return
    private_path, public_path = out_dir / f"{name}.auth_private", out_dir / f"{name}.auth"
    for path in (private_path, public_path):
        if path.exists():
            raise click.ClickException(f"{path} exists; it is never overwritten")
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_new(private_path, client, 0o600)
    _write_new(public_path, server, 0o644)
    click.echo(
        f"Wrote {private_path}: SECRET, for the courier's tor (its ClientOnionAuthDir).", err=True
    )
    click.echo(
        f"Wrote {public_path}: for the courier onion's authorized_clients/ on the server.", err=True
    )
    click.echo(server)
