"""I4 and I5 on every response: the security headers, no server banner, no script and nothing
loaded from elsewhere on any page in any state; CSRF on every form (a POST without a token
stores nothing); a session cookie that is only a random token; and I3: the codename is found in
no database file, log or cookie after a source has started, sent a tip and checked back."""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import re
import secrets
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from intake import create_app
from intake.headers import SECURITY_HEADERS
from intake.instance import Instance
from intake.sessions import COOKIE_NAME
from tests.support.forms import FORM_RETURNED, csrf_of, start_source
from tests.support.intake import CODENAME, CSRF, LiveServer, SourceSession, table_counts

# What DESIGN.md and issue 3 ask for, spelled out here so a change to intake/headers.py that
# weakens any of them fails this test.
REQUIRED_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
BANNER_HEADERS = ("server", "x-powered-by", "via")
BOUNDARY = "cairnboundary"
# Every line the server's log may hold (I5: no access log, no request in it): the listening
# announcement, and gunicorn's own lines at warning level and above, which name no request.
_GUNICORN_PREFIX = r"\[[0-9: +-]+\] \[\d+\] \[(?:WARNING|ERROR|CRITICAL)\] "
_GUNICORN_MESSAGES = (
    r"refused a malformed request",
    r"failed to handle a request \(\w+\)",
    r"Worker with pid \d+ was terminated due to signal \d+",
    r"Worker \(pid:\d+\) was sent (?:SIGTERM|SIGKILL|SIGQUIT)!?",
    r"Shutting down: Master",
)
ALLOWED_LOG_LINE = re.compile(
    r"Cairn intake is listening on (?:http|unix|fd)://[^\s]+"
    rf"|{_GUNICORN_PREFIX}(?:{'|'.join(_GUNICORN_MESSAGES)})"
)
COUNTED_TABLES = ("sources", "submissions", "items", "chunks")
# What every refusal offers: a way back, or the form itself given back with the reason.
WAYS_ON = ("Back to the start page", "Check back", FORM_RETURNED)


# Helpers


def row_counts(instance: Instance) -> dict[str, int]:
    return table_counts(instance, COUNTED_TABLES)


def header_problems(pairs: list[tuple[str, str]]) -> list[str]:
    """Every way a response's headers differ from what every response must carry."""
    problems = []
    for name, value in {**SECURITY_HEADERS, **REQUIRED_HEADERS}.items():
        values = [v for n, v in pairs if n.lower() == name.lower()]
        if values != [value]:
            problems.append(f"{name}: {values!r}, expected exactly [{value!r}]")
    problems += [f"banner header {n}: {v}" for n, v in pairs if n.lower() in BANNER_HEADERS]
    return problems


def multipart(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A multipart/form-data body: (field name, file name or None, content) per part."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def post_multipart(client: FlaskClient, path: str, body: bytes) -> TestResponse:
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}")


def variant(instance: Instance, **settings: Any) -> Instance:
    """The same instance (same database) with some settings changed."""
    return dataclasses.replace(instance, config=dataclasses.replace(instance.config, **settings))


# The tour: every route, in every state, error pages included


