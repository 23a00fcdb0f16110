"""The review desk as the tests meet it: a workspace with tips from three sources (one text
hostile, every text marked with a canary), the desk over it reached through Flask's test client
with the session's cookie as the launch address gives it, the desk served on loopback, and a
reviewer's browser on it (``Day``)."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from keys import age
from keys.signing import SigningKey
from review.desk.app import Desk
from review.desk.serve import listen, serve
from review.service import Review as Service
from review.workspace import Workspace
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.support.intake import CSRF
from tests.support.review import Review, Reviewer, TipSpec

HOST = "127.0.0.1:5999"  # what the test client sends; the desk answers only to it
CANARY = "canary-7f3a9c"  # in every text a day on the desk reads or writes (I9)
REFRESH = '<meta http-equiv="refresh" content="1">'  # on the import's page while it runs
SHOTS = SCREENSHOTS / "desk"  # the desk's pages photographed by the browser tests
WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}

SOURCE_KEY = age.X25519Identity.generate()  # stands in for the key a source's codename gives
HOSTILE = "<script>alert(1)</script>\x1b[2J\u202etxt.exe\u200b<b>bold</b>"
TIPS = (
    TipSpec(
        "tip-alpha-1",
        "src-a",
        f"The mayor met the contractor on Monday at the yard. {CANARY}-tip-a".encode(),
        reply_recipient=str(SOURCE_KEY.recipient),
    ),
    TipSpec(
        "tip-beta-1",
        "src-b",
        f"I saw the mayor and the contractor meet. {CANARY}-tip-b {HOSTILE}".encode(),
    ),
    TipSpec(
        "tip-file-1",
        "src-b",
        b"%PDF-1.4 not really a pdf",
        kind="file",
        name="minutes.pdf",
        media_type="application/pdf",
    ),
)
# A second bundle, imported through the desk: src-c repeats src-a's words (a suggestion).
LATER_TIPS = (
    TipSpec(
        "tip-gamma-1",
        "src-c",
        f"The mayor met the contractor on Monday at the yard. {CANARY}-tip-a".encode(),
        day="2025-03-02",
    ),
    TipSpec(
        "tip-delta-1",
        "src-d",
        f"The contractor paid for the mayor's trip in May. {CANARY}-tip-d".encode(),
        day="2025-03-02",
    ),
)


@dataclass(frozen=True)
class Bench:
    """A desk over a workspace, and what it was made from."""

    app: Flask
    client: FlaskClient
    review: Review  # the CLI on the same workspace
    reviewer: Reviewer
    server: SigningKey
    later_bundle: Path  # not imported yet

    @property
    def desk(self) -> Desk:
        found: Desk = self.app.extensions["desk"]
        return found


def open_workspace(workspace: Path, reviewer: Reviewer) -> Callable[[], Any]:
    return functools.partial(Workspace.open, workspace, reviewer.identity)


def launched(app: Flask) -> FlaskClient:
    """A client that opened the launch address: it holds the session's cookie."""
    client = app.test_client()
    desk: Desk = app.extensions["desk"]
    address = desk.gate.launch_address()
    response = client.get(address.removeprefix(f"http://{HOST}"), base_url=f"http://{HOST}")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    return client


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


class Pages:
    """The desk as a signed-in browser uses it: GETs, and POSTs carrying the page's CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def get(self, path: str, status: int = 200) -> str:
        response = self.client.get(path, base_url=f"http://{HOST}")
        assert response.status_code == status, response.get_data(as_text=True)
        html = response.get_data(as_text=True)
        if 'name="csrf_token"' in html:
            self.token = csrf_token(html)
        return html

    def post(self, path: str, data: dict[str, Any], status: int = 303) -> Any:
        response = self.client.post(
            path, data={"csrf_token": self.token, **data}, base_url=f"http://{HOST}"
        )
        assert response.status_code == status, response.get_data(as_text=True)
        return response

    def import_bundle(self, bundle: Path) -> str:
        """Start importing ``bundle``; the outcome its progress page shows once done."""
        started = self.post("/import", {"bundle": str(bundle)})
        assert started.headers["Location"] == "/import/progress"
        return self.import_outcome()

    def import_outcome(self) -> str:
        """The import's progress page, reloaded until it stops refreshing."""
        deadline = time.monotonic() + 30
        while REFRESH in (html := self.get("/import/progress")):
            assert time.monotonic() < deadline, html
            time.sleep(0.05)
        return html


