"""Debian's tor accepts every shipped torrc, makes real onion addresses from it with its network
off, and reads both halves of the key pair that `intake onion-auth` makes; `intake check` reports
the addresses. The tor container's entrypoint runs here too, without Docker."""

from __future__ import annotations

import base64
import os
import re
import socket
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from intake.instance import Instance
from keys.onion_auth import parse_onion_address
from tests.support.deploy import (
    DEPLOY,
    ONION_HOSTNAME,
    SHIPPED_TORRCS,
    render_torrc,
    running,
    wait_for,
)
from tests.support.intake import VENV_BIN
from tests.support.ports import free_port
from tests.support.tor_auth import client_keys, server_key


def intake(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "intake"), *args], capture_output=True, text=True, timeout=120, env=env
    )


def hidden_services(torrc: Path) -> dict[str, list[tuple[str, str]]]:
    """Each onion service (by its directory's name) and its HiddenService* lines."""
    services: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in torrc.read_text().splitlines():
        key, _, value = raw.strip().partition(" ")
        if key == "HiddenServiceDir":
            current = services.setdefault(Path(value).name.removeprefix("cairn-"), [])
        elif key.startswith("HiddenService"):
            assert current is not None, f"{key} before any HiddenServiceDir in {torrc}"
            current.append((key, value.strip()))
    return services


