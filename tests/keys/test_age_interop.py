"""Interoperability (I7): files Cairn writes open with the real ``age`` tool and ``pyrage``, and
files they write open with Cairn, for X25519 recipients and for passphrases (scrypt).

age 1.1.1 has no environment variable or flag for a passphrase (``AGE_PASSPHRASE`` does not
exist; only the interactive prompt on /dev/tty), so the passphrase tests run ``age -p`` and
``age -d`` under a pseudo-terminal (``pty.fork``) and type the passphrase at its prompts.
``pyrage.passphrase`` (rage) is a second, non-interactive scrypt implementation checked as well.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pyrage
import pytest

from keys import age
from keys.private_files import private_output
from tests.support.age_bytes import decrypt as cairn_decrypt
from tests.support.age_bytes import encrypt as cairn_encrypt

# The whole module, pyrage round trips included, needs the CLI: skip it loudly (pytest -ra).
if shutil.which("age") is None or shutil.which("age-keygen") is None:
    pytest.skip(
        "the age CLI is not installed; .ci/run installs it (apt-get install age). "
        "Without it nothing checks I7 (every encrypted object opens with the standard age tool)",
        allow_module_level=True,
    )

SIZES = [0, 1, 65535, 65536, 65537, 5 * 1024 * 1024]
SIZE_PARAMS = [
    pytest.param(n, id=str(n), marks=[pytest.mark.slow] if n > 1 << 20 else []) for n in SIZES
]
PASSPHRASE = "correct horse battery staple"
FAST_WORK_FACTOR = 10
CLI_TIMEOUT = 60


@dataclass(frozen=True)
class CliKey:
    path: Path  # an age-keygen identity file
    secret: str  # its AGE-SECRET-KEY-1... line
    public: str  # age-keygen -y's age1... line


def run(argv: list[str | os.PathLike[str]]) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(argv, capture_output=True, timeout=CLI_TIMEOUT, check=False)
    assert result.returncode == 0, f"{argv} failed: {result.stderr.decode(errors='replace')}"
    return result


def plaintext(size: int) -> bytes:
    return os.urandom(size)


def run_with_tty(
    argv: list[str], answers: list[str], stdout: Path | None = None
) -> tuple[int, str]:
    """Run ``argv`` on a pseudo-terminal, answering each passphrase prompt with the next answer.

    ``stdout``, if given, receives the program's standard output instead of the terminal.
    Returns the exit code and everything the program wrote to the terminal.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            if stdout is not None:
                os.dup2(os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
            os.execvp(argv[0], argv)  # noqa: S606 (a fixed argv, as in subprocess.run)
        finally:
            os._exit(127)
    transcript = b""
    answered_up_to = 0
    pending = list(answers)
    deadline = time.monotonic() + CLI_TIMEOUT
    try:
        while True:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(remaining, 0))
            if not ready:
                raise TimeoutError(f"{argv} hung; terminal so far: {transcript!r}")
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            transcript += data
            if pending and re.search(rb"passphrase[^\n]*: $", transcript[answered_up_to:]):
                os.write(fd, pending.pop(0).encode() + b"\n")
                answered_up_to = len(transcript)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), transcript.decode(errors="replace")


@pytest.fixture(scope="module")
def cli_keys(tmp_path_factory: pytest.TempPathFactory) -> list[CliKey]:
    """Three identities made by age-keygen, with their recipients from ``age-keygen -y``."""
    keys = []
    directory = tmp_path_factory.mktemp("age-keys")
    for i in range(3):
        path = directory / f"key{i}.txt"
        run(["age-keygen", "-o", path])
        secret = next(
            line for line in path.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-1")
        )
        public = run(["age-keygen", "-y", path]).stdout.decode().strip()
        keys.append(CliKey(path, secret, public))
    return keys


def test_keys_from_age_keygen_parse_to_the_same_recipient(cli_keys: list[CliKey]) -> None:
    for key in cli_keys:
        identity = age.parse_identity(key.secret)
        assert str(identity.recipient) == key.public
        assert age.parse_recipient(key.public) == identity.recipient
        assert str(identity) == key.secret


# X25519 with the age CLI -------------------------------------------------------------------------


