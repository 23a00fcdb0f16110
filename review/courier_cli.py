"""``review courier new``, ``fetch``, ``push`` and ``ack``: run on the networked machine.

The courier carries ciphertext only: bundles from the server to the offline machine, the ack
and reply bundles back. Its key signs each request; the server must know it
(`intake couriers add KEY --name NAME`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click
import platformdirs
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from keys.bundle import DEFAULT_MAX_BYTES
from keys.private_files import open_new
from keys.signing import KeyKind, SigningKey, parse_signing_key

from .courier import Courier, CourierFailed, Transferred
from .output import console, json_option, print_json, say
from .path_options import data_path_option
from .wording import counted

T = TypeVar("T")


def default_courier_key() -> Path:
    return platformdirs.user_data_path("cairn") / "courier.key"


def _with_courier(
    server: str, key_path: Path, proxy: str | None, call: Callable[[Courier], T]
) -> T:
    """Run one request; a missing key or a refusal becomes a one-line error."""
    try:
        key = parse_signing_key(key_path.read_text(), KeyKind.COURIER)
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
key_option = data_path_option(
    "--courier-key",
    "key_path",
    default=default_courier_key,
    help="The courier's signing key (from `review courier new`).",
)
proxy_option = click.option(
    "--proxy",
    envvar="CAIRN_PROXY",
    help="Go through this proxy, e.g. socks5h://127.0.0.1:9050 for Tor (or CAIRN_PROXY).",
)


@contextmanager
def transfer_progress(verb: str, total: int | None, as_json: bool) -> Iterator[Transferred]:
    """A progress bar of bytes on standard error while a transfer runs, when that is a
    terminal and the output is not JSON."""
    err = console(stderr=True)
    progress = Progress(
        TextColumn(verb),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    )
    with progress:
        task = progress.add_task(verb, total=total)
        yield lambda done: progress.update(task, completed=done)


@click.group("courier")
def courier_group() -> None:
    """The courier's key (on the networked machine)."""


@courier_group.command("new")
@data_path_option("--out", default=default_courier_key, help="Where to write the new key.")
@json_option
def courier_new(out: Path, as_json: bool) -> None:
    """Make a courier signing key and print its public half for `intake couriers add`."""
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = SigningKey.generate(KeyKind.COURIER)
    try:
        f = open_new(out)
    except FileExistsError:
        raise click.ClickException(f"{out} already exists; it is never overwritten") from None
    with f:
        f.write(f"{key}\n".encode())
    if as_json:
        print_json({"key_file": str(out), "public_key": str(key.verify_key)})
        return
    click.echo(f"Wrote the courier key {out} (readable by you only).", err=True)
    click.echo("On the server: intake couriers add KEY --name NAME, with this KEY:", err=True)
    click.echo(str(key.verify_key))


@click.command("fetch")
@server_option
@key_option
@proxy_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="The bundle's size at most; the tips left over come in the next bundle.",
)
@json_option
def fetch(
    server: str, key_path: Path, proxy: str | None, out: Path, max_bytes: int, as_json: bool
) -> None:
    """Download a bundle of new tips; carry it to the offline machine for `review import`."""
    with transfer_progress("Fetching", None, as_json) as progress:
        got = _with_courier(
            server, key_path, proxy, lambda courier: courier.fetch(out, max_bytes, progress)
        )
    if as_json:
        print_json({"bundle": str(out), "bytes": got.size, "tips": got.items, "left": got.left})
        return
    if got.items == 0:
        say(f"Nothing new: wrote {out}, a bundle with no tips ({got.size:,} bytes).")
    else:
        carried = "" if got.items is None else f": {counted(got.items, 'tip', 'tips')}"
        say(f"Wrote {out} ({got.size:,} bytes){carried}.")
    if got.left:
        say(
            f"{got.left} more tips wait on the server: fetch again once this bundle is imported "
            "and acknowledged (`review import`, then `review ack`)."
        )


def default_confirmation_path(reply_bundle: Path) -> Path:
    return reply_bundle.with_name(f"{reply_bundle.name.removesuffix('.tar')}.delivered.json")


@click.command("push")
@server_option
@key_option
@proxy_option
@click.argument("reply_bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--confirmation-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the server's delivery confirmation "
    "[default: beside the bundle, BUNDLE.delivered.json].",
)
@json_option
def push(
    server: str,
    key_path: Path,
    proxy: str | None,
    reply_bundle: Path,
    confirmation_out: Path | None,
    as_json: bool,
) -> None:
    """Upload a reply bundle written by `review outbox --out` on the offline machine.

    Writes the server's signed delivery confirmation; carry it back to the offline machine
    for `review delivered`, which empties the outbox of the delivered replies.
    """
    confirmation = confirmation_out or default_confirmation_path(reply_bundle)
    size = reply_bundle.stat().st_size
    with transfer_progress("Pushing", size, as_json) as progress:
        result = _with_courier(
            server,
            key_path,
            proxy,
            lambda courier: courier.push(reply_bundle, confirmation, progress),
        )
    if as_json:
        print_json({**result.to_json(), "confirmation": str(confirmation)})
        return
    click.echo(
        f"Delivered {result.stored} replies ({result.already_stored} were delivered before, "
        "and may have been read and deleted since)."
    )
    click.echo("Delivery confirmation for `review delivered` on the offline machine:", err=True)
    click.echo(str(confirmation))


@click.command("ack")
@server_option
@key_option
@proxy_option
@click.argument("ack_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def ack(server: str, key_path: Path, proxy: str | None, ack_file: Path, as_json: bool) -> None:
    """Tell the server which tips the offline machine imported, so it can delete them."""
    result = _with_courier(server, key_path, proxy, lambda courier: courier.ack(ack_file))
    if as_json:
        print_json(result.to_json())
        return
    click.echo(f"The server acknowledged {result.acknowledged} items.")
