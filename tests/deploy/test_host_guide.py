"""deploy/README.md's step 3, run as written (only `sudo -u debian-tor` and the paths moved to a
temporary directory): tor makes both onion keys with its network off and stops by itself, and
the command's exit status says whether it worked."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from tests.support.deploy import DEPLOY, ONION_HOSTNAME, render_torrc

GUIDE = DEPLOY / "README.md"


def shell_commands(section: str) -> list[str]:
    """The commands in the first ```sh block of a section of the guide, continuations joined."""
    text = GUIDE.read_text()
    start = text.index(section)
    block = text[start:].split("```sh\n", 1)[1].split("```", 1)[0]
    return block.replace("\\\n", " ").splitlines()


def test_step_3_makes_the_onion_keys_and_tor_stops_by_itself(tor: str, tmp_path: Path) -> None:
    commands = shell_commands("## 3. The onion keys")
    [keygen] = [c for c in commands if c.startswith("sudo -u debian-tor ")]
    assert not re.search(r"&\s*$|%1", keygen) and not any("kill" in c for c in commands)
    torrc, tor_dir = render_torrc(DEPLOY / "torrc.host", tmp_path)
    command = (
        keygen.removeprefix("sudo -u debian-tor ")
        .replace("/etc/tor/torrc.d/cairn.conf", str(torrc))
        .replace("/var/lib/tor", str(tor_dir))
    )
    assert command.startswith("timeout ") and " tor " in command
    started = time.monotonic()
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 60  # stopped by `timeout`, not by the test
    for service in ("cairn-source", "cairn-courier"):
        assert re.fullmatch(ONION_HOSTNAME + "\n", (tor_dir / service / "hostname").read_text())

    # A mistake in the file stops it at once, and the exit status says so.
    torrc.write_text(torrc.read_text() + "NoSuchOption 1\n")
    broken = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120)
    assert broken.returncode != 0
