"""Fixtures for the source-side tests: Debian's Chromium driven by Playwright, three real gunicorn
servers (a normal one with a 1 MiB upload limit, a busy one and a closed one) on one instance, a
walk through every source page, and screenshots at desktop and phone widths.

Browser downloads are blocked here, so Playwright launches /usr/bin/chromium (`apt-get install
chromium`; .ci/run installs it). Without it the browser tests skip, loudly.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import sessionmaker

from intake.courier_store import CourierStore
from intake.db import make_engine, migrate
from intake.instance import Instance, init_instance, load_instance
from intake.store import Store
from keys import age
from keys.bundle import BundleItem
from keys.codename import derive_source_keys
from keys.sealed import seal_item
from tests.conftest import free_port, wait_for_port
from tests.intake.conftest import (  # the last two are fixtures, injected by name
    FAST_SETTINGS,
    VENV_BIN,
    LiveServer,
    export_and_open,
    make_instance,
)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
DESKTOP = VIEWPORTS["desktop"]
# Playwright's locale sets the browser's Accept-Language; the server maps zh-CN to zh-Hans.
BROWSER_LOCALES = {
    "en": "en-US",
    "es": "es-ES",
    "fr": "fr-FR",
    "de": "de-DE",
    "ru": "ru-RU",
    "ar": "ar",
    "zh-Hans": "zh-CN",
}
# Every page a source can meet, in the order the walk meets them.
PAGES = (
    "landing",
    "codename",
    "submit-form",
    "error-413",
    "submitted",
    "logged-out",
    "error-403",
    "login",
    "login-failed",
    "check-back",
    "reply-deleted",
    "error-404",
    "error-400-csrf",
    "error-429",
    "error-503",
)
FIRST_MESSAGE = "The harbour contract was signed before the tender closed. I saw the papers."
FOLLOW_UP = "One more detail: the second signature is the deputy's."
MEMO = b"Minutes of the meeting of 3 March.\n"
BIG_FILE = 2 << 20  # over the main server's 1 MiB limit


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session; JavaScript is set per context."""
    if not CHROMIUM.exists():
        message = (
            f"CHROMIUM IS NOT INSTALLED at {CHROMIUM}: the browser, screenshot and accessibility "
            "tests are SKIPPED. Install it with `apt-get install chromium` (.ci/run does)."
        )
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Servers:
    instance: Instance
    main: LiveServer
    busy: LiveServer
    closed: LiveServer

    @property
    def origins(self) -> tuple[str, ...]:
        return (self.main.base_url, self.busy.base_url, self.closed.base_url)


def _serve(instance: Instance, root: Path, env: dict[str, str]) -> LiveServer:
    """``intake serve`` (gunicorn, threads) on loopback, as tests/intake's start_server does, but
    for the whole session: starting three servers per test would cost more than the tests."""
    port = free_port()
    server_tmp = root / f"server-tmp-{port}"
    server_tmp.mkdir()
    log_path = root / f"server-{port}.log"
    process = subprocess.Popen(
        [
            str(VENV_BIN / "intake"),
            *("serve", "--instance", str(instance.path), "--port", str(port)),
            *("--threads", "8"),
        ],
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "TMPDIR": str(server_tmp), **env},
    )
    try:
        wait_for_port(port)
    except TimeoutError:
        process.kill()
        raise AssertionError(log_path.read_text()) from None
    url = f"http://127.0.0.1:{port}"
    return LiveServer(url, port, instance.path, log_path, server_tmp, process)


@pytest.fixture(scope="session")
def servers(
    tmp_path_factory: pytest.TempPathFactory, reviewer: tuple[age.X25519Identity, Path, Path]
) -> Iterator[Servers]:
    """Three gunicorn servers on one instance: normal (1 MiB uploads), busy, and closed."""
    root = tmp_path_factory.mktemp("source-servers")
    init_instance(root / "instance", [str(reviewer[0].recipient)], "", **FAST_SETTINGS)
    instance = load_instance(root / "instance", env={})
    migrate(instance.database_url)
    started: list[LiveServer] = []
    try:
        for env in (
            {"CAIRN_MAX_UPLOAD_MIB": "1"},
            {"CAIRN_GLOBAL_POST_LIMIT": "1/hour"},
            {"CAIRN_MAX_STORED_GIB": "0"},
        ):
            started.append(_serve(instance, root, env))
        yield Servers(instance, *started)
    finally:
        for server in started:
            server.stop()


def shoot(page: Any, name: str) -> dict[str, int]:
    """Full-page screenshots of what the page shows now, at desktop and phone widths; returns
    by how many CSS pixels the page is wider than the window at each (0 when it fits).
    (Playwright's evaluate works with the page's JavaScript off: it runs in its own world.)"""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    too_wide = {}
    for width_name, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        too_wide[width_name] = int(
            page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        )
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width_name}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    return too_wide


def _submit(page: Any, form_action: str, expected: int) -> Any:
    """Press the submit button of the form posting to ``form_action``; check the answer."""
    with page.expect_navigation() as navigation:
        page.click(f"form[action='{form_action}'] button[type=submit]")
    response = navigation.value
    assert response is not None and response.status == expected, (form_action, response)
    return response


