"""``make run``: a demo instance on SQLite with a demo reviewer identity, served on loopback.

Everything lives in ./demo (ignored by git). The identity's passphrase is printed: it is for
trying Cairn out only, never for real tips.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from keys import age
from keys.identity_file import read_identity_file, write_identity_file

from .db import migrate
from .instance import init_instance, load_instance
from .serve import serve

DEMO_DIR = Path("demo")
PASSPHRASE = "demo passphrase - not for real tips"  # noqa: S105 -- printed on purpose


def main() -> None:
    identity_path = DEMO_DIR / "reviewer-identity.age"
    passphrase_file = DEMO_DIR / "passphrase.txt"
    instance_path = DEMO_DIR / "instance"
    DEMO_DIR.mkdir(exist_ok=True, mode=0o700)
    if not identity_path.exists():
        write_identity_file(identity_path, age.X25519Identity.generate(), PASSPHRASE)
        passphrase_file.write_text(PASSPHRASE + "\n")
        passphrase_file.chmod(0o600)
    recipient = str(read_identity_file(identity_path, PASSPHRASE).recipient)
    if not (instance_path / "config.json").exists():
        init_instance(instance_path, [recipient])
    instance = load_instance(instance_path)
    migrate(instance.database_url)
    port = int(os.environ.get("CAIRN_DEMO_PORT", "8080"))
    bin_dir = Path(".venv/bin")
    click.secho("DEMO ONLY: this identity and its passphrase are for trying Cairn out.", bold=True)
    click.echo(f"  reviewer identity: {identity_path}  (passphrase in {passphrase_file})")
    click.echo(f"  server instance:   {instance_path}")
    click.echo(f"Open http://127.0.0.1:{port}/ and send a tip. Then, in another terminal:")
    click.echo(f"  {bin_dir}/intake export --instance {instance_path} --out {DEMO_DIR}/bundle.tar")
    click.echo(f"  {bin_dir}/review trust {instance.signing_key.verify_key}")
    unlock = f"--identity {identity_path} --passphrase-file {passphrase_file}"
    click.echo(f"  {bin_dir}/review import {DEMO_DIR}/bundle.tar {unlock}")
    click.echo(
        f"  {bin_dir}/review tips --identity {identity_path} --passphrase-file {passphrase_file}"
    )
    click.echo("Or, with the age CLI alone: tar xf the bundle and `age -d -i` each items/*.age")
    click.echo(f"  (the identity file opens with `age -d {identity_path}` and the passphrase).")
    serve(instance_path, port=port, threads=8)


if __name__ == "__main__":
    main()
