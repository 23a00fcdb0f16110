"""I8: a generated corpus of bad input, each case refused plainly and nothing stored changed.

- HTTP (more than 500 requests): through the Flask app (bad methods, paths, headers, cookies,
  CSRF tokens, encodings, multipart bodies, oversized fields, random bytes) and as raw bytes
  to the real gunicorn server (bad request lines, headers and framing). Each gets a 4xx page
  (JSON on the courier API), or gunicorn's own 400 or a closed connection for HTTP it cannot
  parse; never a 500, a traceback or a hang.
- Files (more than 200): malformed tip bundles (``open_bundle``, and ``review import`` for a
  sample), reply bundles (``receive_bundle``, and POSTed through a correctly signed courier
  request so the refusal is about the content) and identity files (``read_identity_file``, and
  ``review keys show`` for a sample). Each gets its one-line CLI error, its 4xx JSON, or only
  the exception its callers turn into one.

Every generator is seeded, so a failing case has a name that reproduces it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import re
import socket
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy
from flask.testing import FlaskClient

from intake import create_app
from intake.instance import Instance
from intake.sessions import COOKIE_NAME
from keys import age
from keys.bundle import BundleError, open_bundle, receive_bundle
from keys.courier import CourierRequest, sign_request
from keys.courier_api import PushAnswer, sign_ack
from keys.identity_file import read_identity_file, write_identity_file
from keys.sealed import ItemWriter, open_item
from keys.signing import SigningKey
from tests.support.courier import Courier, Reviewer, run
from tests.support.forms import BOUNDARY, CONTENT_TYPE, assert_plain_error, end, form, log_in, part
from tests.support.intake import VENV_BIN, LiveServer
from tests.support.review import PASSPHRASE
from tests.support.robustness import STORED_TABLES, table_counts

SEED = 20261126
MIB = 1 << 20
LIMITS = {
    "global_post_limit": "100000/minute",
    "global_page_limit": "100000/minute",
    "session_limit": "100000/minute",
    "circuit_limit": "100000/minute",
    "courier_limit": "100000/minute",
    "max_message_chars": 2000,
    "max_files": 3,
    "max_upload_mib": 1,
}
COUNTED = (*STORED_TABLES, "web_sessions")
INVALID_UTF8 = [
    b"\xff",
    b"\xfe\xfe",
    b"\xc3\x28",
    b"\xa0\xa1",
    b"\xe2\x28\xa1",
    b"\xe2\x82\x28",
    b"\xf0\x28\x8c\xbc",
    b"\xf8\xa1\xa1\xa1\xa1",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
]
METHODS = ["PUT", "DELETE", "PATCH", "TRACE", "PROPFIND", "CONNECT", "FOO", "MKCOL"]
PATHS = ["/", "/start", "/written", "/submit", "/login", "/logout", "/courier/v1/bundle"]


@pytest.fixture
def instance(make_instance: Callable[..., Instance]) -> Instance:
    """Budgets out of the way (the limiter has its own tests), small size limits to reach."""
    return make_instance(**LIMITS)


# HTTP through the app


@dataclass
class Case:
    name: str
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


def _random_token(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(rng.randint(1, 80))).decode().rstrip("=")


def _bad_tokens(rng: random.Random, token: str, other: str) -> Iterator[tuple[str, str]]:
    """CSRF tokens that must all be refused: forged, cut, flipped, or another session's."""
    yield "empty", ""
    yield "another session's", other
    yield "signed with another secret", other[:-8] + token[-8:]
    for i in range(6):
        yield f"random {i}", _random_token(rng)
    for _ in range(4):
        cut = rng.randint(1, len(token) - 1)
        yield f"cut at {cut}", token[:cut]
    for _ in range(4):
        at = rng.randrange(len(token))
        flipped = "A" if token[at] != "A" else "B"
        yield f"flipped at {at}", token[:at] + flipped + token[at + 1 :]
    yield "doubled", token + token
    yield "with a NUL", token + "\x00"
    yield "non-ASCII", token[:10] + "é" + token[10:]


