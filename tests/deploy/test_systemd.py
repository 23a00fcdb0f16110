"""The systemd units parse cleanly (systemd-analyze verify) and carry the hardening the
operator guide promises."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.deploy import DEPLOY, require_tool
from tests.support.intake import VENV_BIN

UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "ProtectHome": "yes",
    "ReadWritePaths": "/var/lib/cairn",
    "CapabilityBoundingSet": "",
    "UMask": "0077",
    # Loopback only: a compromised intake cannot reach out (to send tips on before encryption).
    "IPAddressDeny": "any",
    "IPAddressAllow": "localhost",
}


def settings(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_units_are_hardened_and_serve_behind_tor(unit: Path) -> None:
    found = settings(unit)
    for key, value in HARDENING.items():
        assert found.get(key) == [value], key
    [exec_start] = found["ExecStart"]
    assert " serve " in exec_start and "--host 127.0.0.1" in exec_start
    assert "--proxy-protocol" in exec_start
    assert found["User"] == ["cairn"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verify_accepts_the_units(unit: Path, tmp_path: Path) -> None:
    analyze = require_tool("systemd-analyze", "systemd")
    # The unit as installed, with intake where this checkout has it; a template as an instance.
    name = unit.name.replace("@.", "@8081.")
    rendered = tmp_path / name
    rendered.write_text(unit.read_text().replace("/opt/cairn/bin/intake", str(VENV_BIN / "intake")))
    assert shutil.which("intake", path=str(VENV_BIN))
    result = subprocess.run(
        [analyze, "verify", str(rendered)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert str(rendered) not in result.stderr, result.stderr  # no warning about the unit itself
