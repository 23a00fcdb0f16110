"""``review keys new`` and the ``review`` process itself.

The identity file opens every tip, and a copy of it can be attacked offline: a new one's
passphrase has a floor, and a strong one can be generated; a file written before the floor still
opens (I2). ``review``'s memory holds plaintext tips, keys and passphrases, so it never dumps
core (I9: no plaintext at rest that the reviewer did not export).
"""

from __future__ import annotations

import io
import os
import re
import resource
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from keys import age
from keys.codename import wordlist
from keys.identity_file import MIN_PASSPHRASE_CHARS, read_identity_file
from review.cli import main
from tests.support.intake import VENV_BIN
from tests.support.invariants import core_size_limit
from tests.support.review import one_line_error

LONG = "a passphrase long enough"
NO_ENVIRONMENT = {"CAIRN_IDENTITY": None, "CAIRN_PASSPHRASE_FILE": None}


def keys_new(out: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(
        main, ["keys", "new", "--out", str(out), *args], input=input, env=NO_ENVIRONMENT
    )


def passphrase_file(tmp_path: Path, passphrase: str) -> str:
    path = tmp_path / "passphrase.txt"
    path.write_text(passphrase + "\n")
    return str(path)


@pytest.mark.parametrize("passphrase", ["x", "fourteen chars"])
def test_i2_a_short_passphrase_from_a_file_is_refused_in_one_line(
    tmp_path: Path, passphrase: str
) -> None:
    out = tmp_path / "identity.age"
    args = ("--passphrase-file", passphrase_file(tmp_path, passphrase))
    error = one_line_error(keys_new(out, *args), args)
    assert f"the passphrase has {len(passphrase)} characters" in error
    assert f"needs at least {MIN_PASSPHRASE_CHARS}" in error
    assert "--generate-passphrase" in error
    assert not out.exists()


def test_a_passphrase_at_the_floor_makes_a_file_it_opens(tmp_path: Path) -> None:
    out, passphrase = tmp_path / "identity.age", "x" * MIN_PASSPHRASE_CHARS
    result = keys_new(out, "--passphrase-file", passphrase_file(tmp_path, passphrase))
    assert result.exit_code == 0, result.output
    assert str(read_identity_file(out, passphrase).recipient) == result.stdout.strip()


def test_i2_at_the_terminal_a_short_passphrase_is_asked_for_again(tmp_path: Path) -> None:
    out = tmp_path / "identity.age"
    result = keys_new(out, input=f"short\n{LONG}\n{LONG}\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("New passphrase") == 2
    assert "the passphrase has 5 characters" in result.output
    assert "short" not in result.output.replace("the passphrase has 5", "")
    recipient = result.stdout.strip().splitlines()[-1]  # the prompts go to stdout too
    assert str(read_identity_file(out, LONG).recipient) == recipient


def test_i2_a_generated_passphrase_is_shown_once_and_opens_the_file(tmp_path: Path) -> None:
    out = tmp_path / "identity.age"
    result = keys_new(out, "--generate-passphrase")
    assert result.exit_code == 0, result.output
    recipient = result.stdout.strip()
    assert re.fullmatch(r"age1[a-z0-9]+", recipient), result.stdout  # scripts read stdout
    shown = [line.strip() for line in result.stderr.splitlines() if line.startswith("    ")]
    assert len(shown) == 1, result.stderr
    words = shown[0].split(" ")
    assert len(words) == 6 and set(words) <= set(wordlist())
    assert result.output.count(shown[0]) == 1
    assert str(read_identity_file(out, shown[0]).recipient) == recipient
    again = keys_new(tmp_path / "another.age", "--generate-passphrase")
    assert shown[0] not in again.output


def test_generating_and_reading_a_passphrase_are_not_both_taken(tmp_path: Path) -> None:
    out = tmp_path / "identity.age"
    args = ("--generate-passphrase", "--passphrase-file", passphrase_file(tmp_path, LONG))
    assert "not both" in one_line_error(keys_new(out, *args), args)
    assert not out.exists()


def test_i2_an_identity_file_written_before_the_floor_still_opens(tmp_path: Path) -> None:
    """What `review keys new` wrote with a one-character passphrase, before the floor."""
    identity, old = age.X25519Identity.generate(), tmp_path / "old.age"
    text = f"# public key: {identity.recipient}\n{identity}\n".encode()
    with old.open("wb") as out:
        age.encrypt(io.BytesIO(text), out, [age.ScryptRecipient("x", work_factor=10)])
    result = CliRunner().invoke(
        main,
        [
            "keys",
            "show",
            "--identity",
            str(old),
            "--passphrase-file",
            passphrase_file(tmp_path, "x"),
        ],
        env=NO_ENVIRONMENT,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(identity.recipient)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_i9_review_never_dumps_core(tmp_path: Path) -> None:
    """Started with core dumps allowed, the installed `review` runs with the limit at 0, as it
    waits at a passphrase prompt with everything it has unlocked so far in memory."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    if hard == 0:
        pytest.skip("this user may not dump core at all (hard limit 0): nothing to show")
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))  # what `review` inherits
    try:
        process = subprocess.Popen(
            [str(VENV_BIN / "review"), "keys", "new", "--out", str(tmp_path / "identity.age")],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")},
            start_new_session=True,  # no terminal: the prompt reads standard input
        )
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))
    try:
        assert process.stderr is not None
        prompted, deadline = b"", time.monotonic() + 30
        while b"passphrase" not in prompted and time.monotonic() < deadline:
            if select.select([process.stderr], [], [], 0.1)[0]:
                prompted += os.read(process.stderr.fileno(), 4096)
        assert b"passphrase" in prompted, prompted
        assert core_size_limit(process.pid) == ("0", "0")
    finally:
        process.kill()
        process.wait(10)


NOT_DUMPABLE = """
import ctypes, resource
import review.cli
review.cli.main = lambda: print(
    ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), *resource.getrlimit(resource.RLIMIT_CORE)
)  # PR_GET_DUMPABLE
review.cli.run()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_i9_review_is_not_dumpable_before_any_command_runs() -> None:
    """The limit alone is ignored when the kernel pipes cores to a helper (systemd-coredump,
    apport); the entry point makes the process not dumpable too, before the command starts."""
    result = subprocess.run(
        [sys.executable, "-c", NOT_DUMPABLE], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["0", "0", "0"], result.stderr
