"""``make run``: a demo instance on SQLite with a demo reviewer identity, served on loopback.

Everything lives in ./demo (ignored by git): the instance, the reviewer's identity and its
passphrase, and the reviewer's workspace, so the demo never touches a real one. The passphrase is
printed: it is for trying Cairn out only, never for real tips.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from keys import age
from keys.identity_file import read_identity_file, write_identity_file

from .db import migrate
from .instance import init_instance, load_instance
from .serve import serve

DEMO_DIR = Path("demo")
IDENTITY = DEMO_DIR / "reviewer-identity.age"
PASSPHRASE_FILE = DEMO_DIR / "passphrase.txt"
INSTANCE = DEMO_DIR / "instance"
WORKSPACE = DEMO_DIR / "workspace"
BUNDLE = DEMO_DIR / "bundle.tar"
BIN_DIR = Path(".venv/bin")
PASSPHRASE = "demo passphrase - not for real tips"  # noqa: S105 -- printed on purpose


def next_steps(server_key: str) -> list[str]:
    """The commands that carry a tip from the demo server to the demo reviewer, in order, each
    exactly as it runs in a shell from the repository root."""
    unlock = [
        *("--workspace", str(WORKSPACE)),
        *("--identity", str(IDENTITY)),
        *("--passphrase-file", str(PASSPHRASE_FILE)),
    ]
    commands = [
        [str(BIN_DIR / "intake"), "export", "--instance", str(INSTANCE), "--out", str(BUNDLE)],
        [str(BIN_DIR / "review"), "trust", server_key, *unlock],
        [str(BIN_DIR / "review"), "import", str(BUNDLE), *unlock],
        [str(BIN_DIR / "review"), "tips", *unlock],
    ]
    return [shlex.join(argv) for argv in commands]


def main() -> None:
    DEMO_DIR.mkdir(exist_ok=True, mode=0o700)
    if not IDENTITY.exists():
        write_identity_file(IDENTITY, age.X25519Identity.generate(), PASSPHRASE)
    if not PASSPHRASE_FILE.exists():
        PASSPHRASE_FILE.write_text(PASSPHRASE + "\n")
        PASSPHRASE_FILE.chmod(0o600)
    recipient = str(read_identity_file(IDENTITY, PASSPHRASE).recipient)
    if not (INSTANCE / "config.json").exists():
        init_instance(INSTANCE, [recipient])
    instance = load_instance(INSTANCE)
    migrate(instance.database_url)
    port = int(os.environ.get("CAIRN_DEMO_PORT", "8080"))
    click.secho("DEMO ONLY: this identity and its passphrase are for trying Cairn out.", bold=True)
    click.echo(f"  reviewer identity:  {IDENTITY}  (passphrase in {PASSPHRASE_FILE})")
    click.echo(f"  reviewer workspace: {WORKSPACE}")
    click.echo(f"  server instance:    {INSTANCE}")
    click.echo(
        f"Open http://127.0.0.1:{port}/ and send a tip. Then, in another terminal in this "
        "directory:"
    )
    for command in next_steps(str(instance.signing_key.verify_key)):
        click.echo(f"  {command}")
    click.echo("Or, with the age CLI alone: tar xf the bundle and `age -d -i` each items/*.age")
    click.echo(f"  (the identity file opens with `age -d {IDENTITY}` and the passphrase).")
    serve(INSTANCE, port=port, threads=8)


if __name__ == "__main__":
    main()