def _goto(page: Any, url: str, expected: int) -> Any:
    response = page.goto(url)
    assert response is not None and response.status == expected, (url, response)
    return response


def sent_items(label: str) -> list[tuple[str, str, bytes]]:
    """(kind, name, content) of what walk_every_page sends, marked with ``label``."""
    return [
        ("message", "message.txt", f"{FIRST_MESSAGE} [{label}]".encode()),
        ("file", f"memo-{label}.txt", MEMO),
        ("message", "message.txt", f"{FOLLOW_UP} [{label}]".encode()),
    ]


REPLY = "Thank you. Could you tell us who else was in the room?"


def deliver_reply(instance: Instance, codename: str, text: str) -> None:
    """What the courier does when it pushes a reviewer's reply (tests/courier proves that path):
    a reply sealed to the source's reply recipient, stored and made visible on the server."""
    keys = derive_source_keys(codename, instance.pepper, instance.kdf_params)
    sessions = sessionmaker(make_engine(instance.database_url))
    source_id = Store(sessions).find_source(keys.lookup_id)
    assert source_id is not None
    sealed = io.BytesIO()
    seal_item(io.BytesIO(text.encode()), sealed, [keys.reply_identity.recipient], "reply")
    couriers = CourierStore(sessions)
    reply_id = secrets.token_hex(16)
    writer = couriers.begin_reply(reply_id)
    assert writer is not None
    writer.write(sealed.getvalue())
    writer.close()
    item = BundleItem(
        id=reply_id,
        source=source_id,
        kind="reply",
        day="2026-11-26",
        size=len(sealed.getvalue()),
        sha256="0" * 64,
    )
    couriers.complete_replies([item], [reply_id])


def walk_every_page(
    page: Any, servers: Servers, visit: Callable[[str], None], label: str = "walk"
) -> str:
    """The source journey and every error page, as a person would click through them; calls
    ``visit(name)`` on each page of PAGES while it is shown. Returns the codename. What it
    sends is ``sent_items(label)``.

    A reviewer's reply is delivered before the source checks back, read, then deleted.
    """
    main, context = servers.main.base_url, page.context
    _goto(page, main + "/", 200)
    visit("landing")
    _submit(page, "/start", 200)
    codename = page.inner_text(".codename").strip()
    assert len(codename.split()) >= 7, codename
    visit("codename")
    _submit(page, "/written", 200)  # 303 to the form
    assert page.url == main + "/submit"
    visit("submit-form")

    page.fill("#message", f"{FIRST_MESSAGE} [{label}]")
    page.set_input_files(
        "#files",
        files=[{"name": "big.bin", "mimeType": "text/plain", "buffer": bytes(BIG_FILE)}],
    )
    _submit(page, "/submit", 413)
    visit("error-413")

    _goto(page, main + "/submit", 200)
    page.fill("#message", f"{FIRST_MESSAGE} [{label}]")
    page.set_input_files(
        "#files", files=[{"name": f"memo-{label}.txt", "mimeType": "text/plain", "buffer": MEMO}]
    )
    _submit(page, "/submit", 200)
    visit("submitted")
    _submit(page, "/logout", 200)
    visit("logged-out")
    _goto(page, main + "/submit", 403)
    visit("error-403")

    _goto(page, main + "/login", 200)
    visit("login")
    page.fill("#codename", "these are not the words you were given at all")
    _submit(page, "/login", 403)
    visit("login-failed")
    deliver_reply(servers.instance, codename, f"{REPLY} [{label}]")
    page.fill("#codename", codename)
    _submit(page, "/login", 200)
    assert page.inner_text(".reply-text").strip() == f"{REPLY} [{label}]"
    visit("check-back")
    _submit(page, str(page.get_attribute(".reply form", "action")), 200)
    visit("reply-deleted")
    _goto(page, main + "/submit", 200)
    page.fill("#message", f"{FOLLOW_UP} [{label}]")
    _submit(page, "/submit", 200)
    _submit(page, "/logout", 200)

    _goto(page, main + "/no-such-page", 404)
    visit("error-404")
    _goto(page, main + "/", 200)
    context.clear_cookies()  # the session ended while the page was open
    _submit(page, "/start", 400)
    visit("error-400-csrf")

    busy = servers.busy.base_url
    _goto(page, busy + "/", 200)
    with page.expect_navigation() as navigation:  # the one POST this hour allows, if still left
        page.click("form[action='/start'] button[type=submit]")
    if navigation.value is not None and navigation.value.status == 200:
        _goto(page, busy + "/", 200)
        _submit(page, "/start", 429)
    else:
        assert navigation.value is not None and navigation.value.status == 429
    visit("error-429")

    _goto(page, servers.closed.base_url + "/", 200)
    _submit(page, "/start", 503)
    visit("error-503")
    return codename


def html_attributes(page: Any) -> tuple[str | None, str | None]:
    return page.get_attribute("html", "lang"), page.get_attribute("html", "dir")
