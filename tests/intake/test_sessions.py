"""Web sessions keep no login log (I5): a stored session holds no exact time and nothing the source
chose, and a source has one session at most. They still end at their exact time, and work
across processes that share only the database."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from intake import create_app
from intake.db import make_engine
from intake.i18n import COOKIE_NAME as LANGUAGE_COOKIE
from intake.instance import Instance
from intake.sessions import COOKIE_NAME
from keys.web_session import open_session_data
from tests.support.forms import csrf_of, start_source

HTML_LANG = re.compile(r'<html lang="([^"]+)"')


def stored_sessions(instance: Instance) -> list[dict[str, Any]]:
    """Every row of web_sessions, every column, as the database holds it."""
    engine = make_engine(instance.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sqlalchemy.text("SELECT * FROM web_sessions"))
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def token_of(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    return cookie.value


def lang_of(response: TestResponse) -> str:
    match = HTML_LANG.search(response.get_data(as_text=True))
    assert match
    return match.group(1)


def log_in(client: FlaskClient, codename: str) -> None:
    form = client.get("/login")
    response = client.post("/login", data={"csrf_token": csrf_of(form), "codename": codename})
    assert response.status_code == 200


def test_i5_a_stored_session_holds_no_exact_time(
    make_instance: Callable[..., Instance], database_url: str
) -> None:
    """Its row keeps the day the session ends and nothing finer: no second of its start, its
    end or anything between is in any column, as a number or as digits."""
    instance = make_instance(database_url)
    lifetime = int(instance.config.session_hours * 3600)
    client = create_app(instance).test_client()
    before = int(time.time())
    start_source(client)
    after = int(time.time())
    rows = stored_sessions(instance)
    assert len(rows) == 1
    seconds = range(before - 60, after + lifetime + 60)
    for value in rows[0].values():
        assert not isinstance(value, int | float), rows[0]
        if isinstance(value, dt.date):
            end = dt.datetime.fromtimestamp(before + lifetime, dt.UTC).date()
            assert value in (end, end + dt.timedelta(days=1))
        if isinstance(value, str | bytes | memoryview):
            raw = value.encode() if isinstance(value, str) else bytes(value)
            for digits in re.findall(rb"\d{9,11}", raw):
                assert int(digits) not in seconds, rows[0]


def test_i5_a_session_still_ends_at_its_exact_time(
    make_instance: Callable[..., Instance], database_url: str
) -> None:
    """The exact end is sealed in the row under the cookie's token: past it, the session opens
    nothing, though its row waits for the sweep after the day is over."""
    instance = make_instance(database_url, session_hours=2 / 3600)
    app = create_app(instance)
    client = app.test_client()
    start_source(client)
    assert client.get("/submit").status_code == 200
    time.sleep(2.5)
    assert client.get("/submit").status_code == 403
    assert len(stored_sessions(instance)) == 1
    app.extensions["cairn"].store.sweep(instance.config.unsubmitted_source_days)
    assert len(stored_sessions(instance)) == 1  # its day is not over yet
    engine = make_engine(instance.database_url)
    try:
        with engine.begin() as connection:
            yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
            connection.execute(
                sqlalchemy.text("UPDATE web_sessions SET expires_day = :day"), {"day": yesterday}
            )
    finally:
        engine.dispose()
    app.extensions["cairn"].store.sweep(instance.config.unsubmitted_source_days)
    assert stored_sessions(instance) == []


def test_i5_a_stored_session_holds_nothing_the_source_chose(
    make_instance: Callable[..., Instance], database_url: str
) -> None:
    """The language a source picks lives in a cookie of its own, not in the server's storage:
    even opened with the session's own token, the stored data holds only the CSRF token."""
    instance = make_instance(database_url)
    client = create_app(instance).test_client()
    assert lang_of(client.get("/?lang=fr")) == "fr"
    codename, _ = start_source(client)
    assert lang_of(client.get("/submit")) == "fr"  # the choice holds for the visit
    language = client.get_cookie(LANGUAGE_COOKIE)
    assert language is not None and language.value == "fr"
    assert language.http_only and language.same_site == "Strict"
    token = token_of(client)
    rows = stored_sessions(instance)
    assert len(rows) == 1
    sealed = open_session_data(token, bytes(rows[0]["sealed"]))
    assert sealed is not None
    assert set(json.loads(sealed)) == {"csrf_token", "expires"}
    assert "fr" not in json.loads(sealed).values()
    assert not any(isinstance(v, str) and "fr" in v for v in rows[0].values())

    # Log-out forgets the choice too; its own page is still in the source's language.
    form = client.get("/submit")
    logged_out = client.post("/logout", data={"csrf_token": csrf_of(form)})
    assert lang_of(logged_out) == "fr"
    assert client.get_cookie(LANGUAGE_COOKIE) is None
    assert lang_of(client.get("/")) == "en"
    assert codename  # (I3: never stored; see test_headers.py)


def test_i5_i3_a_login_ends_the_sources_other_sessions(
    make_instance: Callable[..., Instance], database_url: str
) -> None:
    """Three logins by one source leave one session, the newest: no log of the earlier ones,
    and a browser left logged in elsewhere is logged out. The codename is in none of it (I3)."""
    instance = make_instance(database_url)
    app = create_app(instance)
    first = app.test_client()
    codename, _ = start_source(first)
    second, third = app.test_client(), app.test_client()
    log_in(second, codename)
    log_in(third, codename)
    stranger = app.test_client()
    start_source(stranger)  # another source's session is not touched

    assert first.get("/submit").status_code == 403
    assert second.get("/submit").status_code == 403
    assert third.get("/submit").status_code == 200
    assert stranger.get("/submit").status_code == 200
    rows = stored_sessions(instance)
    logged_in = [row["source_id"] for row in rows if row["source_id"] is not None]
    assert len(logged_in) == len(set(logged_in)) == 2
    words = [word for word in codename.split() if len(word) >= 6]
    for row in rows:
        text = repr(row)
        assert not any(word in text for word in words)


def test_a_session_opens_in_another_process_on_the_same_database(
    make_instance: Callable[..., Instance], database_url: str
) -> None:
    """No server key and no process memory: the cookie's token alone opens the session in any
    intake process that shares the database (the scaled deployment)."""
    instance = make_instance(database_url)
    client = create_app(instance).test_client()
    start_source(client)
    other = create_app(instance).test_client()
    other.set_cookie(COOKIE_NAME, token_of(client))
    assert other.get("/submit").status_code == 200
    token = token_of(client)
    forged = create_app(instance).test_client()
    forged.set_cookie(COOKIE_NAME, token[:-1] + ("B" if token.endswith("A") else "A"))
    assert forged.get("/submit").status_code == 403


@pytest.mark.parametrize("secure", [True, False])
def test_cookie_secure_marks_both_cookies_secure(
    make_instance: Callable[..., Instance], secure: bool
) -> None:
    """Behind HTTPS (`cookie_secure`) the session's cookie and the language's are both Secure;
    over the onion's plain HTTP neither is, or the browser would never send them back."""
    instance = make_instance(cookie_secure=secure)
    response = create_app(instance).test_client().get("/?lang=fr")
    cookies = response.headers.getlist("Set-Cookie")
    names = {cookie.split("=", 1)[0] for cookie in cookies}
    assert {COOKIE_NAME, LANGUAGE_COOKIE} <= names, cookies
    assert all(("; Secure" in cookie) is secure for cookie in cookies), cookies
