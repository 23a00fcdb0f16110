"""Requests over raw sockets to a real server, optionally opened by the PROXY protocol line Tor
writes for each stream, and the checks of the plain page every answer must be."""

from __future__ import annotations

import dataclasses
import http.client
import socket
from collections.abc import Mapping
from urllib.parse import urlencode

import requests

from intake.headers import SECURITY_HEADERS
from intake.sessions import COOKIE_NAME
from tests.support.intake import CSRF

TIMEOUT = 30
CIRCUIT_1 = "fc00:dead:beef:4dad::0:1"
CIRCUIT_2 = "fc00:dead:beef:4dad::0:2"
Headers = Mapping[str, str]


def assert_plain_page(status: int, headers: Headers, body: str, expected: int, words: str) -> None:
    """A friendly HTML page with every security header: no traceback, no script, no banner."""
    assert status == expected, body[:2000]
    assert headers.get("Content-Type", "").startswith("text/html")
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name
    assert "Server" not in headers
    assert words in body
    assert "Nothing was stored" in body or expected == 200
    for leak in ("Traceback", 'File "/', "werkzeug", "RateLimitExceeded", "<script"):
        assert leak not in body


@dataclasses.dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: str


def http_request(
    method: str,
    path: str,
    port: int,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    keep_alive: bool = False,
) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def read_response(sock: socket.socket, method: str = "POST") -> RawResponse:
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    body = response.read().decode(errors="replace")
    return RawResponse(response.status, response.headers, body)


def connect(port: int, source_ip: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), TIMEOUT, (source_ip, 0))
    sock.settimeout(TIMEOUT)
    return sock


def raw_exchange(
    port: int,
    request: bytes,
    proxy_line: str | None = None,
    source_ip: str = "127.0.0.1",
) -> RawResponse:
    """One request on its own connection, optionally opened by a PROXY protocol v1 line."""
    with connect(port, source_ip) as sock:
        sock.sendall((proxy_line.encode() if proxy_line else b"") + request)
        return read_response(sock)


def proxy_line(circuit: str) -> str:
    """What Tor writes first on each stream with HiddenServiceExportCircuitID haproxy."""
    return f"PROXY TCP6 {circuit} ::1 1 80\r\n"


@dataclasses.dataclass
class LoginForm:
    """A session cookie and CSRF token for POST /login, fetched once from a server."""

    cookie: str
    csrf: str

    @classmethod
    def fetch(cls, base_url: str) -> LoginForm:
        response = requests.get(base_url + "/login", timeout=TIMEOUT)
        assert response.status_code == 200
        match = CSRF.search(response.text)
        assert match
        return cls(response.cookies[COOKIE_NAME], match.group(1))

    def request(self, port: int, keep_alive: bool = False) -> bytes:
        """A POST /login with a wrong codename: a 403 page unless a budget is spent."""
        body = urlencode({"csrf_token": self.csrf, "codename": "not a real codename"}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"{COOKIE_NAME}={self.cookie}",
        }
        return http_request("POST", "/login", port, headers, body, keep_alive)
