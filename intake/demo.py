"""``make run``: a demo instance on SQLite with a demo reviewer identity, served on loopback.

Everything lives in ./demo (ignored by git): the instance, the reviewer's identity and its
passphrase, the courier's key (already accepted by the instance), and the reviewer's workspace,
so the demo never touches a real one. The passphrase is printed: it is for trying Cairn out
only, never for real tips. The courier API shares the demo's one port on loopback
(``courier_port`` 0), which a real deployment never does.

It reads one setting of its own, ``CAIRN_DEMO_PORT`` (8080), besides the instance's
``CAIRN_<SETTING>`` overrides that every intake command reads.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click
from sqlalchemy.orm import sessionmaker

from keys import age
from keys.identity_file import read_identity_file, write_identity_file
from keys.private_files import open_new
from keys.signing import KeyKind, SigningKey, parse_signing_key

from .courier_store import CourierStore
from .db import make_engine, migrate
from .instance import Instance, init_instance, load_instance
from .serve import serve

DEMO_DIR = Path("demo")
IDENTITY = DEMO_DIR / "reviewer-identity.age"
PASSPHRASE_FILE = DEMO_DIR / "passphrase.txt"
INSTANCE = DEMO_DIR / "instance"
WORKSPACE = DEMO_DIR / "workspace"
BUNDLE = DEMO_DIR / "bundle.tar"
ACK = DEMO_DIR / "bundle.ack.json"
COURIER_KEY = DEMO_DIR / "courier.key"
REPLY = DEMO_DIR / "reply.txt"
REPLIES = DEMO_DIR / "replies.tar"
CONFIRMATION = DEMO_DIR / "replies.delivered.json"
REPLY_TEXT = "Thank you. Can you send the March fuel logs too?\n"
BIN_DIR = Path(".venv/bin")
DEMO_ORGANISATION = "Demo Newsroom"
DEMO_ADDRESS_PUBLISHED_AT = "the Contact page of demo-newsroom.example"
PASSPHRASE = "demo passphrase - not for real tips"  # noqa: S105 -- printed on purpose


def _json_field(argv: list[str], expression: str) -> str:
    """``$(argv --json | ...)``: one field of a command's JSON, for the next command."""
    pick = f"import json, sys; print(json.load(sys.stdin){expression})"
    python = shlex.join([str(BIN_DIR / "python"), "-c", pick])
    return f'"$({shlex.join([*argv, "--json"])} | {python})"'


def next_steps(server_key: str, port: int) -> list[str]:
    """The commands of the whole round trip, in order, each exactly as it runs in a shell from
    the repository root: the courier fetches the tip, the reviewer imports it and replies, the
    operator accepts the workspace's key, the courier pushes the reply and carries back the
    confirmation and the ack."""
    review, intake = str(BIN_DIR / "review"), str(BIN_DIR / "intake")
    unlock = [
        *("--workspace", str(WORKSPACE)),
        *("--identity", str(IDENTITY)),
        *("--passphrase-file", str(PASSPHRASE_FILE)),
    ]
    courier = ["--server", f"http://127.0.0.1:{port}", "--courier-key", str(COURIER_KEY)]
    first_source = _json_field([review, "sources", *unlock], '[0]["pseudonym"]')
    workspace_key = _json_field([review, "outbox", "--out", str(REPLIES), *unlock], '["signed_by"]')
    commands = [
        shlex.join([review, "fetch", *courier, "--out", str(BUNDLE)]),
        shlex.join([review, "trust", server_key, *unlock]),
        shlex.join([review, "import", str(BUNDLE), *unlock]),
        shlex.join([review, "tips", *unlock]),
        f"{review} reply {first_source} {shlex.join(['--file', str(REPLY), *unlock])}",
        f"{intake} reviewers add {workspace_key} --name demo-desk --instance {INSTANCE}",
        shlex.join([review, "push", str(REPLIES), *courier]),
        shlex.join([review, "delivered", str(CONFIRMATION), *unlock]),
        shlex.join([review, "outbox", *unlock]),
        shlex.join([review, "ack", str(ACK), *courier]),
    ]
    return commands


def _accept_demo_courier(instance: Instance) -> None:
    """Make the demo courier's key once, and have the instance accept it."""
    if not COURIER_KEY.exists():
        with open_new(COURIER_KEY) as out:
            out.write(f"{SigningKey.generate(KeyKind.COURIER)}\n".encode())
    key = parse_signing_key(COURIER_KEY.read_text(), KeyKind.COURIER).verify_key
    engine = make_engine(instance.database_url)
    try:
        store = CourierStore(sessionmaker(engine, expire_on_commit=False))
        if key not in store.known_keys():
            store.add("demo-courier", key)
    finally:
        engine.dispose()


def main() -> None:
    DEMO_DIR.mkdir(exist_ok=True, mode=0o700)
    if not IDENTITY.exists():
        write_identity_file(IDENTITY, age.X25519Identity.generate(), PASSPHRASE)
    if not PASSPHRASE_FILE.exists():
        PASSPHRASE_FILE.write_text(PASSPHRASE + "\n")
        PASSPHRASE_FILE.chmod(0o600)
    recipient = str(read_identity_file(IDENTITY, PASSPHRASE).recipient)
    if not (INSTANCE / "config.json").exists():
        init_instance(
            INSTANCE,
            [recipient],
            organisation_name=DEMO_ORGANISATION,
            address_published_at=DEMO_ADDRESS_PUBLISHED_AT,
        )
    instance = load_instance(INSTANCE)
    migrate(instance.database_url)
    _accept_demo_courier(instance)
    if not REPLY.exists():
        REPLY.write_text(REPLY_TEXT)
    port = int(os.environ.get("CAIRN_DEMO_PORT", "8080"))
    click.secho("DEMO ONLY: this identity and its passphrase are for trying Cairn out.", bold=True)
    click.echo(f"  reviewer identity:  {IDENTITY}  (passphrase in {PASSPHRASE_FILE})")
    click.echo(f"  reviewer workspace: {WORKSPACE}")
    click.echo(f"  server instance:    {INSTANCE}")
    click.echo(
        f"Open http://127.0.0.1:{port}/ and send a tip. Then, in another terminal in this "
        "directory, carry it to the reviewer and a reply back (the reply is in "
        f"{REPLY}; the source reads it after checking back with the codename):"
    )
    for command in next_steps(str(instance.signing_key.verify_key), port):
        click.echo(f"  {command}")
    click.echo("Or, with the age CLI alone: tar xf the bundle and `age -d -i` each items/*.age")
    click.echo(f"  (the identity file opens with `age -d {IDENTITY}` and the passphrase).")
    serve(INSTANCE, port=port, threads=8)


if __name__ == "__main__":
    main()
