"""The desk's door (I9 and the browser): one browser on this machine, holding the session's
cookie, on the desk's own address; a CSRF token on every change; nothing cached; nothing loaded
from elsewhere; and a lock that drops the key."""

from __future__ import annotations

import http.client
import io
import time

import pytest

from review.desk import create_desk
from tests.support.desk import HOST, Bench, Pages, launched, open_workspace, served

PAGES = (
    "/",
    "/tips/tip-alpha-1",
    "/claims/",
    "/sources",
    "/suggestions",
    "/matrix",
    "/replies/",
    "/import",
    "/report",
    "/static/desk.css",
)


def test_i9_a_second_client_without_the_cookie_is_refused_everywhere(bench: Bench) -> None:
    stranger = bench.app.test_client()
    for path in PAGES:
        response = stranger.get(path, base_url=f"http://{HOST}")
        assert response.status_code == 403, path
        assert b"mayor" not in response.data
    refused = stranger.post("/claims/", data={"text": "planted"}, base_url=f"http://{HOST}")
    assert refused.status_code == 403
    assert bench.review.json("claims") == []


def test_i9_a_wrong_cookie_is_refused(bench: Bench) -> None:
    stranger = bench.app.test_client()
    stranger.set_cookie("desk", "guessed", domain="127.0.0.1")
    assert stranger.get("/", base_url=f"http://{HOST}").status_code == 403


def test_i9_the_launch_token_is_good_once_and_gives_a_strict_session_cookie(
    bench: Bench,
) -> None:
    app = create_desk(open_workspace(bench.review.workspace, bench.reviewer))
    app.extensions["desk"].gate.host = HOST
    address = app.extensions["desk"].gate.launch_address().removeprefix(f"http://{HOST}")
    wrong = app.test_client().get("/launch?token=guessed", base_url=f"http://{HOST}")
    assert wrong.status_code == 403  # and the real token is still good:
    first = app.test_client().get(address, base_url=f"http://{HOST}")
    assert first.status_code == 303 and first.headers["Location"] == "/"  # the token leaves
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith("desk=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Expires" not in cookie and "Max-Age" not in cookie  # gone when the browser closes
    second = app.test_client().get(address, base_url=f"http://{HOST}")
    assert second.status_code == 403
    assert "Set-Cookie" not in second.headers


@pytest.mark.parametrize(
    "host", ["evil.example:5999", "localhost:5999", "127.0.0.1:80", "127.0.0.1"]
)
def test_i9_a_rebinding_host_is_refused_even_with_the_cookie(bench: Bench, host: str) -> None:
    response = bench.client.get("/", headers={"Host": host})
    assert response.status_code == 421
    assert b"mayor" not in response.data


def test_i9_a_change_without_the_csrf_token_is_refused(bench: Bench, pages: Pages) -> None:
    for token in (None, "forged"):
        data = {"status": "spam"} if token is None else {"status": "spam", "csrf_token": token}
        response = bench.client.post("/tips/tip-alpha-1/mark", data=data, base_url=f"http://{HOST}")
        assert response.status_code == 400
    assert {row["id"]: row["status"] for row in bench.review.json("tips")}["tip-alpha-1"] == "new"
    pages.post("/tips/tip-alpha-1/mark", {"status": "spam"})
    assert {row["id"]: row["status"] for row in bench.review.json("tips")}["tip-alpha-1"] == "spam"


def test_i9_every_response_is_uncached_and_loads_nothing_from_elsewhere(bench: Bench) -> None:
    stranger = bench.app.test_client()
    responses = [bench.client.get(path, base_url=f"http://{HOST}") for path in PAGES]
    responses += [
        stranger.get("/", base_url=f"http://{HOST}"),
        bench.client.get("/", headers={"Host": "evil.example"}),
        bench.client.get("/tips/nothing-like-it", base_url=f"http://{HOST}"),
        bench.client.get("/no-such-page", base_url=f"http://{HOST}"),
    ]
    for response in responses:
        assert response.headers["Cache-Control"] == "no-store"
        csp = response.headers["Content-Security-Policy"]
        assert csp.startswith("default-src 'none'; style-src 'self';")
        assert "script-src" not in csp and "http" not in csp
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_i9_uploads_are_refused_so_no_body_is_spooled_to_disk(bench: Bench, pages: Pages) -> None:
    response = bench.client.post(
        "/import",
        data={"csrf_token": pages.token, "bundle": (io.BytesIO(b"not a bundle"), "b.tar")},
        content_type="multipart/form-data",
        base_url=f"http://{HOST}",
    )
    assert response.status_code == 415


def test_i9_the_desk_locks_after_its_idle_time(bench: Bench) -> None:
    app = create_desk(open_workspace(bench.review.workspace, bench.reviewer), idle_minutes=0.002)
    app.extensions["desk"].gate.host = HOST
    client = launched(app)
    assert client.get("/", base_url=f"http://{HOST}").status_code == 200
    time.sleep(0.3)
    locked = client.get("/", base_url=f"http://{HOST}")
    assert locked.status_code == 423 and b"mayor" not in locked.data
    assert app.extensions["desk"].keyring.locked


def test_i9_lock_and_close_drops_the_key(bench: Bench, pages: Pages) -> None:
    pages.post("/lock", {}, status=200)
    assert bench.desk.keyring.locked
    assert bench.client.get("/", base_url=f"http://{HOST}").status_code == 423


def _get(port: int, path: str, host: str, cookie: str = "") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host} | ({"Cookie": cookie} if cookie else {})
    connection.request("GET", path, headers=headers)
    return connection.getresponse()


def test_i9_the_served_desk_on_a_real_port(bench: Bench) -> None:
    app = create_desk(open_workspace(bench.review.workspace, bench.reviewer))
    with served(app) as desk:
        address, port = desk.launch_address, int(desk.base_url.rsplit(":", 1)[1])
        assert address.startswith(f"{desk.base_url}/launch?token=")
        own = f"127.0.0.1:{port}"
        assert _get(port, "/", own).status == 403  # a second client, no token
        path = address.removeprefix(desk.base_url)
        assert _get(port, path, f"rebound.example:{port}").status == 421
        launch = _get(port, path, own)
        assert launch.status == 303
        cookie = launch.getheader("Set-Cookie", "").split(";")[0]
        assert _get(port, path, own).status == 403  # spent
        page = _get(port, "/", own, cookie)
        assert page.status == 200 and b"mayor" in page.read()
        assert _get(port, "/", f"localhost:{port}", cookie).status == 421
    # served() checked that locking the desk stopped its server
