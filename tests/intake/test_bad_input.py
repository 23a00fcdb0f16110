"""I8: bad input gets a clear error and loses nothing. Every malformed request is a 4xx with the
plain error page (never a 500 or a traceback) and leaves no submission, item or chunk behind;
odd but harmless input (path-traversal file names) is accepted and made harmless."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import werkzeug.formparser
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from intake import create_app
from intake.headers import SECURITY_HEADERS
from intake.instance import Instance
from intake.sessions import COOKIE_NAME
from intake.submission import READ_SIZE
from tests.support.forms import (
    BOUNDARY,
    CONTENT_TYPE,
    CountingStream,
    assert_plain_error,
    csrf_of,
    end,
    form,
    log_in,
    part,
)
from tests.support.intake import LiveServer, SourceSession, table_counts

MIB = 1 << 20
COUNTED_TABLES = ("submissions", "items", "chunks")
# Rate limits high enough that these tests never meet them (the limiter has its own tests).
NO_LIMITS = {
    "global_post_limit": "100000/minute",
    "global_page_limit": "100000/minute",
    "session_limit": "100000/minute",
}


# Helpers


def row_counts(instance: Instance) -> dict[str, int]:
    return table_counts(instance, COUNTED_TABLES)


NOTHING = dict.fromkeys(COUNTED_TABLES, 0)


def _sources(instance: Instance) -> int:
    return table_counts(instance, ("sources",))["sources"]


def post(
    client: FlaskClient, body: bytes, content_type: str = CONTENT_TYPE, path: str = "/submit"
) -> TestResponse:
    return client.post(path, data=body, content_type=content_type)


@pytest.fixture
def quiet_instance(make_instance: Callable[..., Instance]) -> Instance:
    return make_instance(**NO_LIMITS)


@pytest.fixture
def source(quiet_instance: Instance) -> tuple[FlaskClient, str, Instance]:
    """A logged-in source's test client, its CSRF token, and the instance."""
    client = create_app(quiet_instance).test_client()
    return client, log_in(client), quiet_instance


Source = tuple[FlaskClient, str, Instance]


def refused(source: Source, body: bytes, *statuses: int, content_type: str = CONTENT_TYPE) -> str:
    """Post ``body`` to /submit: it must be a plain 4xx and leave nothing stored."""
    client, _, instance = source
    before = row_counts(instance)
    text = assert_plain_error(post(client, body, content_type), *statuses)
    assert row_counts(instance) == before == NOTHING
    return text


# Malformed multipart