def app_cases(rng: random.Random, token: str, other: str, cookie: str) -> list[Case]:
    """Requests that must each be refused with a 4xx page, stored state untouched."""
    session = {"Cookie": f"{COOKIE_NAME}={cookie}"}
    cases: list[Case] = []

    def submit(name: str, body: bytes, content_type: str = CONTENT_TYPE, **headers: str) -> None:
        cases.append(Case(name, "POST", "/submit", body, {**session, **headers}, content_type))

    valid = form(token, part(b"website", b""), part(b"message", b"a tip about the harbour"))
    closing = len(end())

    # Multipart cut off anywhere before its closing delimiter.
    with_file = form(
        token,
        part(b"message", "the tip, with an attachment: Grüße".encode()),
        part(b"files", rng.randbytes(20_000), b"memo.pdf", b"application/pdf"),
    )
    for _ in range(50):
        submit("cut off", with_file[: rng.randrange(len(with_file) - closing)])
    # Not text where text belongs.
    for bad in INVALID_UTF8:
        for _ in range(3):
            text = bytearray(rng.randbytes(rng.randint(0, 40)).hex().encode())
            at = rng.randint(0, len(text))
            text[at:at] = bad
            submit(f"invalid UTF-8 {bad!r}", form(token, part(b"message", bytes(text))))
        submit(
            f"invalid UTF-8 in a file name {bad!r}",
            form(token, part(b"files", b"content", b"memo" + bad + b".txt")),
        )
    for i in range(8):
        message = bytearray(b"a message with a NUL somewhere in it")
        message.insert(rng.randint(0, len(message)), 0)
        submit(f"NUL in the message {i}", form(token, part(b"message", bytes(message))))
    # A boundary the body does not use.
    for i in range(15):
        other_boundary = rng.randbytes(rng.randint(1, 30)).hex()
        submit(f"boundary mismatch {i}", valid, f"multipart/form-data; boundary={other_boundary}")
    # Fields that the form does not have, or in the wrong place or number.
    for i in range(15):
        name = _random_token(rng).encode() or b"x"
        submit(f"unexpected field {i}", form(token, part(name, b"value")))
        submit(f"unexpected file field {i}", form(token, part(name, b"value", b"a.txt")))
    submit("message before the token", part(b"message", b"hi") + form(token))
    submit("file before the token", part(b"files", b"hi", b"a.txt") + form(token))
    submit("website before the token", part(b"website", b"") + form(token))
    submit("no token at all", part(b"message", b"hi") + end())
    submit("two messages", form(token, part(b"message", b"one"), part(b"message", b"two")))
    submit("two tokens", part(b"csrf_token", token.encode()) + valid)
    submit("the message as a file", form(token, part(b"message", b"hi", b"message.txt")))
    submit("a token longer than a field", form(token + "A" * 5000, part(b"message", b"hi")))
    submit("a field name of 10 KiB", form(token, part(b"m" * 10240, b"hi")))
    for name, bad in _bad_tokens(rng, token, other):
        submit(f"CSRF token {name}", form(bad, part(b"message", b"a tip")))
    # Nothing sent, or too much.
    submit("only the token", form(token))
    submit("an empty message", form(token, part(b"message", b"")))
    submit("an unnamed empty file part", form(token, part(b"files", b"", b"")))
    submit("only the honeypot, empty", form(token, part(b"website", b"")))
    for extra in range(1, 6):
        files = [part(b"files", b"x", f"f{i}.txt".encode()) for i in range(3 + extra)]
        submit(f"{3 + extra} files, limit 3", form(token, *files))
    for _ in range(6):
        chars = 2001 + rng.randint(0, 3000)
        submit(f"{chars} characters, limit 2000", form(token, part(b"message", b"w" * chars)))
    submit("a body over 1 MiB", form(token, part(b"files", b"z" * (MIB + 1), b"big.bin")))
    submit("many parts", form(token, *[part(b"website", b"") for _ in range(200)]))
    # Not a multipart form at all.
    for content_type in [
        None,
        "",
        "text/plain",
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary=""',
        "multipart/mixed; boundary=" + BOUNDARY.decode(),
        "multipart/form-data; charset=utf-16",
        "multipart/form-data; boundary*=utf-8''%ff%fe",
        "\x00multipart/form-data; boundary=" + BOUNDARY.decode(),
        "multipart/form-data; boundary=" + "b" * 5000,
        "image/png",
        "multipart/form-data;;;;",
    ]:
        cases.append(
            Case(f"content type {content_type!r}", "POST", "/submit", valid, session, content_type)
        )
    # No session: cookies that are absent, forged, oversized or malformed.
    cookies = [
        "",
        f"{COOKIE_NAME}=",
        f"{COOKIE_NAME}={cookie[:-1]}",
        f"{COOKIE_NAME}={cookie}x",
        f"{COOKIE_NAME}={'a' * 65}",
        f"{COOKIE_NAME}={'a' * 100_000}",
        f'{COOKIE_NAME}="{cookie}',
        f"{COOKIE_NAME}={cookie[:20]}\x00{cookie[20:]}",
        f"{COOKIE_NAME}={cookie[:20]};{cookie[20:]}",
        f"{COOKIE_NAME.upper()}={cookie}",
        f"session={cookie}",
        f"{COOKIE_NAME}=ünïcödé",
        ";;;;===;;",
        "=" * 5000,
    ]
    cookies += [f"{COOKIE_NAME}={_random_token(rng)}" for _ in range(16)]
    for value in cookies:
        cases.append(
            Case(
                f"cookie {value[:40]!r}", "POST", "/submit", valid, {"Cookie": value}, CONTENT_TYPE
            )
        )
    # The other forms: bad CSRF tokens, bad encodings, too much.
    urlencoded = "application/x-www-form-urlencoded"
    for path in ["/start", "/written", "/login", "/logout", "/replies/abc/delete"]:
        for name, bad in _bad_tokens(rng, token, other):
            body = f"csrf_token={bad}&codename=a+b+c".encode()
            cases.append(Case(f"{path} CSRF {name}", "POST", path, body, session, urlencoded))
        cases.append(Case(f"{path} no token", "POST", path, b"codename=x", session, urlencoded))
        cases.append(
            Case(f"{path} random body", "POST", path, rng.randbytes(300), session, urlencoded)
        )
        cases.append(
            Case(
                f"{path} a file part",
                "POST",
                path,
                form(token, part(b"files", b"x" * 1000, b"a.bin")),
                session,
                CONTENT_TYPE,
            )
        )
        huge = b"csrf_token=" + token.encode() + b"&codename=" + b"w" * (100 * 1024)
        cases.append(Case(f"{path} a 100 KiB form", "POST", path, huge, session, urlencoded))
    for i in range(10):
        codename = (
            b"%" + rng.choice([b"zz", b"f", b"", b"%", b"g0"]) + rng.randbytes(4).hex().encode()
        )
        if i % 2:
            codename = rng.choice(INVALID_UTF8) + codename
        body = b"csrf_token=" + token.encode() + b"&codename=" + codename
        cases.append(Case(f"/login bad encoding {i}", "POST", "/login", body, session, urlencoded))
    # Methods and paths that do not exist.
    for method in METHODS:
        for path in PATHS:
            cases.append(Case(f"{method} {path}", method, path, b"", session))
    for i in range(25):
        path = rng.choice(
            [
                "/../../etc/passwd",
                "/static/../instance/secret_key",
                "/static/%2e%2e/%2e%2e/pepper",
                "/%00",
                "/submit/",
                "/courier/v1/",
                "/replies//delete",
                "/" + "a" * 5000,
                "/%ff%fe",
                "/start?" + "x" * 10,
            ]
        )
        cases.append(Case(f"unknown path {i} {path[:30]!r}", "GET", path + "/" + str(i)))
    # Random bytes to every form, under every content type.
    for i in range(30):
        path = rng.choice(["/start", "/written", "/submit", "/login", "/logout"])
        content_type = rng.choice([CONTENT_TYPE, urlencoded, "application/octet-stream", None])
        body = rng.randbytes(rng.randint(0, 5000))
        cases.append(Case(f"random bytes {i} to {path}", "POST", path, body, session, content_type))
    # The courier API: requests that are not signed by a known key.
    key = SigningKey.generate()
    for i in range(25):
        request = CourierRequest("GET", "/courier/v1/bundle", int(time.time()), "0" * 64)
        headers = sign_request(key, request)
        name = rng.choice(sorted(headers))
        headers[name] = rng.choice(["", "x", "\x00", headers[name][:-1], "9" * 400, "é"])
        method, path = rng.choice(
            [
                ("GET", "/courier/v1/bundle"),
                ("POST", "/courier/v1/ack"),
                ("POST", "/courier/v1/replies"),
            ]
        )
        cases.append(Case(f"courier {i} bad {name}", method, path, b"{}", headers))
    return cases