@pytest.mark.parametrize("n_recipients", [1, 3])
@pytest.mark.parametrize("size", SIZE_PARAMS)
def test_cairn_encrypts_age_cli_decrypts(
    cli_keys: list[CliKey], tmp_path: Path, size: int, n_recipients: int
) -> None:
    """I7: every identity the file was encrypted to opens it with ``age -d -i``."""
    data = plaintext(size)
    keys = cli_keys[:n_recipients]
    encrypted = tmp_path / "tip.age"
    encrypted.write_bytes(cairn_encrypt(data, [age.parse_recipient(k.public) for k in keys]))
    for key in keys:
        # Plaintext via stdout: age 1.1.1 creates an -o file only once it has a byte to write.
        assert run(["age", "-d", "-i", key.path, encrypted]).stdout == data
    if n_recipients < len(cli_keys):
        outsider = cli_keys[-1]
        result = subprocess.run(
            ["age", "-d", "-i", outsider.path, encrypted],
            capture_output=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        assert result.returncode != 0, "age opened a file that was not encrypted to this key"


@pytest.mark.parametrize("n_recipients", [1, 3])
@pytest.mark.parametrize("size", SIZE_PARAMS)
def test_age_cli_encrypts_cairn_decrypts(
    cli_keys: list[CliKey], tmp_path: Path, size: int, n_recipients: int
) -> None:
    data = plaintext(size)
    keys = cli_keys[:n_recipients]
    source = tmp_path / "plain"
    source.write_bytes(data)
    encrypted = tmp_path / "tip.age"
    recipient_args = [arg for k in keys for arg in ("-r", k.public)]
    run(["age", *recipient_args, "-o", encrypted, source])
    ciphertext = encrypted.read_bytes()
    for key in keys:
        assert cairn_decrypt(ciphertext, [age.parse_identity(key.secret)]) == data
    out = tmp_path / "decrypted"
    with encrypted.open("rb") as src, private_output(out) as dst:
        age.decrypt(src, dst, [age.parse_identity(keys[-1].secret)])
    assert out.read_bytes() == data
    if n_recipients < len(cli_keys):
        with pytest.raises(age.NoIdentityMatchError):
            cairn_decrypt(ciphertext, [age.parse_identity(cli_keys[-1].secret)])


# Passphrases (scrypt) with the age CLI, through a pseudo-terminal ---------------------------------


@pytest.mark.parametrize("size", [0, 65537])
def test_cairn_scrypt_age_cli_decrypts(tmp_path: Path, size: int) -> None:
    """What the reviewer's identity file is: a passphrase-encrypted age file ``age -d`` opens."""
    data = plaintext(size)
    encrypted = tmp_path / "identity.age"
    recipient = age.ScryptRecipient(PASSPHRASE, work_factor=FAST_WORK_FACTOR)
    encrypted.write_bytes(cairn_encrypt(data, [recipient]))
    out = tmp_path / "out"
    code, terminal = run_with_tty(["age", "-d", str(encrypted)], [PASSPHRASE], stdout=out)
    assert code == 0, terminal
    assert out.read_bytes() == data


def test_cairn_scrypt_age_cli_refuses_wrong_passphrase(tmp_path: Path) -> None:
    """The terminal harness really types the passphrase: a wrong one must fail."""
    encrypted = tmp_path / "identity.age"
    recipient = age.ScryptRecipient(PASSPHRASE, work_factor=FAST_WORK_FACTOR)
    encrypted.write_bytes(cairn_encrypt(b"secret", [recipient]))
    out = tmp_path / "out"
    code, terminal = run_with_tty(["age", "-d", str(encrypted)], ["wrong"], stdout=out)
    assert code != 0
    assert "incorrect passphrase" in terminal
    assert out.read_bytes() == b""


def test_age_cli_scrypt_cairn_decrypts(tmp_path: Path) -> None:
    """``age -p`` (its default work factor, 18: about a second each way) opens with Cairn."""
    data = plaintext(65537)
    source = tmp_path / "plain"
    source.write_bytes(data)
    encrypted = tmp_path / "tip.age"
    code, terminal = run_with_tty(
        ["age", "-p", "-o", str(encrypted), str(source)], [PASSPHRASE, PASSPHRASE]
    )
    assert code == 0, terminal
    ciphertext = encrypted.read_bytes()
    assert b"\n-> scrypt " in ciphertext
    assert cairn_decrypt(ciphertext, [age.ScryptIdentity(PASSPHRASE)]) == data
    with pytest.raises(age.NoIdentityMatchError):
        cairn_decrypt(ciphertext, [age.ScryptIdentity("not the passphrase")])


# pyrage (rage) ------------------------------------------------------------------------------------

# 16 MiB + 1 goes through several runs of the threaded pipeline (keys/age/stream.py), both ways.
PYRAGE_SIZES = [0, 1, 65536, 65537, 200_000, (16 << 20) + 1]


@pytest.mark.parametrize("n_recipients", [1, 3])
@pytest.mark.parametrize("size", PYRAGE_SIZES)
def test_cairn_encrypts_pyrage_decrypts(size: int, n_recipients: int) -> None:
    data = plaintext(size)
    identities = [age.X25519Identity.generate() for _ in range(n_recipients)]
    ciphertext = cairn_encrypt(data, [i.recipient for i in identities])
    for identity in identities:
        rage_identity = pyrage.x25519.Identity.from_str(str(identity))
        assert pyrage.decrypt(ciphertext, [rage_identity]) == data


@pytest.mark.parametrize("n_recipients", [1, 3])
@pytest.mark.parametrize("size", PYRAGE_SIZES)
def test_pyrage_encrypts_cairn_decrypts(size: int, n_recipients: int) -> None:
    data = plaintext(size)
    rage_identities = [pyrage.x25519.Identity.generate() for _ in range(n_recipients)]
    recipients = [pyrage.x25519.Recipient.from_str(str(i.to_public())) for i in rage_identities]
    ciphertext = pyrage.encrypt(data, recipients)
    for rage_identity in rage_identities:
        identity = age.parse_identity(str(rage_identity))
        assert str(identity.recipient) == str(rage_identity.to_public())
        assert cairn_decrypt(ciphertext, [identity]) == data


def test_cairn_scrypt_pyrage_decrypts() -> None:
    data = plaintext(65537)
    recipient = age.ScryptRecipient(PASSPHRASE, work_factor=FAST_WORK_FACTOR)
    ciphertext = cairn_encrypt(data, [recipient])
    assert pyrage.passphrase.decrypt(ciphertext, PASSPHRASE) == data
    with pytest.raises(pyrage.DecryptError):
        pyrage.passphrase.decrypt(ciphertext, "not the passphrase")


def test_pyrage_scrypt_cairn_decrypts() -> None:
    """rage picks its own work factor (calibrated to about a second); Cairn must accept it."""
    data = plaintext(65537)
    ciphertext = pyrage.passphrase.encrypt(data, PASSPHRASE)
    assert cairn_decrypt(ciphertext, [age.ScryptIdentity(PASSPHRASE)]) == data