BIG = b"0123456789abcdef" * (3 * MIB // 16)  # a 3 MiB file: some chunk rows reach the database

B = b"--" + BOUNDARY


def after_token(token: str, raw: bytes) -> bytes:
    """A valid CSRF part, then ``raw`` as it is."""
    return part(b"csrf_token", token.encode()) + raw


MALFORMED: dict[str, Callable[[str], bytes]] = {
    "garbage": lambda t: b"\x00\xff garbage \r\n-- not a form \r\n" * 200,
    "empty body": lambda t: b"",
    "only the closing boundary": lambda t: end(),
    "wrong boundary": lambda t: form(t, part(b"message", b"hi")).replace(BOUNDARY, b"otherbound"),
    "never closed": lambda t: form(t, part(b"message", b"hello"))[: -len(end())],
    "cut off in a message": lambda t: form(t, part(b"message", b"hello world"))[:-30],
    "cut off in a header": lambda t: after_token(t, B + b"\r\nContent-Disposition: form-da"),
    "cut off in the token": lambda t: form(t)[:40],
    "part without content-disposition": lambda t: after_token(
        t, B + b"\r\nContent-Type: text/plain\r\n\r\nhello\r\n" + end()
    ),
    "content-disposition without a name": lambda t: after_token(
        t, B + b"\r\nContent-Disposition: form-data\r\n\r\nhello\r\n" + end()
    ),
    "headers without the blank line": lambda t: after_token(
        t, B + b'\r\nContent-Disposition: form-data; name="message"\r\nhello\r\n' + end()
    ),
    "headers never end": lambda t: after_token(t, B + b"\r\n" + b"X-Filler: aaaaaaaa\r\n" * 80_000),
    "no boundary at all, 2 MiB": lambda t: b"x" * (2 * MIB),
    "a file, then a part without content-disposition": lambda t: after_token(
        t,
        part(b"files", BIG, b"big.bin") + B + b"\r\nContent-Type: text/plain\r\n\r\nhi\r\n" + end(),
    ),
    "a file, then cut off": lambda t: form(t, part(b"files", BIG, b"big.bin"))[:-200],
    "a file cut off mid-way": lambda t: form(t, part(b"files", BIG, b"big.bin"))[: 2 * MIB],
    "a message and a file, never closed": lambda t: form(
        t, part(b"message", b"hello"), part(b"files", BIG, b"big.bin")
    )[: -len(end())],
    "the token sent as a file": lambda t: part(b"csrf_token", t.encode(), b"token.txt") + end(),
    "two tokens": lambda t: after_token(t, form(t, part(b"message", b"hi"))),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_multipart_is_a_plain_4xx_and_stores_nothing(source: Source, case: str) -> None:
    refused(source, MALFORMED[case](source[1]))


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary=""',
        "multipart/mixed; boundary=cairnboundary",
        "application/x-www-form-urlencoded",
        "text/plain",
        "",
    ],
)
def test_a_body_that_is_not_a_multipart_form_is_refused(source: Source, content_type: str) -> None:
    body = form(source[1], part(b"message", b"hello"))
    text = refused(source, body, 400, content_type=content_type)
    assert "use the form" in text


def test_a_get_style_urlencoded_post_to_submit_is_refused(source: Source) -> None:
    client, token, instance = source
    response = client.post("/submit", data={"csrf_token": token, "message": "hello"})
    assert "use the form" in assert_plain_error(response, 400)
    response = client.post("/submit?csrf_token=" + token + "&message=hello")
    assert_plain_error(response, 400)
    assert row_counts(instance) == NOTHING


# Text that is not text


@pytest.mark.parametrize(
    "message",
    [
        b"\xff\xfe not UTF-8 at the start",
        "valid for a long while: é".encode() * 3000 + b"\xc3(",  # bad after 75 KB of good text
        b"ends inside a character: " + "é".encode()[:1],
        b"\xed\xa0\x80 a surrogate",
        b"\xc0\xaf an overlong slash",
        b"\xf4\x90\x80\x80 beyond U+10FFFF",
    ],
)
def test_invalid_utf8_in_the_message_is_refused(source: Source, message: bytes) -> None:
    text = refused(source, form(source[1], part(b"message", message)), 400)
    assert "not valid text" in text


@pytest.mark.parametrize("message", [b"\x00", b"hello\x00world", b"a" * 50_000 + b"\x00"])
def test_nul_bytes_in_the_message_are_refused(source: Source, message: bytes) -> None:
    text = refused(source, form(source[1], part(b"message", message)), 400)
    assert "not text" in text


def test_a_bad_message_after_a_big_file_leaves_nothing(source: Source) -> None:
    """Rows of the file already reached the database; they go when the message turns out bad."""
    body = form(source[1], part(b"files", BIG, b"big.bin"), part(b"message", b"ok \x00 not ok"))
    refused(source, body, 400)


@pytest.mark.parametrize("filename", [b"\xff\xfe.txt", b"caf\xe9.txt", b"\xc3"])
def test_invalid_utf8_in_a_file_name_is_refused(source: Source, filename: bytes) -> None:
    refused(source, form(source[1], part(b"files", b"content", filename)), 400)