def _counts(instance: Instance) -> dict[str, int]:
    return table_counts(instance, COUNTED)


def assert_refused(response_status: int, body: str, mimetype: str, case: Case) -> None:
    assert 400 <= response_status < 500, (case.name, response_status, body[:500])
    assert "Traceback" not in body and 'File "/' not in body, case.name
    if case.path.startswith("/courier/") and mimetype == "application/json":
        assert json.loads(body)["error"], case.name


def wrong_codename(case: Case, status: int) -> bool:
    """A check-in whose codename is garbage is a wrong codename: the login page's 403."""
    return case.path == "/login" and status == 403


def test_i8_malformed_requests_to_the_app_are_4xx_pages_and_store_nothing(
    instance: Instance,
) -> None:
    app = create_app(instance)
    logged_in = app.test_client()
    token = log_in(logged_in)
    cookie = logged_in.get_cookie(COOKIE_NAME)
    assert cookie is not None
    stranger = app.test_client()
    other = re.search(r'name="csrf_token" value="([^"]+)"', stranger.get("/login").text)
    assert other
    cases = app_cases(random.Random(SEED), token, other.group(1), cookie.value)
    assert len(cases) >= 400
    client: FlaskClient = app.test_client(use_cookies=False)
    before = _counts(instance)
    for case in cases:
        response = client.open(
            case.path,
            method=case.method,
            data=case.body,
            headers=case.headers,
            content_type=case.content_type,
        )
        text = response.get_data(as_text=True)
        assert_refused(response.status_code, text, response.mimetype, case)
        if response.mimetype == "text/html" and not wrong_codename(case, response.status_code):
            assert_plain_error(response)
        assert _counts(instance) == before, case.name
    # The session used throughout still works: nothing above broke it.
    assert (
        logged_in.post(
            "/submit", data=form(token, part(b"message", b"ok")), content_type=CONTENT_TYPE
        ).status_code
        == 200
    )


# HTTP as raw bytes to gunicorn

HOST = b"Host: 127.0.0.1\r\n"
LOGIN = b"POST /login HTTP/1.1\r\n" + HOST
BAD_BYTES = [b"\x00", b"\x7f", b"\xff", b"\x01", b"\x1b", b"\r", b"\n", b"\t", b" ", b"\x85"]
# RFC 9112 section 6.1: a transfer coding the server does not know gets 501 Not Implemented.
UNKNOWN_CODING = "unknown transfer coding"


