"""The source's side as a browser meets it: the pages of the source journey in order, a walk
through every one of them with Playwright, screenshots at desktop and phone widths, and a
reviewer's reply delivered as the courier would."""

from __future__ import annotations

import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker

from intake.courier_store import CourierStore
from intake.db import make_engine
from intake.instance import Instance
from intake.store import Store
from keys.bundle import BundleItem
from keys.codename import derive_source_keys
from keys.sealed import ItemWriter
from tests.support import ROOT
from tests.support.intake import LiveServer

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
    "submit-too-large",
    "submitted",
    "landing-logged-in",
    "logged-out",
    "error-403",
    "login",
    "login-failed",
    "check-back",
    "reply-delete",
    "reply-deleted",
    "error-404",
    "error-400-csrf",
    "error-429",
    "error-503",
)
# The settings the browser tests' servers name the organisation with (issue 19, item 13).
ORGANISATION = "Harbour Gazette"
ADDRESS_PUBLISHED_AT = "the Contact page of harbourgazette.example"
FIRST_MESSAGE = "The harbour contract was signed before the tender closed. I saw the papers."
FOLLOW_UP = "One more detail: the second signature is the deputy's."
MEMO = b"Minutes of the meeting of 3 March.\n"
BIG_FILE = 2 << 20  # over the main server's 1 MiB limit


@dataclass
class Servers:
    instance: Instance
    main: LiveServer
    busy: LiveServer
    closed: LiveServer

    @property
    def origins(self) -> tuple[str, ...]:
        return (self.main.base_url, self.busy.base_url, self.closed.base_url)


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
    ItemWriter(sealed, [keys.reply_identity.recipient], "reply").seal_all(io.BytesIO(text.encode()))
    reply_id = secrets.token_hex(16)
    item = BundleItem(
        id=reply_id,
        source=source_id,
        kind="reply",
        day="2026-11-26",
        size=len(sealed.getvalue()),
        sha256="0" * 64,
    )
    assert CourierStore(sessions).store_replies([item], {reply_id: sealed.getvalue()}) == 1


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
    _submit(page, "/written", 200)  # the form, the codename behind "Show my codename"
    assert not page.is_visible(".codename-again .codename")  # folded away
    page.click(".codename-again summary")  # <details> opens without JavaScript
    assert page.is_visible(".codename-again .codename")
    assert page.inner_text(".codename-again .codename").strip() == codename
    visit("submit-form")

    page.fill("#message", f"{FIRST_MESSAGE} [{label}]")
    page.set_input_files(
        "#files",
        files=[{"name": "big.bin", "mimeType": "text/plain", "buffer": bytes(BIG_FILE)}],
    )
    _submit(page, "/submit", 413)
    # The form comes back with the message as typed and the reason beside the files.
    assert page.input_value("#message") == f"{FIRST_MESSAGE} [{label}]"
    assert page.locator("#files-error").count() == 1
    assert page.locator("#files[aria-invalid=true]").count() == 1
    visit("submit-too-large")

    page.set_input_files(
        "#files", files=[{"name": f"memo-{label}.txt", "mimeType": "text/plain", "buffer": MEMO}]
    )
    _submit(page, "/submit", 200)
    assert page.inner_text("main .codename").strip() == codename  # "is it written down?"
    visit("submitted")
    _goto(page, main + "/", 200)
    assert page.locator(".session-open").count() == 1
    visit("landing-logged-in")
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
    assert page.locator(".reply time[datetime]").count() == 1
    visit("check-back")
    _goto(page, main + str(page.get_attribute(".reply a", "href")), 200)
    visit("reply-delete")
    _submit(page, str(page.get_attribute("main form", "action")), 200)
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