def control(port: int, *commands: str) -> str:
    """Tor's control port (no authentication configured: the tests bind it to loopback)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        lines = ["AUTHENTICATE", *commands, "QUIT"]
        connection.sendall("".join(f"{line}\r\n" for line in lines).encode())
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply.decode()


def answers(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    return check


# Warnings that come from how the tests run tor, not from the shipped files.
TEST_ONLY_WARNINGS = ("running Tor as root", "ControlPort is open, but no authentication")


def warnings(log: str) -> list[str]:
    return [
        line
        for line in log.splitlines()
        if "[warn]" in line and not any(benign in line for benign in TEST_ONLY_WARNINGS)
    ]


def test_every_expected_torrc_is_shipped() -> None:
    shipped = {str(p.relative_to(DEPLOY)) for p in SHIPPED_TORRCS}
    assert {"torrc.host", "tor/torrc.default", "tor/torrc.scaled"} <= shipped


@pytest.mark.parametrize("template", SHIPPED_TORRCS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_tor_verify_config_passes_on_every_shipped_torrc(
    tor: str, template: Path, tmp_path: Path
) -> None:
    torrc, _ = render_torrc(template, tmp_path)
    defaults = tmp_path / "empty-defaults"
    defaults.write_text("")
    result = subprocess.run(
        [tor, "--verify-config", "--defaults-torrc", str(defaults), "-f", str(torrc)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration was valid" in result.stdout
    assert warnings(result.stdout) == []


@pytest.mark.parametrize("template", SHIPPED_TORRCS, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_torrc_has_a_defended_source_onion_and_a_courier_onion(template: Path) -> None:
    services = hidden_services(template)
    assert set(services) == {"source", "courier"}
    source, courier = services["source"], services["courier"]
    assert ("HiddenServicePoWDefensesEnabled", "1") in source
    assert ("HiddenServiceExportCircuitID", "haproxy") in source  # intake: --proxy-protocol
    # The source onion reaches intake's source port(s); the courier onion the same hosts' courier
    # port, where only the courier API answers (intake/listeners.py).
    ports = [value for key, value in source if key == "HiddenServicePort"]
    courier_ports = [value for key, value in courier if key == "HiddenServicePort"]
    assert ports and all(port.startswith("80 ") and port.endswith(":8080") for port in ports)
    assert courier_ports == [port.replace(":8080", ":8090") for port in ports]


def test_tor_makes_real_onion_addresses_and_intake_check_reports_them(
    tor: str, tmp_path: Path, make_instance: Callable[..., Instance]
) -> None:
    torrc, tor_dir = render_torrc(
        DEPLOY / "torrc.host", tmp_path, "SocksPort 0", "DisableNetwork 1", "Log notice stdout"
    )
    hostnames = [tor_dir / "cairn-source" / "hostname", tor_dir / "cairn-courier" / "hostname"]
    log = tmp_path / "tor.log"
    with running([tor, "-f", str(torrc)], log) as process:
        wait_for(lambda: all(p.exists() and p.stat().st_size for p in hostnames), process, log)
    source, courier = (p.read_text() for p in hostnames)
    for hostname in (source, courier):
        assert re.fullmatch(ONION_HOSTNAME + "\n", hostname)
        parse_onion_address(hostname)  # version 3, checksum right
    assert source != courier

    instance = make_instance()
    env = {**os.environ, "CAIRN_ONION_HOSTNAME_FILES": " ".join(map(str, hostnames))}
    result = intake("check", "--instance", str(instance.path), env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"source onion: {source.strip()}" in lines
    assert f"courier onion: {courier.strip()}" in lines

    # A hostname tor has not written (yet), or one that is not an address, is a problem.
    missing = tor_dir / "cairn-mirror" / "hostname"
    garbage = tmp_path / "garbage.hostname"
    garbage.write_text("not-an-onion.onion\n")
    env["CAIRN_ONION_HOSTNAME_FILES"] = f"{hostnames[0]} {missing} {garbage}"
    result = intake("check", "--instance", str(instance.path), env=env)
    assert result.returncode == 1
    assert f"source onion: {source.strip()}" in result.stdout.splitlines()
    assert f"problem: the mirror onion's hostname file {missing} cannot be read" in result.stderr
    assert f"problem: {garbage} holds no valid v3 onion address" in result.stderr
    assert "Traceback" not in result.stderr


def test_tor_reads_both_halves_of_an_onion_auth_key_pair(tor: str, tmp_path: Path) -> None:
    """The server line goes in authorized_clients/NAME.auth, the client line in the courier's
    ClientOnionAuthDir; tor loads the private key (its control port shows it) and warns about
    neither file, while it does warn about a damaged one."""
    client_dir = tmp_path / "onion-auth"
    client_dir.mkdir(mode=0o700)
    port = free_port()
    torrc, tor_dir = render_torrc(
        DEPLOY / "torrc.host",
        tmp_path,
        "SocksPort 0",
        "DisableNetwork 1",
        "Log notice stdout",
        f"ControlPort 127.0.0.1:{port}",
        f"ClientOnionAuthDir {client_dir}",
    )
    hostname = tor_dir / "cairn-courier" / "hostname"
    log = tmp_path / "tor.log"
    with running([tor, "-f", str(torrc)], log) as process:  # the courier onion's keys
        wait_for(lambda: hostname.exists() and hostname.stat().st_size > 0, process, log)

    made = intake(
        "onion-auth",
        "--name",
        "courier",
        "--hostname-file",
        str(hostname),
        "--out-dir",
        str(client_dir),
    )
    assert made.returncode == 0, made.stderr
    server_line = made.stdout.strip()
    assert (client_dir / "courier.auth").read_text().strip() == server_line
    address, pair = client_keys((client_dir / "courier.auth_private").read_text())
    assert address == parse_onion_address(hostname.read_text())
    assert server_key(server_line) == pair.public_key
    assert stat.S_IMODE((client_dir / "courier.auth_private").stat().st_mode) == 0o600

    authorized = tor_dir / "cairn-courier" / "authorized_clients"
    (authorized / "courier.auth").write_text(server_line + "\n")
    damaged = server_line[:-4]
    (authorized / "damaged.auth").write_text(damaged + "\n")

    log = tmp_path / "tor-2.log"
    with running([tor, "-f", str(torrc)], log) as process:
        wait_for(answers(port), process, log)
        view = control(port, "ONION_CLIENT_AUTH_VIEW")  # answered once start-up is done
    private_b64 = base64.b64encode(pair.private_key).decode()
    assert f"CLIENT {address} x25519:{private_b64}" in view
    problems = warnings(log.read_text())
    assert len(problems) == 1 and damaged.split(":")[-1] in problems[0], problems


def test_the_tor_containers_entrypoint_guards_the_courier_onion(tor: str, tmp_path: Path) -> None:
    """deploy/tor/entrypoint.sh, run as Docker would but on temporary directories."""
    port = free_port()
    torrc, tor_dir = render_torrc(
        DEPLOY / "tor" / "torrc.default",
        tmp_path,
        "DisableNetwork 1",
        f"ControlPort 127.0.0.1:{port}",
    )
    names, clients = tmp_path / "cairn-onion", tmp_path / "courier-clients"
    names.mkdir()
    clients.mkdir()
    env = {
        **os.environ,
        "CAIRN_TORRC": str(torrc),
        "CAIRN_TOR_DIR": str(tor_dir),
        "CAIRN_COURIER_CLIENTS": str(clients),
        "CAIRN_ONION_NAMES": str(names),
    }
    entrypoint = ["sh", str(DEPLOY / "tor" / "entrypoint.sh")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*entrypoint, *args], env=env, capture_output=True, text=True, timeout=120
        )

    # First start: the keys are made with the network off; the addresses are published.
    first = run("addresses")
    assert first.returncode == 0, first.stderr
    source = (names / "source.hostname").read_text().strip()
    courier = (names / "courier.hostname").read_text().strip()
    assert re.fullmatch(ONION_HOSTNAME, source) and re.fullmatch(ONION_HOSTNAME, courier)
    assert first.stdout.split() == ["source", "onion:", source, "courier", "onion:", courier]
    for published in names.iterdir():  # intake's user reads them (the tor user writes them)
        assert stat.S_IMODE(published.stat().st_mode) == 0o644
    assert run("addresses").stdout == first.stdout  # the keys are kept: the same addresses

    # No courier client key: tor would publish the courier onion to anyone, so it does not start.
    refused = run()
    assert refused.returncode == 78
    assert "no courier client key" in refused.stderr and "intake onion-auth" in refused.stderr

    made = intake("onion-auth", "--name", "courier", "--onion", courier)
    assert made.returncode == 0, made.stderr
    server_line = made.stdout.splitlines()[0]
    (clients / "courier.auth").write_text(server_line + "\n")
    authorized = tor_dir / "cairn-courier" / "authorized_clients"
    (authorized / "revoked.auth").write_text(server_line + "\n")  # no longer in courier-clients

    log = tmp_path / "entrypoint.log"
    with running(entrypoint, log, env) as process:
        wait_for(answers(port), process, log)
        assert "250 OK" in control(port, "GETINFO version")  # start-up is done
        assert process.poll() is None
    assert sorted(p.name for p in authorized.iterdir()) == ["courier.auth"]
    assert stat.S_IMODE((authorized / "courier.auth").stat().st_mode) == 0o600
    assert f"source onion {source}, 1 courier client key(s)" in log.read_text()
    assert warnings(log.read_text()) == [], log.read_text()