def raw_cases(rng: random.Random) -> list[tuple[str, bytes]]:
    fixed = {
        "a bare method": b"GET\r\n\r\n",
        "no version": b"GET /\r\n\r\n",
        "HTTP/9.9": b"GET / HTTP/9.9\r\n" + HOST + b"\r\n",
        "a word after the version": b"GET / HTTP/1.1 extra\r\n" + HOST + b"\r\n",
        "a NUL in the method": b"G\x00T / HTTP/1.1\r\n" + HOST + b"\r\n",
        "two spaces": b"GET  / HTTP/1.1\r\n" + HOST + b"\r\n",
        "a lowercase method": b"get / HTTP/1.1\r\n" + HOST + b"\r\n",
        "a method of 100 letters": b"A" * 100 + b" / HTTP/1.1\r\n" + HOST + b"\r\n",
        "a URI of 9000 bytes": b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
        "raw non-ASCII in the path": b"GET /\xff\xfe HTTP/1.1\r\n" + HOST + b"\r\n",
        "an empty version": b"GET / \r\n" + HOST + b"\r\n",
        "HTTPS/1.1": b"GET / HTTPS/1.1\r\n" + HOST + b"\r\n",
        "tabs for spaces": b"GET\t/\tHTTP/1.1\r\n" + HOST + b"\r\n",
        "bare LF line ends": b"GET / HTTP/1.1\nHost: 127.0.0.1\n\n",
        "the asterisk form": b"GET * HTTP/1.1\r\n" + HOST + b"\r\n",
        "only blank lines": b"\r\n\r\n",
        "a PROXY line without --proxy-protocol": b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"
        + b"GET / HTTP/1.1\r\n"
        + HOST
        + b"\r\n",
        "the HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "a TLS client hello": bytes.fromhex("16030100a5010000a10303") + bytes(50),
        "a header without a colon": LOGIN + b"NoColon\r\n\r\n",
        "a space before the colon": LOGIN + b"X-A : b\r\n\r\n",
        "a bad header name": LOGIN + b"X(A): b\r\n\r\n",
        "an obsolete folded header": LOGIN + b"X-A: b\r\n c\r\n\r\n",
        "a NUL in a header value": LOGIN + b"X-A: b\x00c\r\n\r\n",
        "a header of 9000 bytes": LOGIN + b"X-A: " + b"a" * 9000 + b"\r\n\r\n",
        "150 headers": LOGIN + b"".join(b"X-%d: 1\r\n" % i for i in range(150)) + b"\r\n",
        "two Content-Lengths": LOGIN + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "a negative Content-Length": LOGIN + b"Content-Length: -1\r\n\r\n",
        "a Content-Length that is no number": LOGIN + b"Content-Length: abc\r\n\r\n",
        "a Content-Length with a sign": LOGIN + b"Content-Length: +3\r\n\r\nabc",
        "a Content-Length with a space": LOGIN + b"Content-Length: 1 2\r\n\r\nab",
        "a Content-Length of 10^23": LOGIN + b"Content-Length: " + b"9" * 23 + b"\r\n\r\n",
        "Content-Length and chunked": LOGIN
        + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "chunked and Content-Length 0": LOGIN
        + b"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "gzip coding": LOGIN + b"Transfer-Encoding: gzip\r\n\r\nabc",
        "chunked, then gzip": LOGIN + b"Transfer-Encoding: chunked, gzip\r\n\r\n",
        "gzip, then chunked": LOGIN + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        "chunked twice": LOGIN
        + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        f"{UNKNOWN_CODING} xchunked": LOGIN + b"Transfer-Encoding: xchunked\r\n\r\n",
        "a chunk size that is no number": LOGIN
        + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        "a chunk size of 2^80": LOGIN
        + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
        "no last chunk": LOGIN + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        "a chunk without its CRLF": LOGIN + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcX0\r\n\r\n",
        "a body shorter than its Content-Length": LOGIN + b"Content-Length: 100\r\n\r\nabc",
    }
    cases = list(fixed.items())
    request_line = b"POST /submit HTTP/1.1"
    for i in range(40):
        line = bytearray(request_line)
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, len(line))
            line[at : at + rng.randint(0, 2)] = rng.choice(BAD_BYTES)  # insert, or overwrite
        cases.append((f"request line mutation {i}", bytes(line) + b"\r\n" + HOST + b"\r\n"))
    header_lines = [b"Content-Type: application/x-www-form-urlencoded", b"Content-Length: 3"]
    for i in range(40):
        lines = list(header_lines)
        at = rng.randrange(len(lines))
        header = bytearray(lines[at])
        colon = header.index(b":")
        spot = rng.choice([0, colon, colon - 1, rng.randint(0, colon)])
        header[spot:spot] = rng.choice([b"\x00", b"\x7f", b" ", b"\t", b"(", b"\r", b"\xff", b"@"])
        lines[at] = bytes(header)
        cases.append((f"header name mutation {i}", LOGIN + b"\r\n".join(lines) + b"\r\n\r\nabc"))
    for i in range(20):
        size = rng.choice([b"-1", b"0x10", b"g", b"1;" + b"e" * 9000, b"", b" 3", b"3 3", b"\xff"])
        body = size + b"\r\nabc\r\n0\r\n\r\n"
        cases.append((f"bad chunk {i}", LOGIN + b"Transfer-Encoding: chunked\r\n\r\n" + body))
    for i in range(30):
        cases.append((f"random bytes {i}", rng.randbytes(rng.randint(1, 2000))))
    return cases


def exchange(port: int, data: bytes, timeout: float = 10.0) -> tuple[bytes, float]:
    """Send ``data`` and close the sending side; return all that comes back, and the time."""
    started = time.monotonic()
    answer = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            while chunk := sock.recv(65536):
                answer += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass  # the server refused and closed: what it said is what counts
    return bytes(answer), time.monotonic() - started


@pytest.mark.slow
def test_i8_malformed_http_to_gunicorn_is_refused_or_closed_never_a_5xx(
    instance: Instance, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(instance)
    cases = raw_cases(random.Random(SEED))
    assert len(cases) >= 150
    before = _counts(instance)

    def check(case: tuple[str, bytes]) -> None:
        name, data = case
        answer, seconds = exchange(server.port, data)
        assert seconds < 10, f"{name}: no answer and no close in {seconds:.1f} s"
        if not answer:
            return  # gunicorn closed a connection it could not parse
        status_line = answer.split(b"\r\n", 1)[0].split(b" ")
        assert status_line[0] in (b"HTTP/1.1", b"HTTP/1.0"), (name, answer[:200])
        status = int(status_line[1])
        head, _, body = answer.partition(b"\r\n\r\n")
        allowed_5xx = status == 501 and name.startswith(UNKNOWN_CODING)
        assert 400 <= status < 500 or allowed_5xx, (name, answer[:300])
        assert b"Traceback" not in body and b"Server:" not in head, name

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(check, cases))
    assert _counts(instance) == before
    assert requests.get(server.base_url + "/", timeout=10).status_code == 200
    server.stop()
    assert "Traceback" not in server.log_path.read_text(errors="replace")


