"""``review courier new``, ``fetch``, ``push`` and ``ack``: run on the networked machine.

The courier carries ciphertext only: bundles from the server to the offline machine, the ack
and reply bundles back. Its key signs each request; the server must know it
(`intake couriers add KEY --name NAME`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
import platformdirs

from keys.signing import SigningKey, parse_signing_key

from .courier import Courier, CourierFailed

T = TypeVar("T")


def default_courier_key() -> Path:
    return platformdirs.user_data_path("cairn") / "courier.key"


def _with_courier(
    server: str, key_path: Path, proxy: str | None, call: Callable[[Courier], T]
) -> T:
    """Run one request; a missing key or a refusal becomes a one-line error."""
    try:
        key = parse_signing_key(key_path.read_text())
    except (OSError, ValueError) as err:
        raise click.ClickException(
            f"cannot read the courier key {key_path} ({err}); make one with `review courier new`"
        ) from None
    try:
        return call(Courier(server, key, proxy))
    except CourierFailed as err:
        raise click.ClickException(str(err)) from None


server_option = click.option(
    "--server", required=True, help="The server's courier address, e.g. http://xyz.onion"
)
key_option = click.option(
    "--courier-key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=default_courier_key,
    show_default="the user's data directory",
    help="The courier's signing key (from `review courier new`).",
)
proxy_option = click.option(
    "--proxy",
    envvar="CAIRN_PROXY",
    help="Go through this proxy, e.g. socks5h://127.0.0.1:9050 for Tor (or CAIRN_PROXY).",
)


@click.group("courier")
def courier_group() -> None:
    """The courier's key (on the networked machine)."""


@courier_group.command("new")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=default_courier_key,
    show_default="the user's data directory",
)
def courier_new(out: Path) -> None:
    """Make a courier signing key and print its public half for `intake couriers add`."""
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = SigningKey.generate()
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{out} already exists; it is never overwritten") from None
    with os.fdopen(fd, "w") as f:
        f.write(f"{key}\n")
    click.echo(f"Wrote the courier key {out} (readable by you only).", err=True)
    click.echo("On the server: intake couriers add KEY --name NAME, with this KEY:", err=True)
    click.echo(str(key.verify_key))


@click.command("fetch")
@server_option
@key_option
@proxy_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def fetch(server: str, key_path: Path, proxy: str | None, out: Path) -> None:
    """Download the bundle of new tips; carry it to the offline machine for `review import`."""
    size = _with_courier(server, key_path, proxy, lambda courier: courier.fetch(out))
    click.echo(f"Wrote {out} ({size:,} bytes).")


@click.command("push")
@server_option
@key_option
@proxy_option
@click.argument("reply_bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def push(server: str, key_path: Path, proxy: str | None, reply_bundle: Path) -> None:
    """Upload a reply bundle written by `review outbox --out` on the offline machine."""
    result = _with_courier(server, key_path, proxy, lambda courier: courier.push(reply_bundle))
    click.echo(
        f"Delivered {result['stored']} replies ({result['already_stored']} were delivered before, "
        "and may have been read and deleted since)."
    )


@click.command("ack")
@server_option
@key_option
@proxy_option
@click.argument("ack_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ack(server: str, key_path: Path, proxy: str | None, ack_file: Path) -> None:
    """Tell the server which tips the offline machine imported, so it can delete them."""
    result = _with_courier(server, key_path, proxy, lambda courier: courier.ack(ack_file))
    click.echo(f"The server acknowledged {result['acknowledged']} items.")