@pytest.fixture
def tour(make_instance: Callable[..., Instance]) -> dict[str, TestResponse]:
    """Label -> response for every page and error the source side can produce."""
    instance = make_instance(max_upload_mib=1)
    app = create_app(instance)
    client = app.test_client()
    seen: dict[str, TestResponse] = {}

    def see(label: str, response: TestResponse) -> TestResponse:
        seen[label] = response
        return response

    # A visitor without a session.
    see("GET / (new visitor)", client.get("/"))
    see("HEAD /", client.head("/"))
    see("OPTIONS /", client.options("/"))
    see("GET /login", client.get("/login"))
    see("GET /submit (not logged in, 403)", client.get("/submit"))
    see(
        "POST /submit (not logged in, 403)",
        post_multipart(client, "/submit", multipart([("message", None, b"hi")])),
    )
    see("POST /written (not logged in, 400 CSRF)", client.post("/written"))
    css = see("GET /static/style.css", client.get("/static/style.css"))
    if css.headers.get("ETag"):
        see(
            "GET /static/style.css (304)",
            client.get("/static/style.css", headers={"If-None-Match": css.headers["ETag"]}),
        )
    see("GET /static/missing.css (404)", client.get("/static/missing.css"))
    see("GET /no-such-page (404)", client.get("/no-such-page"))
    see("GET /start (405)", client.get("/start"))
    see("DELETE / (405)", client.delete("/"))
    see("POST /start without CSRF (400)", client.post("/start"))
    see("POST /login without CSRF (400)", client.post("/login", data={"codename": "x y"}))

    # First time: codename, 'written it down', the form, a tip, more.
    landing = client.get("/")
    shown = see(
        "POST /start (codename page)",
        client.post("/start", data={"csrf_token": csrf_of(landing)}),
    )
    match = CODENAME.search(shown.get_data(as_text=True))
    assert match
    codename = match.group(1)
    see("POST /written (303)", client.post("/written", data={"csrf_token": csrf_of(shown)}))
    form = see("GET /submit (logged in)", client.get("/submit"))
    token = csrf_of(form)
    see("GET / (logged in)", client.get("/"))
    see(
        "POST /submit over the size limit (413)",
        post_multipart(
            client,
            "/submit",
            multipart(
                [("csrf_token", None, token.encode()), ("files", "big.bin", b"x" * (1 << 20))]
            ),
        ),
    )
    see(
        "POST /submit malformed (400)",
        post_multipart(client, "/submit", b"--" + BOUNDARY.encode() + b"\r\nno blank line"),
    )
    see(
        "POST /submit without CSRF (400)",
        post_multipart(client, "/submit", multipart([("message", None, b"hello")])),
    )
    sent = see(
        "POST /submit (sent)",
        post_multipart(
            client,
            "/submit",
            multipart(
                [
                    ("csrf_token", None, token.encode()),
                    ("website", None, b""),
                    ("message", None, b"A first tip."),
                    ("files", "memo.txt", b"memo"),
                ]
            ),
        ),
    )
    assert "received" in sent.get_data(as_text=True)
    see("POST /logout", client.post("/logout", data={"csrf_token": csrf_of(sent)}))
    see("GET /submit (after log-out, 403)", client.get("/submit"))

    # Checking back: a wrong codename, then the right one, then a follow-up.
    login = client.get("/login")
    see(
        "POST /login wrong codename (403)",
        client.post("/login", data={"csrf_token": csrf_of(login), "codename": "not my codename"}),
    )
    back = see(
        "POST /login (check-back page)",
        client.post("/login", data={"csrf_token": csrf_of(login), "codename": codename}),
    )
    assert "Welcome back" in back.get_data(as_text=True)
    see(
        "POST /submit follow-up (sent)",
        post_multipart(
            client,
            "/submit",
            multipart([("csrf_token", None, csrf_of(back).encode()), ("message", None, b"More.")]),
        ),
    )

    # Storage past the high-water mark: the 'closed' page.
    closed = create_app(variant(instance, max_stored_gib=0.0)).test_client()
    landing = closed.get("/")
    see(
        "POST /start past the high-water mark (503)",
        closed.post("/start", data={"csrf_token": csrf_of(landing)}),
    )

    # A flood: the 'very busy' page.
    busy = create_app(variant(instance, global_page_limit="2/minute")).test_client()
    for _ in range(3):
        flooded = busy.get("/")
    see("GET / in a flood (429)", flooded)

    # A bug in a view: the generic 500 page, still with every header and no traceback.
    broken_app = create_app(instance)

    def broken() -> str:
        raise RuntimeError("a bug, with request content: CANARY-500")

    broken_app.add_url_rule("/broken", "broken", broken)
    see("GET /broken (500)", broken_app.test_client().get("/broken"))
    return seen


def test_the_headers_module_holds_what_the_design_asks() -> None:
    for name, value in REQUIRED_HEADERS.items():
        assert SECURITY_HEADERS.get(name) == value
    assert not {n.lower() for n in SECURITY_HEADERS} & set(BANNER_HEADERS)