# Files: tip bundles, reply bundles, identity files

ItemSpec = tuple[str, str, bytes]  # id, kind, ciphertext
Entry = tuple[str, bytes, bytes]  # name, data, tar member type


def sealed(recipient: age.Recipient, kind: str, content: bytes, name: str = "") -> bytes:
    out = io.BytesIO()
    ItemWriter(out, [recipient], kind, name).seal_all(io.BytesIO(content))
    return out.getvalue()


def manifest_of(kind: str, signer: SigningKey, items: list[ItemSpec]) -> dict[str, object]:
    return {
        "format": "cairn-bundle",
        "version": 1,
        "kind": kind,
        "signer": str(signer.verify_key),
        "items": [
            {
                "id": item_id,
                "source": "s0urce",
                "kind": item_kind,
                "day": "2026-11-26",
                "size": len(data),
                "reply_recipient": "",
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for item_id, item_kind, data in items
        ],
    }


def tar_of(entries: list[Entry], tar_format: int = tarfile.USTAR_FORMAT) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tar_format) as tar:
        for name, data, member_type in entries:
            info = tarfile.TarInfo(name)
            info.type = member_type
            if member_type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE):
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.linkname = data.decode("latin-1")
                tar.addfile(info)
    return out.getvalue()


def bundle_of(
    kind: str,
    signer: SigningKey,
    items: list[ItemSpec],
    manifest: bytes | None = None,
    extra: list[Entry] | None = None,
) -> bytes:
    """A bundle, its manifest (given, or the right one) signed by ``signer``: well signed, so a
    refusal is about the content."""
    if manifest is None:
        manifest = json.dumps(manifest_of(kind, signer, items)).encode()
    signature = signer.sign(f"bundle/{kind}", manifest)
    entries = [(f"items/{item_id}.age", data, tarfile.REGTYPE) for item_id, _, data in items]
    entries += extra or []
    entries += [("manifest.json", manifest, tarfile.REGTYPE)]
    entries += [("manifest.sig", signature, tarfile.REGTYPE)]
    return tar_of(entries)


def data_ranges(bundle: bytes) -> tuple[list[range], int]:
    """Where a tar's member headers and data lie (not its padding), and where its data ends."""
    ranges = []
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:") as tar:
        for member in tar.getmembers():
            ranges.append(range(member.offset, member.offset_data + member.size))
    return ranges, ranges[-1].stop