@dataclass(frozen=True)
class Served:
    app: Flask
    base_url: str
    launch_address: str


@contextlib.contextmanager
def served(app: Flask) -> Iterator[Served]:
    """The desk served on a free loopback port, in a thread, until the block ends."""
    server = listen(app, 0)
    announced: list[str] = []
    ready = threading.Event()

    def announce(address: str) -> None:
        announced.append(address)
        ready.set()

    thread = threading.Thread(target=serve, args=(app, server, announce), daemon=True)
    thread.start()
    assert ready.wait(10), "the desk never announced its address"
    try:
        yield Served(app, f"http://127.0.0.1:{server.server_port}", announced[0])
    finally:
        app.extensions["desk"].keyring.lock()
        thread.join(20)
        assert not thread.is_alive(), "the desk kept serving after it locked"


class Day:
    """The reviewer's browser on the desk: pages visited, photographed and audited."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.visited: dict[str, str] = {}  # a name for each page, its address
        self.too_wide: dict[str, int] = {}

    def shoot(self, name: str) -> None:
        """Photograph the page as it is now at both widths; note it for the audit."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        for width, size in WIDTHS.items():
            self.page.set_viewport_size(size)
            self.too_wide[f"{name}-{width}"] = int(
                self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            )
            self.page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        self.page.set_viewport_size(WIDTHS["1280"])
        if self.page.url.startswith(self.base_url) and "/launch" not in self.page.url:
            self.visited.setdefault(name, self.page.url)

    def go(self, path: str, name: str = "") -> None:
        response = self.page.goto(self.base_url + path)
        assert response is not None and response.status == 200, (path, response)
        if name:
            self.shoot(name)

    def submit(self, action: str, fields: dict[str, str] | None = None, status: int = 200) -> None:
        """Fill the form posting to ``action`` and press its button, as a person would."""
        form = self.page.locator(f"form[action='{action}']").first
        for selector, value in (fields or {}).items():
            field = form.locator(selector)
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
            elif field.get_attribute("type") in ("radio", "checkbox"):
                field.check()
            else:
                field.fill(value)
        with self.page.expect_navigation() as navigation:
            form.locator("button[type=submit]").click()
        response = navigation.value
        assert response is not None and response.status == status, (action, response.status)

    def text(self) -> str:
        return str(self.page.inner_text("main"))

    def import_done(self) -> None:
        """On the import's progress page, wait for its own refresh to reach the outcome."""
        assert self.page.url == self.base_url + "/import/progress"
        self.page.get_by_role("heading", name="Imported", exact=True).wait_for(timeout=30_000)


def audit(playwright: Any, cookies: list[dict[str, Any]], visited: dict[str, str]) -> None:
    """axe on every page visited (no violation of any impact), in a context of its own with
    JavaScript on and the CSP bypassed (for the audit only), carrying the day's cookie."""
    from axe_playwright_python.sync_playwright import Axe

    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        context = browser.new_context(java_script_enabled=True, bypass_csp=True)
        context.add_cookies(cookies)
        page = context.new_page()
        found = {}
        for name, url in visited.items():
            if name in ("locked",):
                continue
            page.goto(url)
            violations = (
                Axe().run(page, options={"resultTypes": ["violations"]}).response["violations"]
            )
            if violations:
                found[name] = [(v["id"], v["impact"], len(v["nodes"])) for v in violations]
        assert not found, found
    finally:
        browser.close()


@dataclass(frozen=True)
class HeldImport:
    """An import paused after its first item: ``reached`` once it is there, ``release`` to go on."""

    reached: threading.Event
    release: threading.Event


def hold_imports(monkeypatch: Any) -> HeldImport:
    """Make every import the desk starts stop after its first item until released, so a test
    sees the progress page while the import is under way."""
    held = HeldImport(threading.Event(), threading.Event())
    import_bundle = Service.import_bundle

    def holding(self: Service, bundle: Path, progress: Any = None, ack_out: Any = None) -> Any:
        def checked(done: int, total: int) -> None:
            progress(done, total)
            if done == 1:
                held.reached.set()
                assert held.release.wait(20)

        return import_bundle(self, bundle, checked, ack_out)

    monkeypatch.setattr(Service, "import_bundle", holding)
    return held
