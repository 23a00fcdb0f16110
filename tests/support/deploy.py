"""The deployment files as the tests meet them: the shipped files, rendered to temporary
directories, and the system tools that check them (Debian's tor, docker-compose,
systemd-analyze). A test whose tool is absent skips, loudly, naming the package to install
(.ci/run installs them)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import ROOT

DEPLOY = ROOT / "deploy"
# Every torrc the project ships, wherever it sits under deploy/.
SHIPPED_TORRCS = sorted(p for p in DEPLOY.rglob("torrc*") if p.is_file())
ONION_HOSTNAME = r"[a-z2-7]{56}\.onion"


def require_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is NOT installed (apt-get install {package}); .ci/run installs it")
    return path


def render_torrc(template: Path, root: Path, *extra_lines: str) -> tuple[Path, Path]:
    """The template with tor's directory moved under root; returns (torrc, tor directory).

    Tor wants its directories private to the user it runs as, which a fresh 0700 directory is,
    whether the tests run as root (CI) or not.
    """
    tor_dir = root / "tor"
    tor_dir.mkdir(mode=0o700, exist_ok=True)
    text = template.read_text().replace("/var/lib/tor", str(tor_dir))
    lines = [] if "\nDataDirectory " in text else [f"DataDirectory {tor_dir}"]
    torrc = root / f"{template.parent.name}-{template.name}"
    torrc.write_text(text + "\n" + "\n".join([*lines, *extra_lines]) + "\n")
    return torrc, tor_dir


def wait_for(
    condition: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"tor exited ({process.returncode}):\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for tor:\n{log.read_text()}")
        time.sleep(0.1)


@contextmanager
def running(
    argv: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a process (tor, or the tor container's entrypoint) and always stop it."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