def manifest_variants(
    kind: str, signer: SigningKey, items: list[ItemSpec]
) -> Iterator[tuple[str, bytes]]:
    """Manifests that are well signed but wrong, each with the bundle that carries it."""
    good = manifest_of(kind, signer, items)
    first = good["items"][0]  # type: ignore[index]

    def with_items(value: object) -> bytes:
        return json.dumps({**good, "items": value}).encode()

    def with_item(**changes: object) -> bytes:
        return with_items([{**first, **changes}, *good["items"][1:]])  # type: ignore[index]

    raw: dict[str, bytes] = {
        "items: 5": with_items(5),
        "items: null": with_items(None),
        "items: true": with_items(True),
        "items: a string": with_items("abc"),
        "items: an object": with_items({"a": 1}),
        "items: list of lists": with_items([[1, 2]]),
        "items: list of numbers": with_items([1, 2]),
        "no items": json.dumps({k: v for k, v in good.items() if k != "items"}).encode(),
        "manifest a list": b"[]",
        "manifest a string": b'"cairn"',
        "manifest a number": b"5",
        "manifest null": b"null",
        "manifest empty": b"",
        "manifest not JSON": b"{cairn",
        "manifest not UTF-8": b'{"format": "\xff\xfe"}',
        "manifest nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
        "manifest object nested 50000 deep": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        "format wrong": json.dumps({**good, "format": "tar"}).encode(),
        "version 2": json.dumps({**good, "version": 2}).encode(),
        "version a string": json.dumps({**good, "version": "1"}).encode(),
        "kind wrong": json.dumps({**good, "kind": "other"}).encode(),
        "item with an extra field": with_item(extra=1),
        "item missing a field": with_items([{k: v for k, v in first.items() if k != "sha256"}]),
        "item id a path": with_item(id="../../etc/passwd"),
        "item id too long": with_item(id="a" * 65),
        "item id a number": with_item(id=5),
        "item id null": with_item(id=None),
        "item source a path": with_item(source="/"),
        "item source an object": with_item(source={"a": 1}),
        "item size negative": with_item(size=-1),
        "item size a float": with_item(size=1.5),
        "item size a string": with_item(size="12"),
        "item size huge": with_item(size=10**30),
        "item size NaN": with_items([{**first, "size": float("nan")}]),
        "item day a number": with_item(day=20261126),
        "item day a word": with_item(day="yesterday"),
        "item sha256 wrong": with_item(sha256="0" * 64),
        "item sha256 uppercase": with_item(sha256=first["sha256"].upper()),
        "item sha256 short": with_item(sha256="abc"),
        "item sha256 a list": with_item(sha256=["a"]),
        "item kind a number": with_item(kind=5),
        "item reply_recipient a number": with_item(reply_recipient=5),
        "item listed twice": with_items([first, first]),
        "a 6000-digit number": b'{"version": ' + b"9" * 6000 + b"}",
    }
    if kind == "replies":  # a reply bundle names its signer; a tip bundle's is pinned instead
        for label, value in [("a number", 5), ("a list", ["x"]), ("null", None), ("bad", "x1")]:
            raw[f"signer {label}"] = json.dumps({**good, "signer": value}).encode()
    for name, manifest in raw.items():
        yield f"manifest {name}", bundle_of(kind, signer, items, manifest)
    yield "an item missing", bundle_of(kind, signer, items[1:], json.dumps(good).encode())
    yield (
        "an item not listed",
        bundle_of(
            kind,
            signer,
            items,
            with_items(good["items"][1:]),  # type: ignore[index]
        ),
    )
    bigger = [(items[0][0], items[0][1], items[0][2] + b"x"), *items[1:]]
    yield "an item larger than listed", bundle_of(kind, signer, bigger, json.dumps(good).encode())
    bad = [(i, k, b"not an age file" * 10) for i, k, _ in items]
    yield "items that are not age files", bundle_of(kind, signer, bad)
    for label, member_type, data in [
        ("a symlink", tarfile.SYMTYPE, b"/etc/passwd"),
        ("a hard link", tarfile.LNKTYPE, b"manifest.json"),
        ("a hard link to nothing", tarfile.LNKTYPE, b"nowhere"),
        ("a directory", tarfile.DIRTYPE, b""),
        ("a FIFO", tarfile.FIFOTYPE, b""),
        ("a device", tarfile.CHRTYPE, b""),
    ]:
        extra = [(f"items/{items[0][0]}.age", data, member_type)]
        yield (
            f"an item that is {label}",
            bundle_of(kind, signer, items[1:], json.dumps(good).encode(), extra),
        )
        yield (
            f"an extra member that is {label}",
            bundle_of(kind, signer, items, extra=[("extra", data, member_type)]),
        )
    for name in [
        "../evil.age",
        "/etc/evil",
        "items/../../evil.age",
        "items/x.age",
        "manifest.json",
    ]:
        yield (
            f"an extra member {name!r}",
            bundle_of(kind, signer, items, extra=[(name, b"evil", tarfile.REGTYPE)]),
        )
    signature = signer.sign(f"bundle/{kind}", json.dumps(good).encode())
    entries = [(f"items/{i}.age", d, tarfile.REGTYPE) for i, _, d in items]
    yield (
        "the manifest first",
        tar_of(
            [
                ("manifest.json", json.dumps(good).encode(), tarfile.REGTYPE),
                ("manifest.sig", signature, tarfile.REGTYPE),
                *entries,
                *entries[:1],
            ]
        ),
    )
    yield (
        "no signature",
        tar_of([*entries, ("manifest.json", json.dumps(good).encode(), tarfile.REGTYPE)]),
    )
    yield (
        "a signature of 2000 bytes",
        tar_of(
            [
                *entries,
                ("manifest.json", json.dumps(good).encode(), tarfile.REGTYPE),
                ("manifest.sig", signature * 32, tarfile.REGTYPE),
            ]
        ),
    )
    yield (
        "a manifest that is a directory",
        tar_of(
            [
                *entries,
                ("manifest.json", b"", tarfile.DIRTYPE),
                ("manifest.sig", signature, tarfile.REGTYPE),
            ]
        ),
    )
    yield (
        "signed for the other kind",
        bundle_of(
            kind,
            signer,
            items,
            json.dumps({**good, "kind": "tips" if kind == "replies" else "replies"}).encode(),
        ),
    )


def mutations(rng: random.Random, valid: bytes, count: int) -> Iterator[tuple[str, bytes]]:
    """Cut-off and bit-flipped copies of a valid bundle: only in headers and data, never in the
    padding a tar reader rightly ignores, so every one must be refused."""
    ranges, data_end = data_ranges(valid)
    # A header's checksum field ends with a NUL and a space that the checksum skips: a flip of
    # that space changes nothing a reader looks at.
    ignored = {r.start + 155 for r in ranges}
    positions = [p for r in ranges for p in r if p not in ignored]
    for _ in range(count):
        cut = rng.randrange(data_end)
        yield f"cut at {cut}", valid[:cut]
    for _ in range(count):
        data = bytearray(valid)
        at = rng.choice(positions)
        data[at] ^= 1 << rng.randrange(8)
        yield f"bit flipped at {at}", bytes(data)


def other_formats(rng: random.Random, valid: bytes) -> Iterator[tuple[str, bytes]]:
    import gzip
    import zipfile

    yield "empty", b""
    yield "zero blocks", bytes(10240)
    yield "gzipped", gzip.compress(valid)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("manifest.json", b"{}")
    yield "a zip file", archive.getvalue()
    for i in range(10):
        yield f"random bytes {i}", rng.randbytes(rng.randint(1, 20_000))
    yield "a tar of nothing", tar_of([])


def tip_bundle_corpus(recipient: age.Recipient, signer: SigningKey) -> list[tuple[str, bytes]]:
    rng = random.Random(SEED + 1)
    items = [
        ("m1", "message", sealed(recipient, "message", b"a tip")),
        ("f1", "file", sealed(recipient, "file", rng.randbytes(3000), "memo.pdf")),
    ]
    valid = bundle_of("tips", signer, items)
    cases = list(mutations(rng, valid, 30))
    cases += list(manifest_variants("tips", signer, items))
    cases += list(other_formats(rng, valid))
    cases.append(("signed by another key", bundle_of("tips", SigningKey.generate(), items)))
    return cases


# The review workspace key the server under test accepts for reply bundles.
REPLY_SIGNER = SigningKey.generate()


