"""The operator's commands: init writes private secrets and never overwrites; check names every
problem on its own line and exits non-zero; serve refuses an unsafe instance (I2, I8)."""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from intake.instance import Instance
from keys import age
from keys.signing import parse_verify_key
from tests.intake.conftest import VENV_BIN


def intake(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "intake"), *args], capture_output=True, text=True, timeout=120
    )


def test_init_writes_private_secrets_and_prints_the_bundle_key(
    tmp_path: Path, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    path = tmp_path / "inst"
    result = intake("init", "--instance", str(path), "--recipient", str(reviewer[0].recipient))
    assert result.returncode == 0, result.stderr
    parse_verify_key(result.stdout.strip())  # the public half, ready for `review trust`
    for name in ("secret_key", "pepper", "bundle_signing.key"):
        assert stat.S_IMODE((path / name).stat().st_mode) == 0o600
    config = json.loads((path / "config.json").read_text())
    assert config["recipients"] == [str(reviewer[0].recipient)]
    assert "AGE-SECRET-KEY" not in "".join(
        p.read_text(errors="ignore") for p in path.iterdir() if p.is_file()
    )
    again = intake("init", "--instance", str(path), "--recipient", str(reviewer[0].recipient))
    assert again.returncode != 0 and "never overwritten" in again.stderr
    assert intake("check", "--instance", str(path)).returncode == 0


def test_init_refuses_a_bad_recipient(tmp_path: Path) -> None:
    result = intake("init", "--instance", str(tmp_path / "i"), "--recipient", "age1notakey")
    assert result.returncode != 0
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "i" / "config.json").exists()


def test_i2_the_server_holds_no_key_that_decrypts_tips(instance: Instance) -> None:
    """Only public keys are in the instance; its secrets are the pepper, the Flask key and the
    bundle-signing key, none of which opens an age file."""
    for path in instance.path.iterdir():
        if path.is_file():
            assert b"AGE-SECRET-KEY-1" not in path.read_bytes()


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (lambda p: _edit_config(p, recipients=[]), "no reviewer recipients"),
        (lambda p: _edit_config(p, recipients=["age1bogus"]), "recipient is invalid"),
        (lambda p: (p / "pepper").chmod(0o644), "pepper is readable by others"),
        (lambda p: (p / "cairn.db").unlink(), "not migrated"),
        (lambda p: _edit_config(p, limiter_storage_uri="redis://127.0.0.1:1/0"), "rate-limit"),
        (
            lambda p: _edit_config(p, database_url="postgresql+psycopg://nobody@127.0.0.1:1/x"),
            "database cannot be read",
        ),
    ],
)
def test_check_names_each_problem(
    instance: Instance, break_it: Callable[[Path], None], expected: str
) -> None:
    break_it(instance.path)
    result = intake("check", "--instance", str(instance.path))
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    served = intake("serve", "--instance", str(instance.path), "--port", "1")
    assert served.returncode != 0 and expected in served.stderr


def test_check_on_a_missing_instance_says_what_to_do(tmp_path: Path) -> None:
    result = intake("check", "--instance", str(tmp_path / "nowhere"))
    assert result.returncode != 0
    assert "intake init" in result.stderr


def _edit_config(path: Path, **changes: object) -> None:
    config = json.loads((path / "config.json").read_text())
    config.update(changes)
    (path / "config.json").write_text(json.dumps(config))
