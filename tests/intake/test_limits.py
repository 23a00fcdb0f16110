"""I6 and I8 at the edges: rate limits that never key on the client's IP, the storage high-water
mark, the size limit, the honeypot, the minimum first message and the purge of idle sources.

Budgets are global per endpoint, per Tor circuit (PROXY protocol, gunicorn --proxy-protocol) and
per session. Behind an onion service every client is 127.0.0.1, so an IP key would be one budget
for everyone; these tests show that the address never matters. Every refusal is a plain page with
the security headers, and a refused, oversized or interrupted submission leaves no rows behind.

All traffic goes to servers on loopback that the tests start themselves, with few requests each.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gc
import http.client
import io
import re
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from limits import parse
from limits.storage import MemoryStorage, Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import delete, select, update
from sqlalchemy.orm import sessionmaker
from werkzeug.test import TestResponse

import intake
from intake import create_app
from intake.db import make_engine
from intake.instance import Instance
from intake.limits import ProcessMemoryStorage, tor_circuit
from intake.models import Chunk, Item, Source, Submission
from intake.sessions import COOKIE_NAME
from intake.store import Store, today
from keys import courier_api as wire
from keys.courier import KEY_HEADER
from tests.support.forms import FORM_RETURNED
from tests.support.intake import CSRF, VENV_BIN, LiveServer, table_counts
from tests.support.ports import free_port
from tests.support.raw_http import (
    CIRCUIT_1,
    CIRCUIT_2,
    TIMEOUT,
    LoginForm,
    RawResponse,
    assert_plain_page,
    connect,
    http_request,
    proxy_line,
    raw_exchange,
    read_response,
)

MIB = 1 << 20
INTAKE_DIR = Path(intake.__file__).parent


# Helpers


def row_counts(instance: Instance) -> dict[str, int]:
    """How many rows each table of tip data holds."""
    return table_counts(instance)


def assert_page(response: TestResponse | requests.Response, expected: int, words: str) -> None:
    if isinstance(response, requests.Response):
        assert_plain_page(response.status_code, response.headers, response.text, expected, words)
    else:
        body = response.get_data(as_text=True)
        assert_plain_page(response.status_code, response.headers, body, expected, words)


class ClientSource:
    """A source walking the pages through the Flask test client (no JavaScript, one cookie jar)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = ""

    def _remember(self, response: TestResponse) -> TestResponse:
        match = CSRF.search(response.get_data(as_text=True))
        if match:
            self.csrf = match.group(1)
        return response

    def get(self, path: str) -> TestResponse:
        return self._remember(self.client.get(path))

    def post(self, path: str, data: dict[str, str] | None = None) -> TestResponse:
        return self._remember(
            self.client.post(path, data={"csrf_token": self.csrf, **(data or {})})
        )

    def start(self) -> None:
        self.get("/")
        response = self.post("/start")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert self.post("/written").status_code == 303
        assert self.get("/submit").status_code == 200

    def submit(
        self, message: str = "", files: list[tuple[str, bytes]] | None = None, website: str = ""
    ) -> TestResponse:
        data: dict[str, object] = {"csrf_token": self.csrf, "website": website, "message": message}
        if files:
            data["files"] = [(io.BytesIO(content), name, "text/plain") for name, content in files]
        return self._remember(
            self.client.post("/submit", data=data, content_type="multipart/form-data")
        )


def login_form(client: FlaskClient) -> str:
    """The CSRF token of the check-back form; the test client keeps the session cookie."""
    match = CSRF.search(client.get("/login").get_data(as_text=True))
    assert match
    return match.group(1)


def post_login(client: FlaskClient, csrf: str, **environ: str) -> TestResponse:
    return client.post(
        "/login",
        data={"csrf_token": csrf, "codename": "any words at all"},
        environ_base=environ,
    )


def closed_variant(instance: Instance, **settings: object) -> Flask:
    """A second app on the same database and secrets, with other settings."""
    config = dataclasses.replace(instance.config, **settings)  # type: ignore[arg-type]
    return create_app(dataclasses.replace(instance, config=config))


def move_session(source: ClientSource, client: FlaskClient) -> ClientSource:
    """The same browser session, talking to another app on the same database."""
    cookie = source.client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    client.set_cookie(COOKIE_NAME, cookie.value)
    moved = ClientSource(client)
    moved.csrf = source.csrf
    return moved


