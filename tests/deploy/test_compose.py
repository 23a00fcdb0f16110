"""Debian's docker-compose accepts docker-compose.yml for both profiles, and the files agree with
each other: tor's targets are the intake containers' fixed addresses, only tor may send PROXY
lines, nothing is published on the host, secrets come from files. Plus the images' Dockerfiles,
read as text (no Docker engine here)."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT
from tests.support.deploy import DEPLOY, require_tool

PROFILES = {
    "default": {"intake", "tor"},
    "scaled": {"intake-a", "intake-b", "tor-scaled", "postgres", "redis"},
}
TORRC = {"tor": DEPLOY / "tor" / "torrc.default", "tor-scaled": DEPLOY / "tor" / "torrc.scaled"}


def compose_config(profile: str) -> dict[str, Any]:
    """`docker-compose config` for a profile, as data."""
    compose = require_tool("docker-compose", "docker-compose")
    args = [] if profile == "default" else ["--profile", profile]  # default: from .env
    result = subprocess.run(
        [
            compose,
            "--project-directory",
            str(ROOT),
            "-f",
            str(ROOT / "docker-compose.yml"),
            *args,
            "config",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    # docker-compose prints YAML; its own interpreter has PyYAML (Debian's python3-yaml).
    interpreter = Path(compose).read_text().splitlines()[0].removeprefix("#!").split()
    as_json = subprocess.run(
        [
            *interpreter,
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        ],
        input=result.stdout,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(as_json.stdout)  # type: ignore[no-any-return]


def in_profile(config: dict[str, Any], profile: str) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in config["services"].items()
        if profile in service.get("profiles", [])
    }


def torrc_targets(torrc: Path) -> set[str]:
    return {
        line.split()[2]
        for line in torrc.read_text().splitlines()
        if line.startswith("HiddenServicePort ")
    }


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_docker_compose_accepts_the_file(profile: str) -> None:
    config = compose_config(profile)
    services = in_profile(config, profile)
    assert set(services) == PROFILES[profile]
    for name, service in services.items():
        assert "ports" not in service, f"{name} publishes a port on the host"
        assert service.get("read_only") is True, name
        assert "no-new-privileges:true" in service.get("security_opt", []), name


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_tor_reaches_the_intake_containers_and_only_tor_sends_proxy_lines(profile: str) -> None:
    services = in_profile(compose_config(profile), profile)
    [(tor_name, tor)] = [(n, s) for n, s in services.items() if n.startswith("tor")]
    intakes = {n: s for n, s in services.items() if n.startswith("intake")}
    assert len(intakes) == (1 if profile == "default" else 2)

    tor_address = tor["networks"]["onion"]["ipv4_address"]
    assert "egress" in tor["networks"]  # tor alone has a way out
    assert tor["environment"]["CAIRN_TORRC"] == f"/etc/tor/cairn/{TORRC[tor_name].name}"
    # Every intake's source port (8080) and courier port (8090, which each intake listens on).
    hosts = [s["networks"]["onion"]["ipv4_address"] for s in intakes.values()]
    assert torrc_targets(TORRC[tor_name]) == {f"{h}:{p}" for h in hosts for p in (8080, 8090)}
    assert all(str(s["environment"]["CAIRN_COURIER_PORT"]) == "8090" for s in intakes.values())
    volumes = " ".join(tor["volumes"])
    assert "onion-keys:/var/lib/tor" in volumes and "courier-clients:/etc/cairn" in volumes

    for name, service in intakes.items():
        assert "egress" not in service["networks"], f"{name} must have no route out"
        assert service["environment"]["CAIRN_PROXY_ALLOW_IPS"] == tor_address
        assert any(v.startswith("intake-data:/data/instance") for v in service["volumes"])
        assert any(t.startswith("/tmp") for t in service["tmpfs"])
        assert service["cap_drop"] == ["ALL"]


def test_scaled_profile_shares_postgresql_and_a_diskless_redis_with_secrets_from_files() -> None:
    config = compose_config("scaled")
    services = in_profile(config, "scaled")
    for name in ("intake-a", "intake-b"):
        service = services[name]
        environment = service["environment"]
        assert environment["CAIRN_DATABASE_URL_FILE"] == "/run/secrets/database_url"
        assert environment["CAIRN_LIMITER_STORAGE_URI_FILE"] == "/run/secrets/limiter_storage_uri"
        assert not {"CAIRN_DATABASE_URL", "CAIRN_LIMITER_STORAGE_URI"} & set(environment)
        assert {s["source"] for s in service["secrets"]} == {"database_url", "limiter_storage_uri"}
        assert "intake-data:/data/instance:ro" in service["volumes"]
        assert set(service["depends_on"]) == {"postgres", "redis"}
    redis = services["redis"]["command"]
    assert redis[redis.index("--save") + 1] == "" and redis[redis.index("--appendonly") + 1] == "no"
    assert "volumes" not in services["redis"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"].startswith("/run/secrets/")
    # No password in any environment: every value that looks like a credential is a file name.
    for name, service in config["services"].items():
        for key, value in (service.get("environment") or {}).items():
            assert not re.search(r"://[^/@\s]*:[^/@\s]*@", str(value)), f"{name}: {key}"
            assert "PASSWORD" not in key or key.endswith("_FILE"), f"{name}: {key}"
    assert {"intake-data", "onion-keys", "postgres-data"} <= set(config["volumes"])


def test_make_secrets_writes_what_the_compose_file_reads(tmp_path: Path) -> None:
    result = subprocess.run(
        ["sh", str(DEPLOY / "make-secrets.sh"), str(tmp_path / "secrets")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    secrets = tmp_path / "secrets"
    compose = (ROOT / "docker-compose.yml").read_text()
    for file in secrets.iterdir():
        assert f"file: ./secrets/{file.name}\n" in compose
    assert (secrets.stat().st_mode & 0o777) == 0o700
    password = (secrets / "postgres_password").read_text().strip()
    assert len(password) == 64
    assert f":{password}@postgres:5432/cairn" in (secrets / "database_url").read_text()
    redis_password = (secrets / "redis.conf").read_text().split()[1]
    assert (
        f"redis://:{redis_password}@redis:6379/0" in (secrets / "limiter_storage_uri").read_text()
    )
    again = subprocess.run(
        ["sh", str(DEPLOY / "make-secrets.sh"), str(secrets)], capture_output=True, text=True
    )
    assert "left as it is" in again.stderr
    assert (secrets / "postgres_password").read_text().strip() == password  # never overwritten


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def test_the_intake_image_runs_unprivileged_without_dev_extras_and_checks_itself() -> None:
    steps = instructions(ROOT / "Dockerfile")
    assert steps[0] == ("FROM", "python:3.11-slim")
    [user] = [args for step, args in steps if step == "USER"]
    assert user.split(":")[0] not in {"root", "0"}
    runs = " ".join(args for step, args in steps if step == "RUN")
    assert "pip install ." in runs and "[dev]" not in runs
    [healthcheck] = [args for step, args in steps if step == "HEALTHCHECK"]
    assert "127.0.0.1:8080" in healthcheck  # from inside the container, over loopback
    [cmd] = [json.loads(args) for step, args in steps if step == "CMD"]
    assert cmd[:2] == ["intake", "serve"] and "--proxy-protocol" in cmd
    assert cmd[cmd.index("--instance") + 1] == "/data/instance"
    # All interfaces of the container, which sits only on the internal "onion" network.
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"  # noqa: S104
    assert cmd[cmd.index("--port") + 1] == "8080"
    ignore = [x for x in (ROOT / ".dockerignore").read_text().splitlines() if x[:1] not in "#"]
    assert ignore[0] == "*"  # everything stays out of the image unless named


def test_the_image_gets_everything_pip_install_needs_and_nothing_else() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    needed = ["pyproject.toml", project["project"]["readme"], *(f"{p}/" for p in packages)]
    allowed = {x[1:] for x in (ROOT / ".dockerignore").read_text().splitlines() if x[:1] == "!"}
    assert set(needed) == allowed
    copied = " ".join(args for step, args in instructions(ROOT / "Dockerfile") if step == "COPY")
    assert all(name.rstrip("/") in copied.split() for name in needed)


def test_the_tor_image_is_debians_tor_run_as_debian_tor() -> None:
    steps = instructions(DEPLOY / "tor" / "Dockerfile")
    assert steps[0][0] == "FROM" and steps[0][1].startswith("debian:")
    assert any(
        "apt-get install" in args and " tor" in args for step, args in steps if step == "RUN"
    )
    assert ("USER", "debian-tor") in steps
