"""I4 in a real browser: Debian's Chromium with JavaScript disabled, as Tor Browser at "Safest",
against the real gunicorn server. The whole source journey works (first submission with a file,
the codename page, checking back, a follow-up, logging out), every error page is a plain page in
the source's language, nothing is loaded from anywhere else, nothing is wider than a phone, and
every page is photographed at desktop and phone widths into build/screenshots/ for a person to
look at (they are not committed; look at them after a change to the pages).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from intake.headers import CONTENT_SECURITY_POLICY
from intake.i18n import DIRECTIONS, LANGUAGES
from intake.instance import Instance
from keys.sealed import ItemHeader
from tests.support.browser import (
    ADDRESS_PUBLISHED_AT,
    BROWSER_LOCALES,
    DESKTOP,
    ORGANISATION,
    PAGES,
    Servers,
    html_attributes,
    sent_items,
    shoot,
    walk_every_page,
)

# What each page says, in English, so a wrong page cannot pass for the right one.
ENGLISH_HEADINGS = {
    "landing": "Send us a tip, safely",
    "codename": "Your codename",
    "submit-form": "Send your tip",
    "submit-too-large": "Send your tip",
    "submitted": "Thank you. Your tip was received",
    "landing-logged-in": "Send us a tip, safely",
    "logged-out": "You are logged out",
    "login": "Check back",
    "login-failed": "Check back",
    "check-back": "Welcome back",
    "reply-delete": "Delete this reply?",
    "reply-deleted": "Reply deleted",
    "error-400-csrf": "Something in that request did not work",
    "error-403": "Please check in again",
    "error-404": "There is no page here",
    "error-429": "Very busy right now",
    "error-503": "Temporarily closed",
}


def _new_page(chromium: Any, language: str) -> Any:
    context = chromium.new_context(
        java_script_enabled=False, locale=BROWSER_LOCALES[language], viewport=DESKTOP
    )
    return context.new_page()


@pytest.mark.slow
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_i4_the_whole_journey_and_every_error_page_without_javascript(
    chromium: Any,
    servers: Servers,
    export_and_open: Callable[[Instance], list[tuple[ItemHeader, bytes]]],
    language: str,
) -> None:
    """I4: with JavaScript off, a source gets through every page in their own language; the
    tip and the follow-up arrive; no request leaves the site; every page has the strict CSP."""
    page = _new_page(chromium, language)
    requests: list[str] = []
    responses: list[tuple[str, str | None]] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "response",
        lambda response: responses.append(
            (response.url, response.headers.get("content-security-policy"))
        ),
    )
    seen: dict[str, str] = {}
    too_wide: dict[str, dict[str, int]] = {}

    def visit(name: str) -> None:
        assert html_attributes(page) == (language, DIRECTIONS[language]), name
        # Whose tip line this is, and where to check its address, on every page (item 13).
        assert page.inner_text(".brand").startswith(ORGANISATION), name
        assert ADDRESS_PUBLISHED_AT in page.inner_text("footer .real-address"), name
        seen[name] = page.inner_text("h1").strip()
        assert page.locator("script").count() == 0
        excess = shoot(page, f"{language}-{name}")
        if any(excess.values()):
            too_wide[name] = excess

    walk_every_page(page, servers, visit, label=f"browser-{language}")
    page.context.close()

    assert list(seen) == list(PAGES)
    assert too_wide == {}  # nothing runs off the side of a phone or a desktop
    if language == "en":
        assert seen == ENGLISH_HEADINGS
    else:  # every heading is in the source's language, none left in English
        assert not set(seen.values()) & set(ENGLISH_HEADINGS.values()), seen
    assert requests and all(url.startswith(servers.origins) for url in requests), requests
    assert all(csp == CONTENT_SECURITY_POLICY for _, csp in responses), responses

    exported = {(h.kind, h.name, data) for h, data in export_and_open(servers.instance)}
    assert set(sent_items(f"browser-{language}")) <= exported


@pytest.mark.slow
def test_i4_the_language_links_work_without_javascript(chromium: Any, servers: Servers) -> None:
    """Tor Browser asks for English whatever its language, so a plain link switches: the choice
    holds for the rest of the visit, right to left for Arabic, and logging out forgets it."""
    page = _new_page(chromium, "en")
    main = servers.main.base_url
    page.goto(main + "/")
    assert html_attributes(page) == ("en", "ltr")

    with page.expect_navigation():
        page.click("nav.languages a[hreflang=de]")
    assert html_attributes(page) == ("de", "ltr")
    assert page.inner_text("h1").startswith("Geben Sie uns einen Hinweis")
    with page.expect_navigation():
        page.click("a.button[href='/login']")
    assert html_attributes(page) == ("de", "ltr")  # kept in the session, no ?lang= needed
    assert page.url == main + "/login"

    with page.expect_navigation():
        page.click("nav.languages a[hreflang=ar]")
    assert page.url == main + "/login?lang=ar"  # the same page, now in Arabic
    assert html_attributes(page) == ("ar", "rtl")
    assert page.locator("nav.languages [aria-current]").inner_text() == "العربية"

    # Through a first submission and a log-out: the language holds, then is forgotten.
    page.goto(main + "/")
    with page.expect_navigation():
        page.click("form[action='/start'] button")
    assert html_attributes(page) == ("ar", "rtl")
    assert page.locator("nav.languages").count() == 0  # leaving would lose the codename
    assert page.get_attribute(".codename", "dir") == "ltr"
    with page.expect_navigation():
        page.click("form[action='/written'] button")
    page.fill("#message", "رسالة قصيرة للاختبار.")
    with page.expect_navigation():
        page.click("form[action='/submit'] button[type=submit]")
    assert html_attributes(page) == ("ar", "rtl")
    with page.expect_navigation():
        page.click("form[action='/logout'] button")
    assert html_attributes(page) == ("ar", "rtl")  # the logged-out page itself
    page.goto(main + "/")
    assert html_attributes(page) == ("en", "ltr")  # then the site has forgotten everything
    page.context.close()