def test_the_tour_reaches_every_kind_of_response(tour: dict[str, TestResponse]) -> None:
    statuses = {response.status_code for response in tour.values()}
    assert {200, 303, 400, 403, 404, 405, 413, 429, 500, 503} <= statuses, statuses
    texts = {label: r.get_data(as_text=True) for label, r in tour.items()}
    assert "Your codename" in texts["POST /start (codename page)"]
    assert "Welcome back" in texts["POST /login (check-back page)"]
    assert "not recognised" in texts["POST /login wrong codename (403)"]
    assert "logged out" in texts["POST /logout"]


def test_i4_i5_every_response_carries_exactly_the_security_headers(
    tour: dict[str, TestResponse],
) -> None:
    problems = {
        label: found
        for label, response in tour.items()
        if (found := header_problems(list(response.headers.items())))
    }
    assert problems == {}


def _html_pages(tour: dict[str, TestResponse], redirects: bool = True) -> Iterator[tuple[str, str]]:
    for label, response in tour.items():
        if not redirects and 300 <= response.status_code < 400:
            continue
        text = response.get_data(as_text=True)
        if response.mimetype == "text/html" and text:  # not HEAD, OPTIONS or a 304
            yield label, text


class _PageAudit(HTMLParser):
    """Collects everything on a page that could run code or fetch from elsewhere."""

    URL_ATTRIBUTES = frozenset(
        {"href", "src", "action", "formaction", "srcset", "poster", "data", "background", "cite"}
    )
    FOREIGN_TAGS = frozenset({"script", "iframe", "frame", "object", "embed", "applet", "base"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.FOREIGN_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "style":
            self.problems.append("<style> (inline styles are blocked by the CSP)")
        if tag == "meta" and (dict(attrs).get("http-equiv") or "").lower() == "refresh":
            self.problems.append("meta refresh")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}> (blocked by the CSP)")
            if name in self.URL_ATTRIBUTES and value is not None:
                self.urls.append(value)
                if not _same_origin(value):
                    self.problems.append(f"{name}={value!r} leaves the site")


def _same_origin(url: str) -> bool:
    url = url.strip()
    return url.startswith(("/", "#")) and not url.startswith("//") and "\\" not in url


def test_i4_no_script_on_any_page_in_any_state(tour: dict[str, TestResponse]) -> None:
    pages = dict(_html_pages(tour))
    assert len(pages) >= 25
    with_script = [label for label, text in pages.items() if "<script" in text.lower()]
    assert with_script == []
    assert all("javascript:" not in text.lower() for text in pages.values())


def test_i4_every_page_links_only_to_its_own_site(tour: dict[str, TestResponse]) -> None:
    problems = {}
    pages = set(dict(_html_pages(tour, redirects=False)))
    for label, text in _html_pages(tour):
        audit = _PageAudit()
        audit.feed(text)
        audit.close()
        if label in pages:  # a real page, not a redirect's stub
            assert "/static/style.css" in audit.urls, label
        assert not re.search(r"https?://", text), label
        if audit.problems:
            problems[label] = audit.problems
    assert problems == {}
    locations = [r.headers["Location"] for r in tour.values() if "Location" in r.headers]
    assert locations and all(_same_origin(location) for location in locations)
    css = tour["GET /static/style.css"].get_data(as_text=True)
    assert "@import" not in css
    assert not re.search(r"url\(\s*['\"]?(?!/|#|data:)", css)
    assert not re.search(r"https?:|//", re.sub(r"/\*.*?\*/", "", css, flags=re.S))


def test_i8_error_pages_are_plain_and_carry_no_internals(tour: dict[str, TestResponse]) -> None:
    for label, response in tour.items():
        if response.status_code < 400:
            continue
        text = response.get_data(as_text=True)
        assert response.mimetype == "text/html", label
        assert any(way in text for way in WAYS_ON), label
        for internal in ("Traceback", 'File "', "CANARY-500", "RuntimeError", "werkzeug"):
            assert internal not in text, (label, internal)


# CSRF on every form


CSRF_PATHS = ["/start", "/written", "/login", "/logout", "/submit"]


@pytest.mark.parametrize("token", ["missing", "from another session", "forged"])
@pytest.mark.parametrize("path", CSRF_PATHS)
def test_a_post_without_a_valid_csrf_token_is_refused_and_stores_nothing(
    app: Flask, instance: Instance, path: str, token: str
) -> None:
    client = app.test_client()
    codename, _ = start_source(client)
    other = app.test_client()
    if token == "missing":
        fields: dict[str, str] = {}
    elif token == "forged":
        fields = {"csrf_token": "IjAwMDAwMDAwIg.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"}
    else:
        fields = {"csrf_token": csrf_of(other.get("/"))}
    if path == "/login":
        fields["codename"] = codename
    cookie_before = client.get_cookie(COOKIE_NAME)
    assert cookie_before is not None
    before = row_counts(instance)

    if path == "/submit":
        parts: list[tuple[str, str | None, bytes]] = [
            ("csrf_token", None, v.encode()) for v in fields.values()
        ]
        parts += [("message", None, b"a tip that must not be stored"), ("files", "a.txt", b"abc")]
        response = post_multipart(client, path, multipart(parts))
    else:
        response = client.post(path, data=fields)

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Nothing was stored" in text
    assert "<script" not in text.lower()
    assert "Traceback" not in text
    assert header_problems(list(response.headers.items())) == []
    assert row_counts(instance) == before
    # Nothing happened to the session either: no log-out, no new token, still logged in.
    assert "Set-Cookie" not in response.headers
    cookie_after = client.get_cookie(COOKIE_NAME)
    assert cookie_after is not None and cookie_after.value == cookie_before.value
    assert client.get("/submit").status_code == 200


# The session cookie


def _database_files(instance: Instance) -> list[Path]:
    files = sorted(instance.path.glob("cairn.db*"))
    assert files, "no SQLite database files found"
    return files


def test_the_session_cookie_is_only_a_random_token(app: Flask, instance: Instance) -> None:
    client = app.test_client()
    first = client.get("/")
    set_cookie = first.headers.getlist("Set-Cookie")
    assert len(set_cookie) == 1
    attributes = [a.strip().lower() for a in set_cookie[0].split(";")]
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/" in attributes
    assert not any(a.startswith("domain=") for a in attributes)

    codename, _ = start_source(client)
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    assert cookie.http_only and cookie.same_site == "Strict"
    token = cookie.value
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token), token  # 32 random bytes, base64url

    engine = sqlalchemy.create_engine(instance.database_url)
    try:
        with engine.connect() as connection:
            sessions = connection.execute(
                sqlalchemy.text("SELECT token_hash, sealed FROM web_sessions")
            ).all()
            source_ids = list(
                connection.execute(sqlalchemy.text("SELECT id FROM sources")).scalars()
            )
    finally:
        engine.dispose()
    assert len(source_ids) == 1
    assert source_ids[0] not in token
    assert not any(word in token for word in codename.split() if len(word) >= 6)
    hashes = [token_hash for token_hash, _ in sessions]
    assert hashlib.sha256(token.encode()).hexdigest() in hashes
    assert all(
        token not in token_hash and token.encode() not in bytes(sealed)
        for token_hash, sealed in sessions
    )
    for path in _database_files(instance):
        assert token.encode() not in path.read_bytes(), path

    # Logging in again gives a fresh token; the old one no longer opens anything.
    login = client.get("/login")
    assert (
        client.post("/login", data={"csrf_token": csrf_of(login), "codename": codename}).status_code
        == 200
    )
    fresh = client.get_cookie(COOKIE_NAME)
    assert fresh is not None and fresh.value != token
    stale = app.test_client()
    stale.set_cookie(COOKIE_NAME, token)
    assert stale.get("/submit").status_code == 403