# Many fields, many files


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param([part(b"website", b"")] * 5000, id="5000 empty honeypot fields"),
        pytest.param([part(b"f%d" % i, b"x") for i in range(5000)], id="5000 distinct fields"),
        pytest.param([part(b"message", b"hi")] * 5000, id="5000 message fields"),
        pytest.param([part(b"message", b"hi")] + [part(b"", b"")] * 5000, id="5000 unnamed"),
    ],
)
def test_thousands_of_fields_are_refused(source: Source, fields: list[bytes]) -> None:
    refused(source, form(source[1], *fields), 400, 413)


def test_thousands_of_file_parts_are_refused_and_the_first_ones_discarded(source: Source) -> None:
    files = [part(b"files", b"content of file %d" % i, b"f%d.txt" % i) for i in range(5000)]
    text = refused(source, form(source[1], part(b"message", b"hi"), *files), 413)
    assert "At most 20 files" in text or "too large" in text.lower()


def test_thousands_of_fields_to_the_other_forms_are_refused_or_ignored(source: Source) -> None:
    client, _, instance = source
    token = csrf_of(client.get("/login"))
    many = "&".join(f"f{i}=x" for i in range(5000))
    response = client.post(
        "/login",
        data=f"csrf_token={token}&codename=a+b+c&{many}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 403  # not recognised, like any wrong codename
    assert "not recognised" in response.get_data(as_text=True)
    fields = [part(b"f%d" % i, b"x") for i in range(5000)]
    assert_plain_error(post(client, form(token, *fields), path="/login"), 413)
    assert_plain_error(post(client, form(token, *fields), path="/start"), 413)
    assert row_counts(instance) == NOTHING


def test_a_huge_urlencoded_body_is_refused_before_it_is_read(source: Source) -> None:
    """Werkzeug reads a urlencoded body whole: any form but /submit must be small."""
    client, _, _ = source
    body = CountingStream(b"codename=" + b"a" * (8 * MIB))
    for path in ("/login", "/start", "/logout"):
        response = client.post(
            path,
            input_stream=body,
            content_length=body.size,
            content_type="application/x-www-form-urlencoded",
        )
        assert_plain_error(response, 413)
    assert body.bytes_read == 0


# File names


TRAVERSAL_NAMES = [
    (b"../../etc/passwd", "passwd"),
    (b"..\\..\\win.ini", "win.ini"),
    (b"/abs/path", "path"),
    (b"C:\\Users\\me\\Desktop\\memo.docx", "memo.docx"),
    (b"./../..//dir/", "unnamed"),
    (b"tab\there\x01\x1b[31mred\x7f.txt", "tabhere[31mred.txt"),
    (b"nul\x00byte.pdf", "nulbyte.pdf"),
    (b"  spaced .txt  ", "spaced .txt"),
    ("../ünïcödé/名前.txt".encode(), "名前.txt"),
    (b"", "unnamed"),
]


def test_path_traversal_file_names_are_stored_as_their_last_component_only(
    source: Source,
    tmp_path: Path,
    export_and_open: Callable[[Instance], list[Any]],
) -> None:
    client, token, instance = source
    files = [part(b"files", b"file %d" % i, name) for i, (name, _) in enumerate(TRAVERSAL_NAMES)]
    response = post(client, form(token, *files))
    assert response.status_code == 200, response.get_data(as_text=True)

    # Nothing but the database was written, inside the instance or beside it.
    expected = {"config.json", "secret_key", "pepper", "bundle_signing.key", "cairn.db"}
    present = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
    assert present - {"instance"} <= {f"instance/{n}" for n in expected} | {
        "instance/cairn.db-wal",
        "instance/cairn.db-shm",
    }

    opened = export_and_open(instance)
    names = {data.decode(): header.name for header, data in opened}
    assert names == {f"file {i}": stored for i, (_, stored) in enumerate(TRAVERSAL_NAMES)}


def test_i8_a_named_empty_file_is_kept(
    source: Source, export_and_open: Callable[[Instance], list[Any]]
) -> None:
    """An empty file the source chose on purpose is sent on, not silently dropped."""
    client, token, instance = source
    response = post(client, form(token, part(b"files", b"", b"empty-on-purpose.txt")))
    assert response.status_code == 200, response.get_data(as_text=True)
    [(header, data)] = export_and_open(instance)
    assert (header.name, header.length, data) == ("empty-on-purpose.txt", 0, b"")


# Empty submissions


EMPTY: dict[str, Callable[[str], bytes]] = {
    "only the token": lambda t: form(t),
    "an empty message": lambda t: form(t, part(b"website", b""), part(b"message", b"")),
    "an empty message and no file chosen": lambda t: form(
        t, part(b"website", b""), part(b"message", b""), part(b"files", b"", b"")
    ),
    "no file chosen": lambda t: form(t, part(b"files", b"", b"")),
}


@pytest.mark.parametrize("case", list(EMPTY))
def test_an_empty_submission_is_refused(source: Source, case: str) -> None:
    text = refused(source, EMPTY[case](source[1]), 400)
    assert "Nothing was sent" in text


def test_no_file_chosen_beside_a_message_is_fine(
    source: Source, export_and_open: Callable[[Instance], list[Any]]
) -> None:
    client, token, instance = source
    body = form(token, part(b"message", b"just text"), part(b"files", b"", b""))
    assert post(client, body).status_code == 200
    assert [(h.kind, data) for h, data in export_and_open(instance)] == [("message", b"just text")]


def test_a_message_over_the_character_limit_is_refused(
    make_instance: Callable[..., Instance],
) -> None:
    instance = make_instance(max_message_chars=100, **NO_LIMITS)
    client = create_app(instance).test_client()
    token = log_in(client)
    source = (client, token, instance)
    text = refused(source, form(token, part(b"message", b"x" * 101)), 413)
    assert "longer than 100 characters" in text
    refused(source, form(token, part(b"files", BIG, b"a.bin"), part(b"message", b"y" * 5000)), 413)
    # The limit counts characters, not bytes: 100 two-byte characters fit.
    assert post(client, form(token, part(b"message", "é".encode() * 100))).status_code == 200
    assert row_counts(instance)["items"] == 1


# The wrong shape of form


def test_a_file_part_before_the_csrf_token_is_refused(source: Source) -> None:
    body = part(b"files", b"content", b"a.txt") + form(source[1], part(b"message", b"hi"))
    assert "expired or is incomplete" in refused(source, body, 400)


def test_a_message_before_the_csrf_token_is_refused(source: Source) -> None:
    body = part(b"message", b"hi") + form(source[1])
    refused(source, body, 400)


@pytest.mark.parametrize(
    "extra",
    [
        part(b"messages", b"hello"),
        part(b"file", b"content", b"a.txt"),
        part(b"message", b"content", b"a.txt"),
        part(b"website", b"content", b"a.txt"),
        part(b"csrf_token", b"again"),
    ],
    ids=["messages", "file (singular)", "message as a file", "honeypot as a file", "token again"],
)
def test_a_wrong_field_name_is_refused(source: Source, extra: bytes) -> None:
    body = form(source[1], part(b"message", b"hello"), extra)
    assert "unexpected" in refused(source, body, 400)


def test_a_file_sent_to_the_login_form_is_refused_and_never_spooled(
    source: Source, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Werkzeug's form parser spools files over 500 KB to a temporary file (I1)."""
    client, _, instance = source
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setenv("TMPDIR", str(spool))
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    made: list[str] = []

    def spy(name: str, original: Callable[..., object]) -> Callable[..., object]:
        def spied(*args: object, **kwargs: object) -> object:
            made.append(name)
            return original(*args, **kwargs)

        return spied

    for name in ("SpooledTemporaryFile", "TemporaryFile", "NamedTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, spy(name, getattr(tempfile, name)))
    spooled = werkzeug.formparser.SpooledTemporaryFile  # type: ignore[attr-defined]
    monkeypatch.setattr(
        werkzeug.formparser, "SpooledTemporaryFile", spy("SpooledTemporaryFile", spooled)
    )

    # The spies see what a plain Flask app does with a file in a form: it spools it.
    control = Flask("control")
    control.add_url_rule("/upload", "upload", lambda: str(len(request.files)), methods=["POST"])
    token = csrf_of(client.get("/login"))
    login = part(b"codename", b"some words here")
    big = form(token, login, part(b"files", b"z" * (2 * MIB), b"a.bin"))
    assert post(control.test_client(), big, path="/upload").status_code == 200
    assert "TemporaryFile" in made, "the spies saw nothing: this test would not notice spooling"
    made.clear()
    for leftover in spool.iterdir():
        leftover.unlink()

    small = form(token, login, part(b"files", b"z" * 10_000, b"a.bin"))
    for path in ("/login", "/start", "/logout", "/written"):
        text = assert_plain_error(post(client, small, path=path), 400)
        assert "Files can only be sent" in text
        assert_plain_error(post(client, big, path=path), 400, 413)
    assert made == []  # not even an in-memory spool object
    assert list(spool.iterdir()) == []
    assert row_counts(instance) == NOTHING


def test_an_empty_codename_is_a_wrong_codename(source: Source) -> None:
    client, _, _ = source
    for fields in ({"codename": ""}, {"codename": "   \t "}, {}, {"codename": "\x00"}):
        token = csrf_of(client.get("/login"))
        response = client.post("/login", data={"csrf_token": token, **fields})
        assert response.status_code == 403, response.get_data(as_text=True)
        assert "not recognised" in response.get_data(as_text=True)


def test_a_busy_codename_kdf_is_a_busy_page_not_a_500(source: Source) -> None:
    """When every KDF slot stays taken, a source is asked to wait, and nothing is stored."""
    client, _, instance = source
    sources_before = _sources(instance)
    kdf = client.application.extensions["cairn"].kdf
    kdf.timeout = 0.05
    taken = 0  # every slot is held here, as a burst of slow logins would hold them
    while kdf._slots.acquire(blocking=False):
        taken += 1
    try:
        token = csrf_of(client.get("/login"))
        response = client.post("/login", data={"csrf_token": token, "codename": "a b c"})
        assert_plain_error(response, 429, 503)
        response = client.post("/start", data={"csrf_token": token})
        assert_plain_error(response, 429, 503)
    finally:
        for _ in range(taken):
            kdf._slots.release()
    assert row_counts(instance) == NOTHING
    assert _sources(instance) == sources_before


# Size limits


def test_a_content_length_over_the_limit_is_refused_at_its_first_file(
    make_instance: Callable[..., Instance],
) -> None:
    """Read only as far as the message (for the form that comes back), never the files."""
    instance = make_instance(max_upload_mib=1, **NO_LIMITS)
    client = create_app(instance).test_client()
    token = log_in(client)
    files = part(b"files", b"x" * (3 * MIB), b"a.bin")
    body = CountingStream(form(token, part(b"message", b"typed"), files))
    response = client.post(
        "/submit", input_stream=body, content_length=body.size, content_type=CONTENT_TYPE
    )
    text = assert_plain_error(response, 413)
    assert "limit of 1 MB" in text and ">typed</textarea>" in text
    assert body.bytes_read <= READ_SIZE < body.size
    assert row_counts(instance) == NOTHING


# Against the real server: raw sockets


def _complete(data: bytes) -> bool:
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def _status(data: bytes) -> int | None:
    line = data.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[0].startswith(b"HTTP/") else None


def raw_exchange(
    port: int, pieces: Iterable[bytes], timeout: float = 20.0, half_close: bool = False
) -> bytes:
    """Send pieces over one connection while reading the answer in parallel (the server may
    answer and close before everything is sent); stop sending once a full answer is in. With
    ``half_close`` the sending side is shut after the pieces, as a source that went away."""
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:

        def read() -> None:
            try:
                while not _complete(bytes(received)):
                    chunk = sock.recv(1 << 16)
                    if not chunk:
                        return
                    received.extend(chunk)
            except OSError:
                return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            for piece in pieces:
                if not reader.is_alive():
                    break
                sock.sendall(piece)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed: what it said is what counts
        reader.join(timeout)
    return bytes(received)


def _logged_in(server: LiveServer) -> SourceSession:
    source = server.source()
    source.start()
    return source


def _head(path: str, source: SourceSession, *lines: str) -> bytes:
    cookie = source.http.cookies[COOKIE_NAME]
    return (
        "\r\n".join(
            [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Cookie: {COOKIE_NAME}={cookie}", *lines]
        )
        + "\r\n\r\n"
    ).encode()


def _still_answers(server: LiveServer) -> None:
    answer = raw_exchange(server.port, [b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"])
    assert _status(answer) == 200, answer[:300]


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.slow
def test_huge_headers_get_gunicorns_refusal_and_the_server_keeps_answering(
    instance: Instance, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(instance)
    marker = "REQUEST-CONTENT-MARKER"
    attempts = [
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: " + b"a" * 100_000 + b"\r\n\r\n",
        b"GET /?" + b"q" * 100_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + b"".join(b"X-Many-%d: 1\r\n" % i for i in range(5000))
        + b"\r\n",
        f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-{marker} bad name: 1\r\n\r\n".encode(),
        f"GET /{marker} HTTP/1.1\r\nHost: 127.0.0.1\r\nX: \x00\x01\r\n\r\n".encode(),
        b"POST /submit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
        b"POST /submit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n"
        b"Content-Length: 2\r\n\r\n",
    ]
    for attempt in attempts:
        answer = raw_exchange(server.port, [attempt])
        status = _status(answer)
        assert status is None or 400 <= status < 500, answer[:300]  # a refusal, or a close
        assert b"Server:" not in answer.partition(b"\r\n\r\n")[0]
        _still_answers(server)
    server.stop()
    log = server.log_path.read_text(errors="replace")
    assert marker not in log  # error logs carry no request content (I1, I5)
    assert "ip=" not in log  # and no addresses (I5)
    assert "Traceback" not in log


@pytest.mark.slow
def test_a_content_length_over_the_limit_gets_413_before_its_files_are_sent(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    instance = make_instance(max_upload_mib=1)
    server = start_server(instance)
    source = _logged_in(server)
    body = form(source.csrf, part(b"message", b"typed"), part(b"files", bytes(2 * MIB), b"a"))
    head = _head(
        "/submit",
        source,
        f"Content-Type: {CONTENT_TYPE}",
        f"Content-Length: {len(body)}",
    )
    started = time.monotonic()
    # Only the first read's worth: the message and the start of the file, never the rest.
    answer = raw_exchange(server.port, [head, body[:READ_SIZE]], timeout=10)
    assert _status(answer) == 413, answer[:300]
    assert time.monotonic() - started < 5
    assert b"limit of 1 MB" in answer and b">typed</textarea>" in answer
    assert row_counts(instance) == NOTHING
    _still_answers(server)


def _chunked(body: bytes, size: int = 64 * 1024) -> Iterable[bytes]:
    for offset in range(0, len(body), size):
        piece = body[offset : offset + size]
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


@pytest.mark.slow
def test_a_chunked_body_over_the_limit_gets_413_and_leaves_nothing(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    instance = make_instance(max_upload_mib=1)
    server = start_server(instance)
    source = _logged_in(server)
    body = form(source.csrf, part(b"message", b"hi"), part(b"files", b"y" * (3 * MIB), b"a.bin"))
    head = _head("/submit", source, f"Content-Type: {CONTENT_TYPE}", "Transfer-Encoding: chunked")
    answer = raw_exchange(server.port, [head, *_chunked(body)])
    assert _status(answer) == 413, answer[:300]
    assert b"limit of 1 MB" in answer
    assert b">hi</textarea>" in answer  # the form comes back with the message (issue 19)
    assert _wait_for(lambda: row_counts(instance) == NOTHING)
    # Within the limit, the same way of sending works.
    small = form(source.csrf, part(b"message", b"hi"), part(b"files", b"y" * 1000, b"a.bin"))
    answer = raw_exchange(server.port, [head, *_chunked(small)])
    assert _status(answer) == 200, answer[:300]
    assert row_counts(instance) == {"submissions": 1, "items": 2, "chunks": 2}


@pytest.mark.slow
def test_a_body_cut_off_mid_file_is_discarded_by_the_request_itself(
    instance: Instance, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(instance)
    source = _logged_in(server)
    body = form(source.csrf, part(b"message", b"hi"), part(b"files", b"z" * (12 * MIB), b"a.bin"))
    head = _head("/submit", source, f"Content-Type: {CONTENT_TYPE}", f"Content-Length: {len(body)}")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + body[: 6 * MIB])
        # The upload is under way: sealed rows of it are in the database.
        assert _wait_for(lambda: row_counts(instance)["chunks"] > 0), row_counts(instance)
        assert row_counts(instance)["submissions"] == 1
    # The source's connection is gone. Long before any lease runs out (15 minutes) the
    # request has discarded everything it stored.
    assert _wait_for(lambda: row_counts(instance) == NOTHING, timeout=10), row_counts(instance)
    _still_answers(server)
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log


def _answer(data: bytes) -> tuple[int | None, dict[str, str], str]:
    """A raw answer's status, headers (by lower-case name) and body."""
    head, _, body = data.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return _status(data), headers, body.decode(errors="replace")


def assert_guarded_refusal(data: bytes, status: int, *never: bytes) -> str:
    """A refusal that carries every security header and no banner, and none of ``never``
    (what the request said); returns its body."""
    got, headers, body = _answer(data)
    assert got == status, data[:600]
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name.lower()) == value, (name, data[:600])
    assert "server" not in headers
    for echo in never:
        assert echo not in data, echo
    return body


MARKER = b"SECRET-TIP-MARKER"
# A chunked body that goes wrong after some valid chunks, in the ways gunicorn raises on; the
# last is cut off mid-chunk, and the source's sending side closed (gunicorn's NoMoreData).
BROKEN_CHUNKS: dict[str, Callable[[list[bytes]], list[bytes]]] = {
    "a bad chunk size": lambda valid: [*valid, b"ZZZ\r\n" + MARKER + b"\r\n"],
    "a chunk without its CRLF": lambda valid: [
        *valid[:-1],
        valid[-1][:-2] + b"XX5\r\n" + MARKER + b"\r\n0\r\n\r\n",
    ],
    "cut off mid-chunk": lambda valid: [*valid[:-1], valid[-1][:-100]],
}


@pytest.mark.slow
def test_i8_a_malformed_chunked_body_is_a_plain_400_on_every_form(
    instance: Instance, start_server: Callable[..., LiveServer]
) -> None:
    """gunicorn finds a chunk malformed only when the app reads that far, and raises its own
    exceptions: each is the plain 400 page with the security headers, and nothing is kept,
    not even the rows a 3 MiB file before the bad chunk had already stored."""
    server = start_server(instance)
    source = _logged_in(server)
    urlencoded = b"csrf_token=" + source.csrf.encode() + b"&codename=" + MARKER
    upload = part(b"csrf_token", source.csrf.encode()) + part(b"files", BIG, b"big.bin")[:-2]
    forms = {
        "/submit": (CONTENT_TYPE, upload),
        "/login": ("application/x-www-form-urlencoded", urlencoded),
        "/start": ("application/x-www-form-urlencoded", urlencoded),
    }
    before = table_counts(instance)
    for path, (content_type, body) in forms.items():
        head = _head(path, source, f"Content-Type: {content_type}", "Transfer-Encoding: chunked")
        valid = list(_chunked(body))[:-1]  # without the last, empty chunk
        for kind, broken in BROKEN_CHUNKS.items():
            cut_off = kind == "cut off mid-chunk"
            answer = raw_exchange(server.port, [head, *broken(valid)], half_close=cut_off)
            text = assert_guarded_refusal(answer, 400, MARKER)
            assert "Nothing was stored" in text, (path, kind, text)
            assert table_counts(instance) == before, (path, kind)
    _still_answers(server)
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log
    assert "unhandled" not in log


@pytest.mark.slow
def test_i4_i5_gunicorns_own_refusals_carry_the_security_headers_and_echo_nothing(
    instance: Instance, start_server: Callable[..., LiveServer]
) -> None:
    """gunicorn refuses some requests itself, before the app runs; its page quoted the request
    and carried none of the headers every page must."""
    server = start_server(instance)
    refusals = {
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-" + MARKER + b"\x01: 1\r\n\r\n": 400,
        b"GET /" + MARKER + b"a" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n": 414,
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: " + MARKER * 1000 + b"\r\n\r\n": 431,
        b"GET / HTTP/" + MARKER + b"\r\nHost: 127.0.0.1\r\n\r\n": 400,
    }
    for sent, status in refusals.items():
        answer = raw_exchange(server.port, [sent])
        assert "Nothing was stored" in assert_guarded_refusal(answer, status, MARKER)
    _still_answers(server)


# Fuzzing: mutations of a valid body


SEPARATORS = [b"\r", b"\n", b"\r\n", b"--", b"\r\n\r\n", b"--" + BOUNDARY, b'"', b";", b"\x00"]


@st.composite
def mutated(draw: st.DrawFn, valid: bytes, after: int) -> bytes:
    """1-3 mutations of ``valid``, half of them past byte ``after`` (the CSRF token's part)."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)) | st.integers(min(after, len(data)), len(data)))
        kind = draw(
            st.sampled_from(["truncate", "flip", "insert", "boundary", "delete", "duplicate"])
        )
        if kind == "truncate":
            del data[at:]
        elif kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(SEPARATORS) | st.binary(min_size=1, max_size=8))
        elif kind == "boundary":
            line = draw(st.sampled_from([b"\r\n--", b"\n--", b"--"])) + BOUNDARY
            data[at:at] = line + draw(st.sampled_from([b"\r\n", b"--\r\n", b"--", b""]))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "duplicate":
            length = draw(st.integers(1, 80))
            data[at:at] = data[at : at + length]
    return bytes(data)


@pytest.mark.slow
def test_fuzzed_multipart_bodies_never_give_a_500_or_leave_a_half_stored_submission(
    source: Source,
) -> None:
    client, token, instance = source
    valid = form(
        token,
        part(b"website", b""),
        part(b"message", "A tip: the harbour contract, signed in März.".encode()),
        part(b"files", b"first file\r\n--not-a-boundary\r\n" * 4, b"memo.txt", b"text/plain"),
        part(b"files", bytes(range(256)), b"../bytes.bin"),
    )
    assert post(client, valid).status_code == 200
    statuses: dict[int, int] = {}

    def counts() -> tuple[int, ...]:
        return tuple(row_counts(instance).values())

    after = len(part(b"csrf_token", token.encode()))
    assert valid[after:].startswith(b"--" + BOUNDARY)

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=mutated(valid, after), piece=st.sampled_from([1, 7, 64, 1000, 1 << 16]))
    def check(body: bytes, piece: int) -> None:
        before = counts()
        stream = CountingStream(body, piece=piece)  # the body arrives in pieces of this size
        response = client.post(
            "/submit", input_stream=stream, content_length=stream.size, content_type=CONTENT_TYPE
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        text = response.get_data(as_text=True)
        assert response.status_code < 500, text
        if response.status_code == 200:
            assert "received" in text
        else:
            assert_plain_error(response)
            assert counts() == before

    check()
    assert statuses.get(200) and sum(v for k, v in statuses.items() if k >= 400), statuses