def reply_bundle_corpus(
    recipient: age.Recipient, source_id: str
) -> tuple[bytes, list[tuple[str, bytes]]]:
    rng = random.Random(SEED + 2)
    signer = REPLY_SIGNER
    items = [("r1", "reply", sealed(recipient, "reply", b"thank you, we are looking into it"))]
    good = manifest_of("replies", signer, items)
    good["items"][0]["source"] = source_id  # type: ignore[index]
    valid = bundle_of("replies", signer, items, json.dumps(good).encode())
    cases = list(mutations(rng, valid, 25))
    cases += list(manifest_variants("replies", signer, items))
    cases += list(other_formats(rng, valid))
    cases.append(("a reply for an unknown source", bundle_of("replies", signer, items)))
    unknown_signer = manifest_of("replies", forger := SigningKey.generate(), items)
    unknown_signer["items"][0]["source"] = source_id  # type: ignore[index]
    forged = bundle_of("replies", forger, items, json.dumps(unknown_signer).encode())
    cases.append(("signed by a key not accepted", forged))
    cases.append(
        ("a tip in a reply bundle", bundle_of("replies", signer, [("t1", "message", items[0][2])]))
    )
    return valid, cases


def identity_corpus(identity: age.X25519Identity, work: Path) -> list[tuple[str, bytes]]:
    rng = random.Random(SEED + 3)
    made = work / "made.age"
    write_identity_file(made, identity, PASSPHRASE, work_factor=10)
    valid = made.read_bytes()
    header_end = valid.index(b"\n---") + 1
    work_factor = valid.index(b" 10\n") + 1

    def passphrase_file(plaintext: bytes, work_factor: int = 10) -> bytes:
        out = io.BytesIO()
        age.encrypt(io.BytesIO(plaintext), out, [age.ScryptRecipient(PASSPHRASE, work_factor)])
        return out.getvalue()

    def to_x25519(plaintext: bytes) -> bytes:
        out = io.BytesIO()
        age.encrypt(io.BytesIO(plaintext), out, [age.X25519Identity.generate().recipient])
        return out.getvalue()

    cases: list[tuple[str, bytes]] = []
    for _ in range(25):
        cut = rng.randrange(len(valid))
        cases.append((f"cut at {cut}", valid[:cut]))
    for _ in range(35):
        # Not in the work factor's digits: 10 -> 20 would only be slow (2^20 is allowed).
        at = rng.choice([p for p in range(len(valid)) if p not in (work_factor, work_factor + 1)])
        data = bytearray(valid)
        data[at] ^= 1 << rng.randrange(8)
        cases.append(
            (f"bit flipped at {at} ({'header' if at < header_end else 'payload'})", bytes(data))
        )
    stanza = valid[len(b"age-encryption.org/v1\n") : header_end]
    line = stanza.partition(b"\n")[0]
    _, _, salt, _ = line.split(b" ")
    for label, new_line in [
        ("work factor 23", b"-> scrypt " + salt + b" 23"),
        ("work factor 99", b"-> scrypt " + salt + b" 99"),
        ("work factor 0", b"-> scrypt " + salt + b" 0"),
        ("work factor 010", b"-> scrypt " + salt + b" 010"),
        ("work factor -1", b"-> scrypt " + salt + b" -1"),
        ("work factor 10^30", b"-> scrypt " + salt + b" " + b"1" * 30),
        ("a short salt", b"-> scrypt " + salt[:-4] + b" 10"),
        ("salt not base64", b"-> scrypt " + b"!" * len(salt) + b" 10"),
        ("no work factor", b"-> scrypt " + salt),
        ("three arguments", b"-> scrypt " + salt + b" 10 10"),
    ]:
        cases.append((label, valid.replace(line, new_line, 1)))
    cases += [
        ("empty", b""),
        ("only the version line", b"age-encryption.org/v1\n"),
        ("armored", b"-----BEGIN AGE ENCRYPTED FILE-----\n" + base64.b64encode(valid) + b"\n"),
        ("the secret key in the clear", f"{identity}\n".encode()),
        ("encrypted to a key, not a passphrase", to_x25519(f"{identity}\n".encode())),
        ("two scrypt stanzas", valid.replace(stanza, stanza + stanza, 1)),
        ("no identity inside", passphrase_file(b"# just a comment\nhello\n")),
        ("a broken identity inside", passphrase_file(b"AGE-SECRET-KEY-1QQQQQQQQQQQQQQ\n")),
        ("a public key inside", passphrase_file(f"{identity.recipient}\n".encode())),
        ("not UTF-8 inside", passphrase_file(b"\xff\xfe AGE-SECRET-KEY-1\n")),
        ("nothing inside", passphrase_file(b"")),
    ]
    cases += [(f"random bytes {i}", rng.randbytes(rng.randint(1, 3000))) for i in range(10)]
    return cases


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """A CLI refusal: non-zero exit, no traceback, and a single ``Error:`` line."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_i8_malformed_tip_bundles_are_refused_and_import_nothing(
    reviewer: tuple[age.X25519Identity, Path, Path], offline: Reviewer, tmp_path: Path
) -> None:
    identity = reviewer[0]
    signer = SigningKey.generate()
    corpus = tip_bundle_corpus(identity.recipient, signer)
    assert len(corpus) >= 100
    path = tmp_path / "bundle.tar"
    for name, data in corpus:
        path.write_bytes(data)
        try:  # what `review import` does before it stores anything
            with open_bundle(path, signer.verify_key) as bundle:
                for item in bundle.items:
                    bundle.check_item(item)
                for item in bundle.items:
                    ciphertext = io.BytesIO()
                    bundle.copy_item(item, ciphertext)
                    ciphertext.seek(0)
                    open_item(ciphertext, io.BytesIO(), [identity])
        except (BundleError, age.DecryptError):
            continue
        pytest.fail(f"{name}: accepted")

    # A sample through the real CLI: each a one-line error, and the workspace stays empty.
    offline.review("trust", str(signer.verify_key))
    for name, data in corpus[:: len(corpus) // 8]:
        sample = tmp_path / "sample.tar"
        sample.write_bytes(data)
        line = one_line_error(offline.review("import", sample, ok=False))
        assert "nothing was imported" in line, (name, line)
    assert json.loads(offline.review("tips", "--json").stdout) == []
    tips = Path(offline.env["CAIRN_WORKSPACE"]) / "tips"
    assert not [p for p in tips.rglob("*") if p.is_file()] if tips.exists() else True


def test_i8_malformed_reply_bundles_are_refused_in_process_and_by_the_courier_api(
    courier: Courier, offline: Reviewer
) -> None:
    source = courier.server.source()
    source.start()
    assert source.submit("a tip, so that a source exists").status_code == 200
    engine = sqlalchemy.create_engine(courier.instance.database_url)
    with engine.connect() as connection:
        source_id = connection.scalar(sqlalchemy.text("SELECT id FROM sources"))
    engine.dispose()
    valid, corpus = reply_bundle_corpus(offline.identity.recipient, source_id)
    assert len(corpus) >= 100
    add = ["reviewers", "add", REPLY_SIGNER.verify_key, "--name", "desk"]
    run("intake", *add, "--instance", courier.instance.path)

    for name, data in corpus:
        try:
            received = receive_bundle(
                io.BytesIO(data), "replies", {REPLY_SIGNER.verify_key}, max_bytes=64 << 20
            )
        except BundleError:
            continue
        # A well-formed bundle (receive_bundle checks the bundle, not what its items hold): the
        # server refuses these for what they say, a source it does not know or a tip.
        well_formed = {"a reply for an unknown source", "a tip in a reply bundle"}
        assert name in {*well_formed, "items that are not age files"}, name
        assert received.items

    def push(body: bytes) -> requests.Response:
        path = "/courier/v1/replies"
        signed = sign_request(
            courier.key,
            CourierRequest("POST", path, int(time.time()), hashlib.sha256(body).hexdigest()),
        )
        return requests.post(courier.server.base_url + path, data=body, headers=signed, timeout=60)

    unchanged = tuple(t for t in STORED_TABLES if t != "seen_signatures")
    before = table_counts(courier.instance, unchanged)
    for name, data in corpus:
        response = push(data)
        expected = (403,) if name == "signed by a key not accepted" else (400, 413)
        assert response.status_code in expected, (name, response.status_code, response.text)
        assert response.json()["error"], name
    assert table_counts(courier.instance, unchanged) == before
    # The well-formed bundle the corpus came from is accepted: the refusals were about content.
    assert PushAnswer.parse(push(valid).content) == PushAnswer(stored=1, already_stored=0)
    # So are a long reply bundle and a long ack, far below their limits (64 MiB and 1 MiB).
    rng = random.Random(SEED + 4)
    replies = [
        (f"long{i}", "reply", sealed(offline.identity.recipient, "reply", rng.randbytes(40_000)))
        for i in range(4)
    ]
    manifest = manifest_of("replies", REPLY_SIGNER, replies)
    for item in manifest["items"]:  # type: ignore[attr-defined]
        item["source"] = source_id
    long_bundle = bundle_of("replies", REPLY_SIGNER, replies, json.dumps(manifest).encode())
    assert len(long_bundle) > 128 * 1024
    response = push(long_bundle)
    assert PushAnswer.parse(response.content) == PushAnswer(stored=4, already_stored=0), (
        response.text
    )
    server = courier.instance.signing_key.verify_key
    ack = sign_ack(REPLY_SIGNER, server, (f"{i:032x}" for i in range(4000)))
    assert len(ack) > 128 * 1024
    path = "/courier/v1/ack"
    signed = sign_request(
        courier.key, CourierRequest("POST", path, int(time.time()), hashlib.sha256(ack).hexdigest())
    )
    response = requests.post(courier.server.base_url + path, data=ack, headers=signed, timeout=60)
    assert response.json() == {"acknowledged": 0}, response.text
    courier.server.stop()
    assert "Traceback" not in courier.server.log_path.read_text(errors="replace")


def test_i8_malformed_identity_files_get_a_one_line_error(
    reviewer: tuple[age.X25519Identity, Path, Path], tmp_path: Path
) -> None:
    identity, identity_file, passphrase_file = reviewer
    corpus = identity_corpus(identity, tmp_path)
    assert len(corpus) >= 80
    paths = []
    for i, (name, data) in enumerate(corpus):
        path = tmp_path / f"identity-{i}.age"
        path.write_bytes(data)
        paths.append(path)
        try:
            read_identity_file(path, PASSPHRASE)
        except (age.DecryptError, ValueError):  # what load_identity makes a one-line error of
            continue
        pytest.fail(f"{name}: accepted")

    wrong = tmp_path / "wrong-passphrase.txt"
    wrong.write_text("not the passphrase\n")
    runs = [(p, passphrase_file) for p in paths[:: len(paths) // 10]]
    runs.append((identity_file, wrong))

    def show(run: tuple[Path, Path]) -> subprocess.CompletedProcess[str]:
        path, passphrase = run
        return subprocess.run(
            [
                VENV_BIN / "review",
                "keys",
                "show",
                "--identity",
                path,
                "--passphrase-file",
                passphrase,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    with ThreadPoolExecutor(4) as pool:
        for result in pool.map(show, runs):
            one_line_error(result)
