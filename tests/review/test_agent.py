"""Issue 19 item 2: `review unlock` asks the passphrase once; `review lock` or a timeout ends it.

The agent holds the identity and unwraps file keys for the reviewer's own processes only: an
owner-only directory and socket, a peer check by user id, and clients that refuse a socket
anyone else could have made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from keys.signing import SigningKey
from review import agent
from review.cli import main
from tests.support.review import PASSPHRASE, Review, Reviewer, TipSpec, make_bundle


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch, offline_reviewer: Reviewer) -> Iterator[Path]:
    """A runtime directory of its own (short: a socket's path has at most 107 bytes); any agent
    a test left running is locked at the end."""
    root = Path(tempfile.mkdtemp(prefix="cairn-rt-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(root))
    yield root
    path = agent.socket_path(offline_reviewer.identity_file)
    if os.path.lexists(path):
        os.chmod(path.parent, 0o700)
        os.chmod(path, 0o600)
        agent.lock(offline_reviewer.identity_file)
    shutil.rmtree(root)


def without_passphrase(review: Review, *args: str, input: str | None = None) -> Result:
    """Run a command with no passphrase file: only the agent (or a typed one) unlocks."""
    env = {
        "CAIRN_WORKSPACE": str(review.workspace),
        "CAIRN_IDENTITY": str(review.reviewer.identity_file),
        "CAIRN_PASSPHRASE_FILE": None,
        "COLUMNS": "200",
    }
    return CliRunner().invoke(main, list(args), env=env, input=input)


def asks_passphrase(result: Result) -> bool:
    return result.exit_code != 0 and "Passphrase:" in result.output


def test_unlocked_commands_ask_no_passphrase_until_locked(
    review: Review, runtime: Path, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    assert asks_passphrase(without_passphrase(review, "tips"))
    assert "Unlocked for 30 minutes" in review("unlock").stdout
    socket_file = agent.socket_path(offline_reviewer.identity_file)
    assert stat.S_IMODE(os.stat(socket_file.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.lstat(socket_file).st_mode) == 0o600
    assert str(runtime) in str(socket_file) and str(review.workspace) not in str(socket_file)

    tips = [TipSpec("m1", "srcA", b"Opened by the agent."), TipSpec("m2", "srcB", b"And this.")]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    for args in (("import", str(bundle)), ("claim", "add", "A claim"), ("tips",)):
        result = without_passphrase(review, *args)
        assert result.exit_code == 0, result.output
        assert "Passphrase" not in result.output
    shown = without_passphrase(review, "show", "m1", "--json")
    assert json.loads(shown.stdout)["text"] == "Opened by the agent."  # a tip opened via it

    assert "Locked" in without_passphrase(review, "lock").stdout
    assert not os.path.lexists(socket_file)
    assert asks_passphrase(without_passphrase(review, "tips"))
    typed = without_passphrase(review, "tips", input=PASSPHRASE + "\n")
    assert typed.exit_code == 0 and "m1" in typed.stdout
    assert "No agent was unlocked" in without_passphrase(review, "lock").stdout


def test_the_agent_forgets_the_identity_after_its_timeout(review: Review, runtime: Path) -> None:
    started = time.monotonic()
    review("unlock", "--timeout", "0.1")  # 6 seconds
    socket_file = agent.socket_path(review.reviewer.identity_file)
    if time.monotonic() - started < 3:  # on a machine too busy for this, the wait still counts
        assert without_passphrase(review, "tips").exit_code == 0
    deadline = time.monotonic() + 60
    while os.path.lexists(socket_file) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.lexists(socket_file), "the agent outlived its timeout"
    assert asks_passphrase(without_passphrase(review, "tips"))


def test_a_socket_or_directory_others_could_use_is_refused(review: Review, runtime: Path) -> None:
    review("unlock")
    socket_file = agent.socket_path(review.reviewer.identity_file)
    os.chmod(socket_file, 0o666)  # noqa: S103 -- opened up on purpose
    error = review.fails("tips")
    assert f"{socket_file} is not an owner-only socket of yours" in error
    os.chmod(socket_file, 0o600)
    os.chmod(socket_file.parent, 0o755)  # noqa: S103 -- opened up on purpose
    error = review.fails("claims")
    assert f"{socket_file.parent} is not an owner-only directory of yours" in error
    os.chmod(socket_file.parent, 0o700)
    assert without_passphrase(review, "tips").exit_code == 0


SYSTEM_PYTHON = "/usr/bin/python3"  # one another user may run (the venv's is under /root)


@pytest.mark.skipif(
    os.getuid() != 0 or not os.access(SYSTEM_PYTHON, os.X_OK),
    reason="only root can run a client as another user",
)
def test_another_user_gets_no_answer_from_the_agent(review: Review, runtime: Path) -> None:
    """The directory (0700) already keeps other users out; opened up here on purpose, the
    agent's SO_PEERCRED check still answers them nothing."""
    review("unlock")
    socket_file = agent.socket_path(review.reviewer.identity_file)
    os.chmod(runtime, 0o711)  # noqa: S103 -- opened up on purpose
    os.chmod(socket_file.parent, 0o711)  # noqa: S103 -- opened up on purpose
    os.chmod(socket_file, 0o666)  # noqa: S103 -- opened up on purpose
    ask = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.connect(sys.argv[1])\n"
        "try:\n"
        '    s.sendall(b\'{"op": "recipient"}\\n\')\n'
        "    print(repr(s.recv(4096)))\n"
        "except (BrokenPipeError, ConnectionResetError):\n"
        "    print('closed')\n"
    )
    nobody = subprocess.run(
        [SYSTEM_PYTHON, "-c", ask, str(socket_file)],
        cwd="/",
        user=65534,
        group=65534,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert nobody.stdout.strip() in ("b''", "closed"), nobody.stderr  # not a word
    answer = agent._ask(socket_file, {"op": "recipient"})  # the owner is still answered
    assert answer["recipient"] == str(review.reviewer.identity.recipient)


def test_keys_show_needs_no_passphrase(tmp_path: Path, runtime: Path) -> None:
    identity = tmp_path / "keys" / "identity.age"
    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_text(PASSPHRASE + "\n")
    runner = CliRunner()
    made = runner.invoke(
        main, ["keys", "new", "--out", str(identity), "--passphrase-file", str(passphrase)]
    )
    assert made.exit_code == 0, made.output
    recipient = made.stdout.strip().splitlines()[-1]
    env = {"CAIRN_PASSPHRASE_FILE": None}
    shown = runner.invoke(main, ["keys", "show", "--identity", str(identity)], env=env)
    assert shown.exit_code == 0 and shown.stdout.strip() == recipient
    assert (tmp_path / "keys" / "identity.pub").read_text() == recipient + "\n"

    (tmp_path / "keys" / "identity.pub").unlink()  # as an identity made before identity.pub
    asked = runner.invoke(main, ["keys", "show", "--identity", str(identity)], env=env)
    assert asks_passphrase(asked)
    unlocked = ["unlock", "--identity", str(identity), "--passphrase-file", str(passphrase)]
    assert runner.invoke(main, unlocked).exit_code == 0
    try:
        held = runner.invoke(main, ["keys", "show", "--identity", str(identity)], env=env)
        assert held.exit_code == 0 and held.stdout.strip() == recipient
    finally:
        agent.lock(identity)


def agent_pid(socket_file: Path) -> int:
    """The agent's process id, as the kernel tells it for the peer of a connection."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(socket_file))
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[0])


def test_the_agent_dumps_no_core_and_locks_its_memory(review: Review, runtime: Path) -> None:
    said = review("unlock")
    pid = agent_pid(agent.socket_path(review.reviewer.identity_file))
    limits = Path(f"/proc/{pid}/limits").read_text()
    assert re.search(r"Max core file size\s+0\s+0", limits)
    status = Path(f"/proc/{pid}/status").read_text()
    locked_kb = int(re.search(r"VmLck:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    assert locked_kb > 0 or "Warning: memory not locked" in said.stderr
    assert "review.agent" in Path(f"/proc/{pid}/cmdline").read_text()
    assert "AGE-SECRET-KEY" not in Path(f"/proc/{pid}/cmdline").read_text()  # came on stdin