# I6: flood, global budgets per endpoint, never keyed on the client IP


@pytest.mark.slow
def test_i6_flood_gets_friendly_429_pages_from_gunicorn(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    instance = make_instance(global_post_limit="5/minute")
    server = start_server(instance)
    form = LoginForm.fetch(server.base_url)
    for _ in range(5):
        response = raw_exchange(server.port, form.request(server.port))
        assert response.status == 403, response.body  # a wrong codename, within budget
    flooded = raw_exchange(server.port, form.request(server.port))
    assert_plain_page(flooded.status, flooded.headers, flooded.body, 429, "Very busy right now")
    # Pages have their own budget per endpoint: the landing page still answers.
    landing = requests.get(server.base_url + "/", timeout=TIMEOUT)
    assert_page(landing, 200, "Tip line")
    assert row_counts(instance)["sources"] == 0
    assert "Traceback" not in server.log_path.read_text(errors="replace")


def test_i6_budgets_are_per_endpoint(make_instance: Callable[..., Instance]) -> None:
    client = create_app(make_instance(global_page_limit="3/minute")).test_client()
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert_page(client.get("/"), 429, "Very busy right now")
    assert client.get("/login").status_code == 200  # another endpoint, another budget


def test_i6_forged_posts_spend_the_budget_too(make_instance: Callable[..., Instance]) -> None:
    """The limiter runs before the CSRF check: a flood of token-less POSTs cannot go unmetered."""
    client = create_app(make_instance(global_post_limit="3/minute")).test_client()
    for _ in range(3):
        assert client.post("/login", data={"codename": "x"}).status_code == 400
    assert_page(client.post("/login", data={"codename": "x"}), 429, "Very busy right now")


def test_i6_the_courier_budget_is_spent_per_courier_key(
    make_instance: Callable[..., Instance],
) -> None:
    """Past its budget a courier key is turned away before any signature is checked; another
    key, and the source pages (which spend budgets of their own), are not."""
    client = create_app(make_instance(courier_limit="2/minute")).test_client()
    fetch = wire.PREFIX + wire.BUNDLE
    for _ in range(2):
        assert client.get(fetch).status_code == 401  # unsigned, refused by the view
    assert client.get(fetch).status_code == 429
    assert client.get(fetch, headers={KEY_HEADER: "another-courier"}).status_code == 401
    assert client.get("/").status_code == 200


def test_i6_limiter_keys_never_on_remote_addr(make_instance: Callable[..., Instance]) -> None:
    """Clients that look different by address share one global budget."""
    client = create_app(make_instance(global_post_limit="4/minute")).test_client()
    csrf = login_form(client)
    addresses = ["127.0.0.1", "10.0.0.7", "192.0.2.44", "2001:db8::9"]
    for address in addresses:
        assert post_login(client, csrf, REMOTE_ADDR=address).status_code == 403
    for address in [*addresses, "198.51.100.3"]:
        assert_page(post_login(client, csrf, REMOTE_ADDR=address), 429, "Very busy right now")


@pytest.mark.slow
def test_i6_source_addresses_share_one_budget_on_gunicorn(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    """Real connections from 127.0.0.1 and 127.0.0.2 draw on the same global budget."""
    instance = make_instance(global_post_limit="4/minute")
    server = start_server(instance)
    form = LoginForm.fetch(server.base_url)
    for source_ip in ("127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2"):
        response = raw_exchange(server.port, form.request(server.port), source_ip=source_ip)
        assert response.status == 403, (source_ip, response.body)
    for source_ip in ("127.0.0.2", "127.0.0.1"):
        response = raw_exchange(server.port, form.request(server.port), source_ip=source_ip)
        assert response.status == 429, source_ip


def test_i6_no_code_reads_the_client_address() -> None:
    """A static check: nothing in intake/ asks for the client's address, except the one line
    that reads a Tor circuit id, which gunicorn puts in REMOTE_ADDR only from a PROXY line."""
    forbidden = re.compile(
        r"remote_addr|get_remote_address|access_route|x[-_]forwarded|forwarded_for|"
        r"x[-_]real[-_]ip|ProxyFix",
        re.IGNORECASE,
    )
    allowed = {("limits.py", 'peer = str(request.environ.get("REMOTE_ADDR", ""))')}
    hits = set()
    for path in sorted(INTAKE_DIR.rglob("*")):
        if path.suffix not in {".py", ".html", ".txt", ".cfg", ".ini", ".json"}:
            continue
        for line in path.read_text().splitlines():
            if forbidden.search(line):
                hits.add((path.name, line.strip()))
    assert hits == allowed
    assert "get_remote_address" not in (INTAKE_DIR / "limits.py").read_text()


def test_i6_circuit_key_comes_only_from_the_proxy_protocol(
    make_instance: Callable[..., Instance],
) -> None:
    app = create_app(make_instance())
    cases: list[tuple[dict[str, str], str | None]] = [
        ({"REMOTE_ADDR": "127.0.0.1"}, None),
        # An address in Tor's prefix means nothing without a PROXY line (it cannot be forged).
        ({"REMOTE_ADDR": CIRCUIT_1}, None),
        ({"REMOTE_ADDR": "192.0.2.1", "PROXY_PROTOCOL": "TCP4"}, None),
        ({"REMOTE_ADDR": "2001:db8::1", "PROXY_PROTOCOL": "TCP6"}, None),
        ({"REMOTE_ADDR": CIRCUIT_1, "PROXY_PROTOCOL": "TCP6"}, CIRCUIT_1),
    ]
    for environ, expected in cases:
        with app.test_request_context("/", environ_base=environ):
            assert tor_circuit() == expected, environ


# I6: per Tor circuit, through the PROXY protocol


@pytest.mark.slow
def test_i6_two_tor_circuits_are_limited_separately(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    instance = make_instance(circuit_limit="3/minute", global_post_limit="100/minute")
    server = start_server(instance, "--proxy-protocol")
    port = server.port
    form = LoginForm.fetch(server.base_url)  # no PROXY line: served as plain HTTP (see below)
    for _ in range(3):
        assert raw_exchange(port, form.request(port), proxy_line(CIRCUIT_1)).status == 403
    flooded = raw_exchange(port, form.request(port), proxy_line(CIRCUIT_1))
    assert_plain_page(flooded.status, flooded.headers, flooded.body, 429, "Very busy right now")
    # Circuit 2 has its own budget, untouched by circuit 1.
    for _ in range(3):
        assert raw_exchange(port, form.request(port), proxy_line(CIRCUIT_2)).status == 403
    assert raw_exchange(port, form.request(port), proxy_line(CIRCUIT_2)).status == 429
    assert raw_exchange(port, form.request(port), proxy_line(CIRCUIT_1)).status == 429

    # Without a PROXY line (a client on the host itself, never one through Tor, which always
    # sends one) gunicorn serves plain HTTP: there is no circuit, so only the global and
    # session budgets apply, and the address is still never a key.
    for _ in range(2):
        assert raw_exchange(port, form.request(port)).status == 403
    # Only the allowed proxy (loopback 127.0.0.1 / ::1) may speak the PROXY protocol: another
    # peer cannot forge circuit ids, gunicorn refuses it before the app sees the request.
    forged = raw_exchange(port, form.request(port), proxy_line(CIRCUIT_2), "127.0.0.2")
    assert forged.status == 403
    assert "Very busy" not in forged.body
    # A garbled PROXY line is a plain 400, never a 500.
    garbled = raw_exchange(port, form.request(port), "PROXY TCP6 not-an-address ::1 1 80\r\n")
    assert garbled.status == 400
    assert "Traceback" not in server.log_path.read_text(errors="replace")


@pytest.mark.slow
def test_i6_keep_alive_cannot_escape_the_circuit_budget(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    """gunicorn reads the PROXY line only on a connection's first request. Tor Browser reuses a
    stream for several requests, so every request on it must still count for its circuit: either
    the server closes the connection after each response (Tor opens a new stream, with a new
    PROXY line), or the later requests are charged to the same circuit."""
    instance = make_instance(circuit_limit="3/minute", global_post_limit="100/minute")
    server = start_server(instance, "--proxy-protocol")
    port = server.port
    form = LoginForm.fetch(server.base_url)
    statuses = []
    sock = connect(port)
    sock.sendall(proxy_line(CIRCUIT_1).encode())
    try:
        for _ in range(4):
            try:
                sock.sendall(form.request(port, keep_alive=True))
                response = read_response(sock)
            except (http.client.RemoteDisconnected, ConnectionError):
                sock.close()  # the server closed the stream: open a new one, as Tor would
                sock = connect(port)
                sock.sendall(proxy_line(CIRCUIT_1).encode() + form.request(port, True))
                response = read_response(sock)
            statuses.append(response.status)
            if response.headers.get("Connection", "").lower() == "close":
                sock.close()
                sock = connect(port)
                sock.sendall(proxy_line(CIRCUIT_1).encode())
    finally:
        sock.close()
    assert statuses == [403, 403, 403, 429]


@pytest.mark.slow
def test_i6_one_circuit_cannot_use_up_a_pages_budget_for_everyone(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    """Page views are charged to their circuit before the page's global budget, so a flooding
    circuit's refused views spend none of it; and to a budget of their own, so reading pages
    leaves the circuit's POSTs (its submission) alone."""
    instance = make_instance(
        circuit_limit="3/minute", global_page_limit="6/minute", global_post_limit="100/minute"
    )
    server = start_server(instance, "--proxy-protocol")
    port = server.port

    def view(circuit: str) -> RawResponse:
        return raw_exchange(port, http_request("GET", "/", port), proxy_line(circuit))

    assert [view(CIRCUIT_1).status for _ in range(3)] == [200] * 3
    for _ in range(10):
        flooded = view(CIRCUIT_1)
    assert_plain_page(flooded.status, flooded.headers, flooded.body, 429, "Very busy right now")
    assert [view(CIRCUIT_2).status for _ in range(3)] == [200] * 3
    form = LoginForm.fetch(server.base_url)
    assert raw_exchange(port, form.request(port), proxy_line(CIRCUIT_1)).status == 403


# I6: per session


def test_i6_session_budget_limits_one_session_only(make_instance: Callable[..., Instance]) -> None:
    """A session's budget covers all its POSTs: confirming the codename (/written) spends one."""
    instance = make_instance(session_limit="4/minute", global_post_limit="100/minute")
    app = create_app(instance)
    first, second = ClientSource(app.test_client()), ClientSource(app.test_client())
    first.start()
    for part in range(3):
        assert first.submit(f"first tip, part {part}").status_code == 200
    before = row_counts(instance)
    assert_page(first.submit("first tip, one part too many"), 429, "Very busy right now")
    assert row_counts(instance) == before  # the refused one stored nothing
    second.start()
    assert_page(second.submit("another source, another budget"), 200, "Your tip was received")
    assert row_counts(instance)["submissions"] == 4


# I6: the storage high-water mark


def test_i6_past_the_high_water_mark_submissions_get_503(
    make_instance: Callable[..., Instance],
) -> None:
    """With a mark of about one byte, the first tip fits and everything after it is closed."""
    instance = make_instance(max_stored_gib=1e-9)
    app = create_app(instance)
    source = ClientSource(app.test_client())
    source.start()
    assert_page(source.submit("this tip crosses the mark"), 200, "Your tip was received")
    before = row_counts(instance)
    assert_page(source.submit("and this one must wait"), 503, "Temporarily closed")
    newcomer = ClientSource(app.test_client())
    newcomer.get("/")
    assert_page(newcomer.post("/start"), 503, "Temporarily closed")
    assert row_counts(instance) == before
    assert_page(newcomer.get("/"), 200, "Tip line")
    assert newcomer.get("/login").status_code == 200


@pytest.mark.parametrize(
    "closing",
    [{"max_stored_gib": 0}, {"min_free_disk_mib": 1 << 40}],
    ids=["max_stored_gib=0", "min_free_disk_mib=huge"],
)
def test_i6_closed_instance_gets_503_and_stores_nothing(
    make_instance: Callable[..., Instance], closing: dict[str, object]
) -> None:
    instance = make_instance()
    source = ClientSource(create_app(instance).test_client())
    source.start()
    assert source.submit("sent while the line was open").status_code == 200
    before = row_counts(instance)

    closed = closed_variant(instance, **closing)
    same_source = move_session(source, closed.test_client())
    assert_page(same_source.submit("sent while closed"), 503, "Temporarily closed")
    big = [("big.txt", b"x" * 300_000)]
    assert_page(same_source.submit("with a file", big), 503, "Temporarily closed")
    newcomer = ClientSource(closed.test_client())
    assert_page(newcomer.get("/"), 200, "Tip line")
    assert_page(newcomer.post("/start"), 503, "Temporarily closed")
    assert row_counts(instance) == before


@pytest.mark.slow
def test_i6_closed_instance_gets_503_from_gunicorn(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    instance = make_instance(max_stored_gib=0)
    server = start_server(instance)
    source = server.source()
    assert_page(source.get("/"), 200, "Tip line")
    assert_page(source.post("/start"), 503, "Temporarily closed")
    assert row_counts(instance)["sources"] == 0


# I8: the size limit


def test_i8_over_the_size_limit_gets_413_and_stores_nothing(
    make_instance: Callable[..., Instance],
) -> None:
    instance = make_instance(max_upload_mib=1)
    source = ClientSource(create_app(instance).test_client())
    source.start()
    response = source.submit("a message", [("big.bin", b"\0" * (2 * MIB))])
    assert_page(response, 413, FORM_RETURNED)  # the form comes back, with the message
    assert "1 MB" in response.get_data(as_text=True)
    assert ">a message</textarea>" in response.get_data(as_text=True)
    assert row_counts(instance) == {"sources": 1, "submissions": 0, "items": 0, "chunks": 0}
    assert source.submit("a small one still goes through").status_code == 200


def _multipart_head(boundary: str, csrf: str, message: str, file_name: str) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{csrf}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="website"\r\n\r\n\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\n{message}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="{file_name}"\r\nContent-Type: application/octet-stream\r\n\r\n',
    ]
    return "".join(parts).encode()


def _chunked_upload_request(
    port: int, source_cookie: str, boundary: str, content_type_boundary: str | None = None
) -> bytes:
    lines = [
        "POST /submit HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Type: multipart/form-data; boundary={content_type_boundary or boundary}",
        "Transfer-Encoding: chunked",
        f"Cookie: {COOKIE_NAME}={source_cookie}",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@pytest.mark.slow
def test_i8_streamed_upload_over_the_limit_gets_413_and_stores_nothing(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    """Through gunicorn with a chunked body (no Content-Length, so the size is learnt only while
    reading): the server stops at the limit, answers 413 and deletes what it had begun to store."""
    instance = make_instance(max_upload_mib=1)
    server = start_server(instance)
    source = server.source()
    source.start()
    cookie = source.http.cookies[COOKIE_NAME]
    boundary = secrets.token_hex(16)
    head = _multipart_head(boundary, source.csrf, "a message before the file", "big.bin")
    block = secrets.token_bytes(64 * 1024)  # incompressible, like real documents
    answered = threading.Event()
    sent = [0]

    def send_body(sock: socket.socket) -> None:
        try:
            sock.sendall(_chunked_upload_request(server.port, cookie, boundary) + _chunk(head))
            for _ in range(32):  # 2 MiB of file content, unless the server answers first
                if answered.is_set():
                    return
                sock.sendall(_chunk(block))
                sent[0] += len(block)
            tail = f"\r\n--{boundary}--\r\n".encode()
            sock.sendall(_chunk(tail) + b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection after answering: expected

    with connect(server.port) as sock:
        sender = threading.Thread(target=send_body, args=(sock,), daemon=True)
        sender.start()
        try:
            response = read_response(sock)
        finally:
            answered.set()
            sender.join(TIMEOUT)
    assert_plain_page(response.status, response.headers, response.body, 413, "larger than the")
    assert "1 MB" in response.body and ">a message before the file</textarea>" in response.body
    assert sent[0] <= 2 * MIB
    assert row_counts(instance) == {"sources": 1, "submissions": 0, "items": 0, "chunks": 0}
    assert source.submit("the server is fine afterwards").status_code == 200
    assert row_counts(instance)["submissions"] == 1


@pytest.mark.slow
def test_i8_interrupted_upload_leaves_no_trace(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    """A source whose connection drops mid-upload: the rows already written are removed."""
    instance = make_instance()
    server = start_server(instance)
    source = server.source()
    source.start()
    cookie = source.http.cookies[COOKIE_NAME]
    boundary = secrets.token_hex(16)
    head = _multipart_head(boundary, source.csrf, "a message before the file", "doc.pdf")
    block = secrets.token_bytes(256 * 1024)
    with connect(server.port) as sock:
        sock.sendall(_chunked_upload_request(server.port, cookie, boundary) + _chunk(head))
        for _ in range(12):  # 3 MiB: at least one 1 MiB ciphertext row reaches the database
            sock.sendall(_chunk(block))
        deadline = time.monotonic() + TIMEOUT
        while row_counts(instance)["chunks"] == 0:
            assert time.monotonic() < deadline, "the upload never reached the database"
            time.sleep(0.05)
        sock.shutdown(socket.SHUT_RDWR)
    deadline = time.monotonic() + TIMEOUT
    while (counts := row_counts(instance)) != {
        "sources": 1,
        "submissions": 0,
        "items": 0,
        "chunks": 0,
    }:
        assert time.monotonic() < deadline, counts
        time.sleep(0.05)
    assert "Traceback" not in server.log_path.read_text(errors="replace")


# I6: the honeypot and the minimum first message


def test_i6_honeypot_gets_success_page_but_stores_nothing(
    make_instance: Callable[..., Instance],
) -> None:
    instance = make_instance()
    source = ClientSource(create_app(instance).test_client())
    source.start()
    files = [("offer.txt", b"buy now\n" * 1000)]
    response = source.submit("cheap pills", files, website="https://spam.example")
    assert_page(response, 200, "Your tip was received")
    assert row_counts(instance) == {"sources": 1, "submissions": 0, "items": 0, "chunks": 0}
    engine = make_engine(instance.database_url)
    with engine.connect() as connection:
        assert connection.scalar(select(Source.has_submitted)) is False  # still purgeable
    engine.dispose()


def test_i6_minimum_first_message_length(make_instance: Callable[..., Instance]) -> None:
    instance = make_instance(min_first_message_chars=20)
    source = ClientSource(create_app(instance).test_client())
    source.start()
    response = source.submit("hello")
    assert_page(response, 400, "at least 20 characters")
    assert "Traceback" not in response.get_data(as_text=True)
    assert_page(source.submit("", [("a.txt", b"a file alone")]), 400, "at least 20 characters")
    assert row_counts(instance) == {"sources": 1, "submissions": 0, "items": 0, "chunks": 0}
    assert_page(source.submit("The minister signed it on Monday."), 200, "Your tip was received")
    # A follow-up is not a first message: short is fine.
    assert_page(source.submit("ps: 3pm"), 200, "Your tip was received")
    assert row_counts(instance)["submissions"] == 2


# I6: purge of sources that never submitted, and of dead uploads


@contextlib.contextmanager
def _store(instance: Instance) -> Iterator[Store]:
    engine = make_engine(instance.database_url)
    try:
        yield Store(sessionmaker(engine, expire_on_commit=False))
    finally:
        engine.dispose()


def test_i6_sweep_purges_idle_sources_and_dead_uploads(
    make_instance: Callable[..., Instance], database_url: str
) -> None:
    instance = make_instance(database_url)
    with _store(instance) as store:
        _check_sweep(store)


def _check_sweep(store: Store) -> None:
    recipient = "age1" + "q" * 58

    def source(days_old: int) -> str:
        source_id = store.create_source(secrets.token_hex(32), recipient)
        with store.sessions.begin() as session:
            session.execute(
                update(Source)
                .where(Source.id == source_id)
                .values(created_day=today() - dt.timedelta(days=days_old))
            )
        return source_id

    def upload(source_id: str, complete: bool) -> tuple[str, str]:
        submission = store.submission_writer(source_id)
        item_id = submission.add_item("message")
        blob = submission.blob_writer(item_id)
        blob.write(secrets.token_bytes(MIB + 1000))  # two rows: stored before completion
        submission.finish_item(item_id, blob.close())
        if complete:
            submission.complete()
        else:
            submission.settle()  # what the sweep sees of an upload that died here
        assert submission.submission_id is not None
        return submission.submission_id, item_id

    def expire(submission_id: str) -> None:
        with store.sessions.begin() as session:
            session.execute(
                update(Submission)
                .where(Submission.id == submission_id)
                .values(lease_until=int(time.time()) - 1)
            )

    idle_old = source(days_old=2)
    idle_new = source(days_old=0)
    sent_old = source(days_old=2)
    upload(sent_old, complete=True)
    dead_source = source(days_old=0)
    dead, dead_item = upload(dead_source, complete=False)
    expire(dead)
    live_source = source(days_old=0)
    live, live_item = upload(live_source, complete=False)
    # An old source in the middle of its first upload has not submitted yet, but its upload is
    # alive: deleting the source would destroy the upload under the source's feet.
    slow_source = source(days_old=2)
    slow, slow_item = upload(slow_source, complete=False)

    store.sweep(unsubmitted_source_days=1)

    with store.sessions() as session:
        sources = set(session.scalars(select(Source.id)))
        submissions = set(session.scalars(select(Submission.id)))
        items = set(session.scalars(select(Item.id)))
        chunk_items = set(session.scalars(select(Chunk.item_id)))
    assert idle_old not in sources
    assert {idle_new, sent_old, dead_source, live_source, slow_source} <= sources
    assert dead not in submissions
    assert dead_item not in items
    assert dead_item not in chunk_items
    assert {live, slow} <= submissions
    assert {live_item, slow_item} <= items
    assert {live_item, slow_item} <= chunk_items
    assert len(submissions) == 3  # the complete one, the live one, the slow one

    # Once the slow upload's lease has run out, it and its idle source go in the next sweep.
    expire(slow)
    store.sweep(unsubmitted_source_days=1)
    with store.sessions() as session:
        sources = set(session.scalars(select(Source.id)))
        assert slow_source not in sources
        assert session.get(Submission, slow) is None
        assert not session.scalars(select(Chunk.item_id).where(Chunk.item_id == slow_item)).all()
        assert live_source in sources


def _age_sources(instance: Instance, days: int) -> None:
    """Make every source ``days`` old, as if the sweep's day had come for it."""
    with _store(instance) as store, store.sessions.begin() as session:
        session.execute(update(Source).values(created_day=today() - dt.timedelta(days=days)))


def test_i8_the_sweep_keeps_a_source_while_it_is_logged_in(
    make_instance: Callable[..., Instance], database_url: str
) -> None:
    """A source that never submitted is purged after a day, but not under a live session: it
    could only meet an error on its first submission. Once logged out, it is purged."""
    instance = make_instance(database_url)
    app = create_app(instance)
    writing = ClientSource(app.test_client())
    writing.start()
    leaving = ClientSource(app.test_client())
    leaving.start()
    assert leaving.post("/logout").status_code == 200
    _age_sources(instance, days=2)
    app.extensions["cairn"].store.sweep(instance.config.unsubmitted_source_days)
    assert row_counts(instance)["sources"] == 1  # the one still logged in
    assert_page(writing.submit("Sent the day after the codename."), 200, "Your tip was received")
    assert row_counts(instance) == {"sources": 1, "submissions": 1, "items": 1, "chunks": 1}


def test_i8_a_submission_whose_codename_was_purged_gets_a_clear_page(
    make_instance: Callable[..., Instance],
) -> None:
    """Should the sweep purge a source anyway (it raced a new session), its submission is told
    the codename is gone and its session ends: a 410 page, not a 500, and nothing stored."""
    instance = make_instance()
    source = ClientSource(create_app(instance).test_client())
    source.start()
    with _store(instance) as store, store.sessions.begin() as session:
        session.execute(delete(Source))
    response = source.submit("A tip for a codename that is gone.")
    assert_page(response, 410, "never used to send anything is removed after 1 day")
    assert row_counts(instance) == dict.fromkeys(("sources", "submissions", "items", "chunks"), 0)
    assert source.client.get_cookie(COOKIE_NAME) is None
    assert source.get("/submit").status_code == 403


# Limiter storage: memory for one process, Redis for several


@pytest.mark.slow
def test_i6_memory_limiter_storage_holds_in_one_threaded_process(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    """The default in-memory counters are exact under concurrent requests to gunicorn threads."""
    instance = make_instance(global_post_limit="5/minute")
    assert instance.config.limiter_storage_uri == "memory://"
    server = start_server(instance)
    form = LoginForm.fetch(server.base_url)
    with ThreadPoolExecutor(12) as pool:
        statuses = list(
            pool.map(
                lambda _: raw_exchange(server.port, form.request(server.port)).status, range(12)
            )
        )
    assert sorted(statuses) == [403] * 5 + [429] * 7


def _thread_starts_while_hitting(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> int:
    """Hits spaced past the library's 10 ms timer: how many threads they start."""
    starts = []
    start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda t: (starts.append(t), start(t))[1])
    limiter = FixedWindowRateLimiter(storage)
    for _ in range(5):
        limiter.hit(parse("100/minute"), "cairn", "budget")
        time.sleep(0.03)
    monkeypatch.undo()
    return len(starts)


def test_i6_one_process_counters_start_no_thread_per_request(
    make_instance: Callable[..., Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    """limits' own memory storage restarts a timer thread after each quiet 10 ms (a thread per
    few submissions under load); the default storage here expires counters from one thread."""
    app = create_app(make_instance())  # limiter_storage_uri "memory://"
    storage = next(iter(app.extensions["limiter"])).storage
    assert isinstance(storage, ProcessMemoryStorage)
    assert _thread_starts_while_hitting(storage, monkeypatch) == 0
    assert _thread_starts_while_hitting(MemoryStorage(), monkeypatch) >= 2  # the library's


def test_i6_one_process_counters_are_dropped_once_expired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Memory stays bounded however many sessions and circuits came and went."""
    monkeypatch.setattr(intake.limits, "EXPIRY_INTERVAL", 0.05)
    storage = ProcessMemoryStorage()
    for key in ("session:a", "circuit:b"):
        storage.incr(key, expiry=0.1)
    assert set(storage.storage) == {"session:a", "circuit:b"}
    deadline = time.monotonic() + 5
    while storage.storage and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not storage.storage and not storage.expirations
    expiry = storage.timer
    del storage  # an app's storage, once the app is gone: its thread ends with it
    gc.collect()
    expiry.join(timeout=5)
    assert not expiry.is_alive()


def _flushed(redis_url: str) -> str:
    import redis

    url = redis_url.rsplit("/", 1)[0] + "/3"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def test_i6_redis_limiter_storage_shares_one_budget_between_apps(
    make_instance: Callable[..., Instance], redis_url: str
) -> None:
    url = _flushed(redis_url)
    instance = make_instance(limiter_storage_uri=url, global_post_limit="6/minute")
    first, second = create_app(instance).test_client(), create_app(instance).test_client()
    csrf_first, csrf_second = login_form(first), login_form(second)
    for _ in range(3):
        assert post_login(first, csrf_first).status_code == 403
        assert post_login(second, csrf_second).status_code == 403
    assert_page(post_login(first, csrf_first), 429, "Very busy right now")
    assert_page(post_login(second, csrf_second), 429, "Very busy right now")


@pytest.mark.slow
def test_i6_redis_limiter_storage_shares_one_budget_between_servers(
    make_instance: Callable[..., Instance],
    start_server: Callable[..., LiveServer],
    redis_url: str,
) -> None:
    """Two gunicorn servers told by CAIRN_LIMITER_STORAGE_URI to share one Redis: one budget."""
    url = _flushed(redis_url)
    instance = make_instance(global_post_limit="6/minute")
    assert instance.config.limiter_storage_uri == "memory://"  # the environment overrides it
    env = {"CAIRN_LIMITER_STORAGE_URI": url}
    servers = [start_server(instance, env=env), start_server(instance, env=env)]
    form = LoginForm.fetch(servers[0].base_url)  # sessions live in the shared database
    for _ in range(3):
        for server in servers:
            assert raw_exchange(server.port, form.request(server.port)).status == 403
    for server in servers:
        response = raw_exchange(server.port, form.request(server.port))
        assert_plain_page(response.status, response.headers, response.body, 429, "Very busy")


def test_i6_intake_check_reports_unreachable_redis(
    make_instance: Callable[..., Instance], redis_url: str
) -> None:
    instance = make_instance()
    intake_cli = str(VENV_BIN / "intake")

    def run(command: str, storage: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [intake_cli, command, "--instance", str(instance.path), "--port", str(free_port())]
            if command == "serve"
            else [intake_cli, command, "--instance", str(instance.path)],
            env={"CAIRN_LIMITER_STORAGE_URI": storage, "PATH": str(VENV_BIN)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert run("check", _flushed(redis_url)).returncode == 0
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # a port where nothing listens
    started = time.monotonic()
    result = run("check", nobody)
    assert result.returncode != 0
    assert "rate-limit storage" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert time.monotonic() - started < 30
    # The server refuses to start on it too, with the same clear reason.
    served = run("serve", nobody)
    assert served.returncode != 0
    assert "rate-limit storage" in served.stderr
    assert "Traceback" not in served.stderr
