"""The courier's commands against a server that misbehaves: a download cut short, an answer that
is not Cairn's, a bundle with nowhere to go. Each is a one-line error that leaves no file (I8).

The server is a real HTTP server on the loopback interface, answering as each test tells it to.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from keys import courier_api as wire
from keys.courier_api import sign_ack
from keys.signing import SigningKey
from review.courier import Courier
from tests.support.loopback import Answer, Loopback, courier
from tests.support.review import one_line_error


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], Loopback]]:
    started: list[Loopback] = []

    def start(answer: Answer) -> Loopback:
        started.append(Loopback(answer))
        return started[-1]

    yield start
    for loopback in started:
        loopback.server.shutdown()
        loopback.server.server_close()


@pytest.fixture
def courier_key(tmp_path: Path) -> Path:
    path = tmp_path / "courier.key"
    path.write_text(f"{SigningKey.generate()}\n")
    return path


def send(handler: BaseHTTPRequestHandler, body: bytes, headers: dict[str, str]) -> None:
    handler.send_response(200)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()
    handler.close_connection = True


def cut_short(handler: BaseHTTPRequestHandler) -> None:
    """A bundle that promises 1 MiB and stops after 1 KiB."""
    send(handler, b"\0" * 1024, {"Content-Length": str(1 << 20)})


def cut_mid_chunk(handler: BaseHTTPRequestHandler) -> None:
    """A chunked bundle whose connection drops inside a chunk."""
    send(handler, b"10000\r\n" + b"\0" * 1024, {"Transfer-Encoding": "chunked"})


@pytest.mark.parametrize("answer", [cut_short, cut_mid_chunk])
def test_i8_an_interrupted_fetch_keeps_the_earlier_bundle_and_leaves_nothing(
    serve: Callable[[Answer], Loopback], courier_key: Path, tmp_path: Path, answer: Answer
) -> None:
    carried = tmp_path / "usb"
    carried.mkdir()
    out = carried / "bundle.tar"
    out.write_bytes(b"yesterday's bundle")
    args = ("fetch", "--out", str(out))
    error = one_line_error(courier(serve(answer), courier_key, *args), args)
    assert "the download was interrupted" in error and "run fetch again" in error
    assert out.read_bytes() == b"yesterday's bundle"
    assert [p.name for p in carried.iterdir()] == ["bundle.tar"], "no partial file left"


def test_i8_fetch_into_a_missing_directory_asks_for_nothing(
    serve: Callable[[Answer], Loopback], courier_key: Path, tmp_path: Path
) -> None:
    server = serve(lambda handler: send(handler, b"a bundle", {"Content-Length": "8"}))
    missing = tmp_path / "no-such-directory"
    args = ("fetch", "--out", str(missing / "bundle.tar"))
    error = one_line_error(courier(server, courier_key, *args), args)
    assert f"the directory {missing} does not exist" in error
    assert not missing.exists() and server.paths == []


def test_fetch_writes_the_whole_bundle_owner_only(
    serve: Callable[[Answer], Loopback], courier_key: Path, tmp_path: Path
) -> None:
    server = serve(lambda handler: send(handler, b"a bundle", {"Content-Length": "8"}))
    out = tmp_path / "bundle.tar"
    result = courier(server, courier_key, "fetch", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == b"a bundle" and out.stat().st_mode & 0o777 == 0o600
    assert server.paths == [f"/courier/v1/bundle?max_bytes={256 << 20}"]  # the default bound


NOT_THE_API = [
    b"<html><body>Welcome to nginx!</body></html>",
    b"[]",
    b'{"stored": "all", "already_stored": 0, "acknowledged": "all"}',
    b"{}",
]


@pytest.mark.parametrize("body", NOT_THE_API)
@pytest.mark.parametrize("command", ["push", "ack"])
def test_i8_an_answer_that_is_not_the_courier_api_is_a_one_line_error(
    serve: Callable[[Answer], Loopback],
    courier_key: Path,
    tmp_path: Path,
    command: str,
    body: bytes,
) -> None:
    server = serve(lambda handler: send(handler, body, {"Content-Length": str(len(body))}))
    sent = tmp_path / "to-send"
    # What review import writes (an ack is checked before it is sent); a reply bundle is not.
    workspace, server_key = SigningKey.generate(), SigningKey.generate().verify_key
    sent.write_bytes(sign_ack(workspace, server_key, ()) if command == "ack" else b"ciphertext")
    args = (command, str(sent))
    error = one_line_error(courier(server, courier_key, *args), args)
    assert "not Cairn's courier API; check --server" in error
    assert len(server.paths) == 1


def test_issue19_item8_fetch_and_push_report_their_progress(
    serve: Callable[[Answer], Loopback], tmp_path: Path
) -> None:
    """What the progress bars show: the bytes moved so far, up to the whole transfer."""

    bundle = b"b" * (3 << 20)
    server = serve(lambda handler: send(handler, bundle, {wire.ITEMS_HEADER: "2"}))
    courier_ = Courier(server.url, SigningKey.generate())
    seen: list[int] = []
    fetched = courier_.fetch(tmp_path / "bundle.tar", 1 << 30, seen.append)
    assert (fetched.items, fetched.size, seen[-1]) == (2, len(bundle), len(bundle))
    assert seen == sorted(seen) and len(seen) > 1

    delivery = wire.sign_delivery(SigningKey.generate(), ["r1"])
    answer = {"stored": 1, "already_stored": 0, "delivery": delivery}
    pushed = serve(lambda handler: send(handler, json.dumps(answer).encode(), {}))
    replies = tmp_path / "replies.tar"
    replies.write_bytes(b"r" * (1 << 20))
    sent: list[int] = []
    result = Courier(pushed.url, SigningKey.generate()).push(
        replies, tmp_path / "replies.delivered.json", sent.append
    )
    assert result.stored == 1 and sent[-1] == 1 << 20
    assert json.loads((tmp_path / "replies.delivered.json").read_text()) == delivery
