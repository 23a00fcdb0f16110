"""A reviewer, bundles made the way the server makes them, and ``review`` run in-process.

Identities use a light scrypt work factor so that every unlock is quick.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from keys import age
from keys.bundle import BundleItem, write_bundle
from keys.identity_file import write_identity_file
from keys.sealed import ItemWriter
from keys.signing import SigningKey
from review.cli import main

PASSPHRASE = "a reviewer's long passphrase"


@dataclass(frozen=True)
class Reviewer:
    identity: age.X25519Identity
    identity_file: Path
    passphrase_file: Path


def make_reviewer(root: Path) -> Reviewer:
    root.mkdir(parents=True, exist_ok=True)
    identity = age.X25519Identity.generate()
    write_identity_file(root / "identity.age", identity, PASSPHRASE, work_factor=10)
    (root / "passphrase.txt").write_text(PASSPHRASE + "\n")
    return Reviewer(identity, root / "identity.age", root / "passphrase.txt")


@dataclass(frozen=True)
class TipSpec:
    """A tip as a source sent it, before the server seals and bundles it."""

    id: str
    source: str
    content: bytes
    kind: str = "message"
    name: str = ""
    media_type: str = "text/plain; charset=utf-8"
    day: str = "2025-03-01"
    reply_recipient: str = ""
    submission: str | None = None  # as older bundles, none unless given


def seal_tips(tips: Sequence[TipSpec], recipients: Sequence[age.Recipient]) -> dict[str, bytes]:
    """Each tip sealed to ``recipients``, as the server stores it, by id."""
    sealed: dict[str, bytes] = {}
    for tip in tips:
        out = io.BytesIO()
        writer = ItemWriter(out, recipients, tip.kind, tip.name, tip.media_type)
        writer.seal_all(io.BytesIO(tip.content))
        sealed[tip.id] = out.getvalue()
    return sealed


def bundle_of(
    path: Path, server: SigningKey, tips: Sequence[TipSpec], sealed: Mapping[str, bytes]
) -> Path:
    """A bundle of already sealed tips, signed by ``server``."""
    items = [
        BundleItem(
            id=tip.id,
            source=tip.source,
            kind=tip.kind,
            day=tip.day,
            size=len(sealed[tip.id]),
            sha256=hashlib.sha256(sealed[tip.id]).hexdigest(),
            reply_recipient=tip.reply_recipient,
            submission=tip.submission,
        )
        for tip in tips
    ]
    with path.open("wb") as out:
        write_bundle(out, server, items, lambda item: io.BytesIO(sealed[item.id]))
    return path


def make_bundle(
    path: Path, server: SigningKey, tips: Sequence[TipSpec], recipients: Sequence[age.Recipient]
) -> Path:
    """Seal each tip to ``recipients`` and write them as a bundle signed by ``server``."""
    return bundle_of(path, server, tips, seal_tips(tips, recipients))


class Review:
    """Runs ``review`` in-process against one workspace, unlocking with the reviewer's files."""

    def __init__(self, workspace: Path, reviewer: Reviewer) -> None:
        self.workspace = workspace
        self.reviewer = reviewer

    @property
    def env(self) -> dict[str, str]:
        """What points `review` at this workspace and unlocks it with the reviewer's files."""
        return {
            "CAIRN_WORKSPACE": str(self.workspace),
            "CAIRN_IDENTITY": str(self.reviewer.identity_file),
            "CAIRN_PASSPHRASE_FILE": str(self.reviewer.passphrase_file),
        }

    def run(self, *args: str, input: str | None = None) -> Result:
        env = {**self.env, "COLUMNS": "200"}  # rich wraps tables to the terminal's width
        return CliRunner().invoke(main, list(args), env=env, input=input)

    def __call__(self, *args: str, input: str | None = None) -> Result:
        """Run a command that must succeed."""
        result = self.run(*args, input=input)
        assert result.exit_code == 0, (
            f"review {' '.join(args)}: {result.output}{result.exception!r}"
        )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def fails(self, *args: str, input: str | None = None) -> str:
        """Run a command that must fail with a one-line error; returns that line."""
        return one_line_error(self.run(*args, input=input), args)


def one_line_error(result: Result, args: Sequence[str]) -> str:
    """The error of a command that must have failed cleanly: non-zero, one line, no traceback."""
    assert result.exit_code != 0, f"review {' '.join(args)} succeeded: {result.output}"
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), f"review {' '.join(args)} crashed: {result.exception!r}"
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


REVIEW_DIR = Path(__file__).parents[2] / "review"


def database_use(path: Path) -> list[str]:
    """What in a command module reaches the workspace database itself."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            if node.module.startswith("sqlalchemy"):
                found.append(f"imports {node.module}")
            if node.module == "models":  # a mapped class; constants are upper case
                found += [f"imports {a.name}" for a in node.names if not a.name.isupper()]
        if isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names if a.name.startswith("sqlalchemy")]
        if isinstance(node, ast.Attribute) and node.attr == "session":
            found.append(f"uses .session on line {node.lineno}")
        if isinstance(node, ast.Name) and node.id == "select":
            found.append(f"calls select on line {node.lineno}")
    return found
