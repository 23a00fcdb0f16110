"""`intake onion-auth`: both halves printed in tor's formats, or written as files (the secret
half 0600, never overwritten); a clear error without a usable onion address."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from click.testing import CliRunner, Result

from intake.cli import main
from keys.onion_auth import b32encode
from tests.support.intake import VENV_BIN
from tests.support.tor_auth import client_keys, server_key

ADDRESS = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid"


def onion_auth(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "intake"), "onion-auth", *args], capture_output=True, text=True, timeout=60
    )


def onion_auth_in_process(*args: str) -> Result:
    return CliRunner().invoke(main, ["onion-auth", *args])


def test_both_halves_are_printed_in_tors_formats() -> None:
    result = onion_auth("--name", "courier", "--onion", f"{ADDRESS}.onion")
    assert result.returncode == 0, result.stderr
    server, client = result.stdout.splitlines()
    address, pair = client_keys(client)
    assert address == ADDRESS and server_key(server) == pair.public_key
    assert "authorized_clients/courier.auth" in result.stderr
    assert "ClientOnionAuthDir/courier.auth_private" in result.stderr


def test_files_are_written_once_with_the_secret_half_private(tmp_path: Path) -> None:
    hostname = tmp_path / "hostname"
    hostname.write_text(f"{ADDRESS}.onion\n")
    out = tmp_path / "keys"
    result = onion_auth(
        "--name", "courier-1", "--hostname-file", str(hostname), "--out-dir", str(out)
    )
    assert result.returncode == 0, result.stderr
    private, public = out / "courier-1.auth_private", out / "courier-1.auth"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    address, pair = client_keys(private.read_text())
    assert address == ADDRESS
    assert server_key(public.read_text()) == pair.public_key
    assert result.stdout.strip() == public.read_text().strip()  # only the public half printed
    assert b32encode(pair.private_key) not in result.stdout + result.stderr  # the secret: file only

    again = onion_auth_in_process("--name", "courier-1", "--onion", ADDRESS, "--out-dir", str(out))
    assert again.exit_code != 0 and "never overwritten" in again.stderr
    assert client_keys(private.read_text()) == (address, pair)


def test_clear_errors_and_no_traceback(tmp_path: Path) -> None:
    cases = [
        (["--name", "courier"], "--onion or --hostname-file"),
        (["--name", "courier", "--onion", ADDRESS, "--hostname-file", "x"], "--onion or"),
        (["--name", "../courier", "--onion", ADDRESS], "letters, digits"),
        (["--name", "courier", "--onion", ADDRESS[:-1] + "a"], "no onion address"),
        (["--name", "courier", "--hostname-file", str(tmp_path / "none")], "no onion address"),
    ]
    for args, message in cases:
        result = onion_auth_in_process(*args)
        assert result.exit_code != 0, args
        assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert result.stdout == ""
