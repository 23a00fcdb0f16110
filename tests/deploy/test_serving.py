"""`intake serve` as the image runs it: the Dockerfile's own HEALTHCHECK command passes against a
real server started with --proxy-protocol (and fails when nothing listens), and only the
addresses in CAIRN_PROXY_ALLOW_IPS (tor's, in docker-compose.yml) may send PROXY lines."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable

from intake.instance import Instance
from tests.support import ROOT
from tests.support.intake import LiveServer
from tests.support.ports import free_port

CIRCUIT = "fc00:dead:beef:4dad::1:2"


def healthcheck_command(port: int) -> list[str]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    [line] = [x for x in text.splitlines() if x.startswith("HEALTHCHECK ")]
    command = json.loads(line.split(" CMD ", 1)[1])
    assert command[0] == "python"
    moved = [part.replace("127.0.0.1:8080", f"127.0.0.1:{port}") for part in command[1:]]
    return [sys.executable, *moved]


def test_the_images_healthcheck_passes_on_a_real_server_and_fails_without_one(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(make_instance(), "--proxy-protocol")
    healthy = subprocess.run(healthcheck_command(server.port), capture_output=True, timeout=30)
    assert healthy.returncode == 0, healthy.stderr
    nobody = subprocess.run(healthcheck_command(free_port()), capture_output=True, timeout=30)
    assert nobody.returncode != 0


def proxied_get(port: int) -> str:
    """A request as tor sends it with HiddenServiceExportCircuitID haproxy."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(
            f"PROXY TCP6 {CIRCUIT} ::1 4242 80\r\n".encode()
            + b"GET /static/style.css HTTP/1.1\r\nHost: x.onion\r\nConnection: close\r\n\r\n"
        )
        reply = b""
        while chunk := connection.recv(65536):
            reply += chunk
    return reply.decode("latin-1").split("\r\n", 1)[0]


def test_only_the_allowed_addresses_may_send_proxy_lines(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    instance = make_instance()
    local = start_server(instance, "--proxy-protocol")  # default: loopback, tor on the host
    assert " 200 " in proxied_get(local.port)
    elsewhere = start_server(
        instance, "--proxy-protocol", env={"CAIRN_PROXY_ALLOW_IPS": "10.213.47.2"}
    )
    assert " 403 " in proxied_get(elsewhere.port)  # 127.0.0.1 is not tor's address there
