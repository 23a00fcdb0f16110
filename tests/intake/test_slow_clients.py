"""Slow and stalled clients, through real gunicorn: a connection that goes quiet is closed and
its thread freed (I8), one Tor circuit can hold only a few threads at once and uploads never all
of them (I6), and a second server can share the courier port but never take over a source
port."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest

from intake.instance import Instance
from tests.support.intake import VENV_BIN, LiveServer, SourceSession, table_counts
from tests.support.ports import free_port
from tests.support.raw_http import (
    CIRCUIT_1,
    CIRCUIT_2,
    assert_plain_page,
    connect,
    http_request,
    proxy_line,
    raw_exchange,
)

STALLED_LOGIN = (
    b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 4000\r\n\r\ncodename=a"
)


@contextmanager
def stalled(port: int, first_bytes: bytes, circuit: str | None = None) -> Iterator[socket.socket]:
    """A connection that sends the start of a request and then nothing."""
    with connect(port) as sock:
        sock.sendall((proxy_line(circuit).encode() if circuit else b"") + first_bytes)
        yield sock


def answer_or_close(sock: socket.socket) -> bytes:
    """What the server says to a stalled connection before closing it (b"" if nothing)."""
    received = bytearray()
    while chunk := sock.recv(1 << 16):
        received += chunk
    return bytes(received)


@pytest.mark.slow
def test_i8_connections_that_go_quiet_are_closed_and_free_their_threads(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    """Two threads, both taken by clients that stopped sending (one inside its headers, one
    inside its body): without an idle limit the next source would wait for ever."""
    server = start_server(make_instance(idle_timeout_seconds=2), "--threads", "2")
    with (
        stalled(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n") as in_headers,
        stalled(server.port, STALLED_LOGIN) as in_body,
    ):
        next_source = raw_exchange(server.port, http_request("GET", "/", server.port))
        assert next_source.status == 200
        assert answer_or_close(in_headers) == b""  # nothing to answer: not even a request yet
        refused = answer_or_close(in_body)
        assert refused.startswith(b"HTTP/1.1 400 "), refused[:200]
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "codename" not in log


LOGIN_HEAD = STALLED_LOGIN[: STALLED_LOGIN.index(b"\r\n\r\n") + 4]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sent_at_once", "trickled"),
    [
        (b"", b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200),
        (LOGIN_HEAD, b"codename=" + b"a" * 3991),
    ],
    ids=["head", "body"],
)
def test_i8_a_request_sent_a_byte_at_a_time_is_cut_off(
    make_instance: Callable[..., Instance],
    start_server: Callable[..., LiveServer],
    sent_at_once: bytes,
    trickled: bytes,
) -> None:
    """A byte every half second never trips the idle limit. So a request's head must be in
    within that limit too, and its body at a least rate after it (here 1 KiB/s: 4,000 bytes in
    about 7 s): otherwise such a client holds its thread for ever."""
    instance = make_instance(idle_timeout_seconds=3, min_upload_kib_per_second=1)
    server = start_server(instance, "--threads", "1")
    cut_off = threading.Event()

    def trickle(sock: socket.socket) -> None:
        try:
            sock.sendall(sent_at_once)
            for byte in trickled:
                sock.sendall(bytes([byte]))
                time.sleep(0.5)
        except OSError:
            cut_off.set()

    with connect(server.port) as trickling:
        sender = threading.Thread(target=trickle, args=(trickling,), daemon=True)
        sender.start()
        time.sleep(1)  # it holds the only thread by now
        next_source = raw_exchange(server.port, http_request("GET", "/", server.port))
        assert next_source.status == 200
        assert answer_or_close(trickling) == b""
    sender.join(10)
    assert cut_off.is_set()


@pytest.mark.slow
def test_i6_one_circuit_can_hold_only_a_few_threads(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    """A circuit's stalled uploads take at most ``circuit_concurrency`` threads; its further
    requests are refused while other circuits are served, and its slots come back once its
    stalled requests end."""
    instance = make_instance(
        circuit_concurrency=2, idle_timeout_seconds=60, circuit_limit="1000/minute"
    )
    server = start_server(instance, "--proxy-protocol")
    port = server.port

    def view(circuit: str) -> int:
        return raw_exchange(port, http_request("GET", "/", port), proxy_line(circuit)).status

    with ExitStack() as stack:

        def held_upload() -> socket.socket:
            """A stalled upload that the app is waiting on (it answers nothing meanwhile)."""
            upload = stack.enter_context(stalled(port, STALLED_LOGIN, CIRCUIT_1))
            upload.settimeout(1)
            with pytest.raises(TimeoutError):
                upload.recv(1)
            upload.settimeout(30)
            return upload

        uploads = [held_upload(), held_upload()]
        refused = raw_exchange(port, http_request("GET", "/", port), proxy_line(CIRCUIT_1))
        assert_plain_page(refused.status, refused.headers, refused.body, 429, "Very busy")
        assert view(CIRCUIT_2) == 200
        for upload in uploads:
            upload.shutdown(socket.SHUT_WR)  # the source gives up: its request ends
            assert answer_or_close(upload).startswith(b"HTTP/1.1 400 ")
    assert view(CIRCUIT_1) == 200


def start_of_an_upload(source: SourceSession, port: int) -> bytes:
    """A logged-in source's submission of 100,000 bytes, of which only the first part is sent."""
    boundary = "stalled-upload-boundary"
    first = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        f"{source.csrf}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\n'
        "The start of a long message"
    ).encode()
    headers = {
        "Cookie": f"cairn_session={source.http.cookies['cairn_session']}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    head = http_request("POST", "/submit", port, headers, b"x" * 100_000)
    return head[: head.index(b"\r\n\r\n") + 4] + first


@pytest.mark.slow
def test_i6_stalled_uploads_from_many_circuits_never_take_every_thread(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    """Uploads may take hours at the slowest rate allowed. With 4 threads, 3 stalled uploads
    (each from a circuit of its own, as far as the server can tell) are all the uploads there
    may be: the next is refused at once with the busy page, storing nothing, while pages are
    still served; and once an upload ends, the next goes through."""
    instance = make_instance(idle_timeout_seconds=60)
    server = start_server(instance, "--threads", "4")
    sources = [server.source() for _ in range(4)]
    for source in sources:
        source.start()
    *uploaders, late = sources

    with ExitStack() as stack:
        uploads = []
        for source in uploaders:
            upload = stack.enter_context(
                stalled(server.port, start_of_an_upload(source, server.port))
            )
            upload.settimeout(1)
            with pytest.raises(TimeoutError):  # the app is reading its body, answering nothing
                upload.recv(1)
            upload.settimeout(30)
            uploads.append(upload)

        refused = late.submit("A tip that arrives while every upload slot is taken.")
        assert_plain_page(refused.status_code, refused.headers, refused.text, 429, "Very busy")
        assert table_counts(instance)["submissions"] == 0
        page = raw_exchange(server.port, http_request("GET", "/", server.port))
        assert page.status == 200

        uploads[0].shutdown(socket.SHUT_WR)  # that source gives up: its request ends
        assert answer_or_close(uploads[0]).startswith(b"HTTP/1.1 400 ")
        accepted = late.submit("The same tip, a moment later.")
        assert accepted.status_code == 200, accepted.text
    assert table_counts(instance)["submissions"] == 1


def test_a_second_server_shares_the_courier_port_but_never_a_source_port(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    """intake@PORT processes share the courier port (SO_REUSEPORT on it alone). On a source port
    a second server must fail at once and say why, not take turns with the first; and each
    server says where it listens."""
    instance = make_instance()
    courier_port = free_port()
    env = {"CAIRN_COURIER_PORT": str(courier_port)}
    first, second = start_server(instance, env=env), start_server(instance, env=env)
    for server in (first, second):
        announced = [f"listening on http://127.0.0.1:{p}" for p in (server.port, courier_port)]
        deadline = time.monotonic() + 30  # the port answers before gunicorn says so
        while not all(line in server.log_path.read_text() for line in announced):
            assert time.monotonic() < deadline, server.log_path.read_text()
            time.sleep(0.1)
    command = [str(VENV_BIN / "intake"), "serve", "--instance", str(instance.path)]
    taken = subprocess.run(
        [*command, "--port", str(first.port)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert taken.returncode != 0
    assert f"cannot listen on 127.0.0.1:{first.port}" in taken.stderr
    assert "Traceback" not in taken.stderr
