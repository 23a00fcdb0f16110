"""A server with a registered courier, and the commands of the networked and offline machines."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from intake.instance import Instance
from keys import age
from keys.signing import SigningKey, parse_signing_key
from tests.intake.conftest import (  # fixtures shared with the intake tests
    VENV_BIN,
    LiveServer,
    instance,
    make_instance,
    start_server,
)


def run(
    command: str,
    *args: object,
    env: dict[str, str] | None = None,
    ok: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(VENV_BIN / command), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        input=stdin,
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@dataclass
class Courier:
    server: LiveServer
    instance: Instance
    key_file: Path
    key: SigningKey

    def review(self, *args: object, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return run(
            "review", *args, "--server", self.server.base_url, "--courier-key", self.key_file, ok=ok
        )


@pytest.fixture
def courier(instance: Instance, start_server: Callable[..., LiveServer], tmp_path: Path) -> Courier:
    key_file = tmp_path / "networked" / "courier.key"
    made = run("review", "courier", "new", "--out", key_file)
    run(
        "intake",
        "couriers",
        "add",
        made.stdout.strip(),
        "--name",
        "alice",
        "--instance",
        instance.path,
    )
    key = parse_signing_key(key_file.read_text())
    return Courier(start_server(instance), instance, key_file, key)


@dataclass
class Reviewer:
    env: dict[str, str]
    identity: age.X25519Identity

    def review(
        self, *args: object, ok: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run("review", *args, env=self.env, ok=ok, stdin=stdin)


@pytest.fixture
def offline(reviewer: tuple[age.X25519Identity, Path, Path], tmp_path: Path) -> Reviewer:
    """The reviewer's offline machine: a workspace unlocked by the identity file."""
    identity, identity_file, passphrase_file = reviewer
    env = {
        "CAIRN_WORKSPACE": str(tmp_path / "offline" / "workspace"),
        "CAIRN_IDENTITY": str(identity_file),
        "CAIRN_PASSPHRASE_FILE": str(passphrase_file),
    }
    return Reviewer(env, identity)