# Against the real server: gunicorn must not add a banner, and the headers survive it


def _live_response(
    server: LiveServer, method: str, path: str, body: str | None = None, cookie: str = ""
) -> tuple[int, list[tuple[str, str]], str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        headers = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


@pytest.mark.slow
def test_i4_i5_headers_and_no_server_banner_through_gunicorn(
    instance: Instance, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(instance)
    source = server.source()
    source.start()
    cookie = str(source.http.cookies[COOKIE_NAME])
    requests_to_make: list[tuple[str, str, str | None, str, int]] = [
        ("GET", "/", None, "", 200),
        ("GET", "/login", None, "", 200),
        ("GET", "/static/style.css", None, "", 200),
        ("GET", "/submit", None, cookie, 200),
        ("GET", "/submit", None, "", 403),
        ("GET", "/no-such-page", None, "", 404),
        ("GET", "/start", None, "", 405),
        ("POST", "/start", "", "", 400),
        ("POST", "/logout", "csrf_token=forged", cookie, 400),
    ]
    for method, path, body, with_cookie, status in requests_to_make:
        got, headers, text = _live_response(server, method, path, body, with_cookie)
        assert got == status, (method, path, text)
        assert header_problems(headers) == [], (method, path)
        assert "<script" not in text.lower()

    # I5: no access log. Requests that an access log would record (a distinctive user agent,
    # referer, path and query, a GET and a POST) leave nothing of themselves in the server log.
    marker = secrets.token_hex(8)
    probe_headers = {
        "User-Agent": f"CairnProbeAgent/{marker}",
        "Referer": f"http://probe-referer-{marker}.example/",
    }
    probes = [
        ("GET", f"/probe-path-{marker}", None, 404),
        ("POST", f"/start?probe-query={marker}", "", 400),
        ("POST", f"/login?probe-query={marker}", "codename=x", 400),
    ]
    for method, path, body, status in probes:
        got, _, text = _live_response_with(server, path, probe_headers, method, body)
        assert got == status, (method, path, text)
    server.stop()
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log
    for trace in (marker, "CairnProbeAgent", "probe-", "HTTP/1.", "GET /", "POST /"):
        assert trace not in log, trace
    lines = log.splitlines()
    assert lines and all(ALLOWED_LOG_LINE.fullmatch(line) for line in lines if line), lines
    assert "127.0.0.1" not in "\n".join(
        line for line in lines if not line.startswith("Cairn intake is listening on ")
    )


@pytest.mark.slow
def test_i4_no_source_can_set_forwarding_headers_through_gunicorn(
    instance: Instance, start_server: Callable[..., LiveServer]
) -> None:
    """Behind an onion service every source connects from 127.0.0.1, which gunicorn trusts with
    forwarding headers by default: a SCRIPT_NAME header would move every link on the pages
    under a prefix of the source's choosing, and X-Forwarded-Proto would make the request
    HTTPS, where the CSRF check wants a Referer that no page ever sends (no-referrer)."""
    server = start_server(instance)
    status, _, text = _live_response_with(server, "/x/", {"SCRIPT_NAME": "/x"})
    assert status == 404, text  # no prefix taken from the request: /x/ is no page
    source = server.source()
    source.get("/")
    started = source.http.post(
        server.base_url + "/start",
        data={"csrf_token": source.csrf},
        headers={"X-Forwarded-Proto": "https"},
        timeout=60,
    )
    assert started.status_code == 200, started.text  # still plain HTTP, as the onion serves it


def _live_response_with(
    server: LiveServer,
    path: str,
    headers: dict[str, str],
    method: str = "GET",
    body: str | None = None,
) -> tuple[int, list[tuple[str, str]], str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():  # putheader: http.client would refuse none of them
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Type", "application/x-www-form-urlencoded")
            connection.putheader("Content-Length", str(len(body.encode())))
        connection.endheaders(body.encode() if body is not None else None)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


# I3: the codename is never stored, logged or put in a cookie


@pytest.mark.slow
def test_i3_the_codename_is_nowhere_on_disk_in_the_log_or_in_a_cookie(
    instance: Instance, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(instance)
    source = server.source()
    set_cookies: list[str] = []

    def remember(response: object, *args: object, **kwargs: object) -> None:
        set_cookies.extend(response.raw.headers.getlist("Set-Cookie"))  # type: ignore[attr-defined]

    source.http.hooks["response"].append(remember)
    codename = source.start()
    # The first session's pages carry the codename in their forms, to show it again (issue 19,
    # item 10): through a refused submission (the form comes back) and a sent one.
    for message, status in (("", 400), ("A tip about the harbour contract.", 200)):
        parts = [
            ("csrf_token", (None, source.csrf)),
            ("codename", (None, codename)),
            ("message", (None, message)),
        ]
        answer = source.http.post(server.base_url + "/submit", files=parts, timeout=60)
        assert answer.status_code == status and codename in answer.text
        source.csrf = CSRF.findall(answer.text)[0]
    more = source.post("/written", {"codename": codename})
    assert more.status_code == 200 and codename in more.text
    again = SourceSession(server.base_url)
    again.http.hooks["response"].append(remember)
    back = again.login(codename)
    assert back.status_code == 200 and "Welcome back" in back.text
    assert again.post("/logout").status_code == 200

    # What a source types when it goes wrong: a codename one word off (as a mistyped word
    # would be), one sent without a CSRF token, and one sent when the server is too busy.
    words = codename.split()
    one_word_off = " ".join([*words[:-1], words[0]])
    other_word_off = " ".join([words[-1], *words[1:]])
    busy_word_off = " ".join([*words[:2], words[1], *words[3:]])
    assert len({codename, one_word_off, other_word_off, busy_word_off}) == 4
    wrong = SourceSession(server.base_url)
    wrong.http.hooks["response"].append(remember)
    refused = wrong.login(one_word_off)
    assert refused.status_code == 403 and "not recognised" in refused.text
    no_csrf = wrong.http.post(
        server.base_url + "/login", data={"codename": other_word_off}, timeout=60
    )
    assert no_csrf.status_code == 400
    # A second server on the same instance whose POST budget is one: its second login is a 429.
    busy_server = start_server(instance, env={"CAIRN_GLOBAL_POST_LIMIT": "1/minute"})
    busy = SourceSession(busy_server.base_url)
    busy.http.hooks["response"].append(remember)
    assert busy.login(one_word_off).status_code == 403
    flooded = busy.post("/login", {"codename": busy_word_off})
    assert flooded.status_code == 429, flooded.text
    busy_server.stop()

    def forms_of(typed: str) -> set[str]:
        parts = typed.split()
        return {
            typed,
            typed.upper(),
            "+".join(parts),  # as a form field, url-encoded
            "%20".join(parts),
            "".join(parts),
            "-".join(parts),
            repr(parts),
        }

    forms = set().union(
        *(forms_of(t) for t in (codename, one_word_off, other_word_off, busy_word_off))
    )
    forms.add(" ".join(words[:3]))
    needles = [f.encode() for f in forms] + [codename.encode("utf-16-le")]

    def found_in(data: bytes) -> list[bytes]:
        return [n for n in needles if n in data]

    # The database files while the server runs (the WAL holds the latest writes) and after.
    for path in _database_files(instance):
        assert found_in(path.read_bytes()) == [], path
    server.stop()
    for path in sorted(instance.path.rglob("*")):
        if path.is_file():
            assert found_in(path.read_bytes()) == [], path
    for log in (server.log_path, busy_server.log_path):
        assert found_in(log.read_bytes()) == [], log.read_text(errors="replace")

    cookie_text = "\n".join(set_cookies).lower()
    assert set_cookies, "no cookie was ever set"
    assert all(form.lower() not in cookie_text for form in forms)
    assert not any(w in cookie_text for w in words if len(w) >= 6)
    jars = [*source.http.cookies, *again.http.cookies]
    assert {c.name for c in jars} <= {COOKIE_NAME}
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", c.value or "") for c in jars)
