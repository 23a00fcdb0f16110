"""Accessibility of the source pages (issue 7), beside I4: the pages carry no script, so the audit
runs in a separate browser context with JavaScript on and the CSP bypassed, used only for it.

axe-core (bundled by the pinned axe-playwright-python) finds no serious or critical violation on
any page (English, German, Arabic, Chinese); the layout mirrors in Arabic; and a keyboard alone
gets a source through the first submission, with a working skip link, a sane focus order and a
visible focus ring on every stop (photographed into build/screenshots/). Every axe finding,
minor ones too, is written to build/axe/.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import ROOT
from tests.support.browser import (
    BROWSER_LOCALES,
    DESKTOP,
    PAGES,
    SCREENSHOTS,
    Servers,
    walk_every_page,
)

FAILING_IMPACTS = {"serious", "critical"}
AXE_REPORTS = ROOT / "build" / "axe"
# Each script and direction once: Latin (English, and German for the longest words), Arabic
# (right to left) and Chinese. The rules do not depend on the language otherwise, and each audit
# walks every page (about 12 s), so the other languages are left to test_i18n and test_browser.
AUDITED_LANGUAGES = ["en", "de", "ar", "zh-Hans"]
FOCUSABLE = "a[href], button, input:not([type=hidden]), textarea, select, [tabindex]"


def _audit_context(chromium: Any, language: str) -> Any:
    """JavaScript on and the CSP bypassed, so axe can run: for the audit only, never the tests
    that stand for a source's browser."""
    return chromium.new_context(
        java_script_enabled=True,
        bypass_csp=True,
        locale=BROWSER_LOCALES[language],
        viewport=DESKTOP,
    )


def _axe(page: Any) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return list(results.response["violations"])


@pytest.mark.slow
@pytest.mark.parametrize("language", AUDITED_LANGUAGES)
def test_axe_finds_nothing_serious_on_any_page(
    chromium: Any, servers: Servers, language: str
) -> None:
    """Every page of the walk, errors included, at desktop width (test_browser checks that
    nothing is wider than a phone, in every language)."""
    context = _audit_context(chromium, language)
    page = context.new_page()
    findings: dict[str, list[dict[str, Any]]] = {}

    def visit(name: str) -> None:
        assert page.locator("script").count() == 0  # the page itself still has none
        findings[name] = _axe(page)
        if language == "ar" and name == "landing":  # mirrored: the site's name on the right
            brand = page.locator(".brand").bounding_box()
            switcher = page.locator("nav.languages").bounding_box()
            assert brand and switcher and brand["x"] > switcher["x"]

    walk_every_page(page, servers, visit, label=f"axe-{language}")
    context.close()

    assert list(findings) == list(PAGES)
    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    summary = {
        name: [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": len(v["nodes"])}
            for v in violations
        ]
        for name, violations in findings.items()
    }
    (AXE_REPORTS / f"{language}.json").write_text(json.dumps(summary, indent=2) + "\n")
    serious = {
        name: [
            (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:5])
            for v in violations
            if v["impact"] in FAILING_IMPACTS
        ]
        for name, violations in findings.items()
    }
    assert {name: found for name, found in serious.items() if found} == {}


# The keyboard alone


def _focused(page: Any) -> dict[str, Any]:
    """What has the focus, and whether a person can see that it has."""
    return dict(
        page.evaluate(
            """() => {
            const e = document.activeElement;
            const style = getComputedStyle(e);
            const box = e.getBoundingClientRect();
            return {
                tag: e.tagName.toLowerCase(), id: e.id, type: e.type || "",
                text: (e.innerText || e.value || "").trim().slice(0, 60),
                inMain: !!e.closest("main"),
                ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
                onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 &&
                    box.right > 0 && box.left < window.innerWidth,
            };
        }"""
        )
    )


def _focus_top(page: Any) -> None:
    """Put the keyboard's starting point at the top of the page, as on a fresh load."""
    page.evaluate(
        """() => { const root = document.documentElement; root.tabIndex = -1; root.focus();
                   root.removeAttribute("tabindex"); }"""
    )


def _tab_order(page: Any) -> list[dict[str, Any]]:
    """Every stop of the Tab key from the top of the page, once round."""
    _focus_top(page)
    stops: list[dict[str, Any]] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if focused["tag"] == "body" or (stops and focused == stops[0]):
            break
        stops.append(focused)
    return stops


def _tab_to(page: Any, tag: str, text: str = "", limit: int = 25) -> dict[str, Any]:
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        assert focused["ring"] and focused["onScreen"], focused
        if focused["tag"] == tag and text in focused["text"]:
            return focused
    raise AssertionError(f"Tab never reached <{tag}> {text!r}")


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_keyboard_alone_gets_a_source_through_the_first_submission(
    chromium: Any, servers: Servers, language: str
) -> None:
    """Skip link first and working, every stop visible and in reading order, the honeypot never
    reached, and Tab/Enter/typing alone from the start page to "sent" and out again."""
    context = chromium.new_context(
        java_script_enabled=True, locale=BROWSER_LOCALES[language], viewport=DESKTOP
    )
    page = context.new_page()
    main = servers.main.base_url
    page.goto(main + "/")

    stops = _tab_order(page)
    expected = page.locator(FOCUSABLE).evaluate_all(
        """(all) => all.filter(e => e.tabIndex >= 0 && e.getClientRects().length)
                       .map(e => e.tagName.toLowerCase())"""
    )
    assert [s["tag"] for s in stops] == expected  # document order, nothing skipped
    assert all(s["ring"] and s["onScreen"] for s in stops), stops
    assert stops[0]["tag"] == "a" and not stops[0]["inMain"]  # the skip link comes first

    _focus_top(page)
    page.keyboard.press("Tab")
    page.screenshot(path=str(SCREENSHOTS / f"{language}-keyboard-skip-link.png"))
    page.keyboard.press("Enter")  # skip to the main content
    page.keyboard.press("Tab")
    first = _focused(page)
    assert first["inMain"] and first["tag"] == "button", first  # "Get a codename"

    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".codename").count() == 1
    _focus_top(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the skip link, past the header's Log out
    _tab_to(page, "button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == main + "/written"  # the form, the codename folded away on it

    stops = _tab_order(page)
    assert all(s["ring"] and s["onScreen"] for s in stops), stops
    assert "website" not in {s["id"] for s in stops}  # the honeypot is never a stop
    _focus_top(page)
    reached = _tab_to(page, "textarea")
    assert reached["id"] == "message"
    page.keyboard.type("Sent with the keyboard alone.")
    page.keyboard.press("Tab")
    assert _focused(page)["type"] == "file"
    page.keyboard.press("Tab")
    send = _focused(page)
    assert send["tag"] == "button" and send["ring"], send
    page.screenshot(path=str(SCREENSHOTS / f"{language}-keyboard-send-button.png"), full_page=True)
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    assert navigation.value is not None and navigation.value.status == 200
    assert page.locator("form.logout").count() == 1

    _focus_top(page)
    _tab_to(page, "button")  # the header's Log out, the first button of every page
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    assert navigation.value is not None and navigation.value.status == 200
    assert page.locator("form").count() == 0  # the logged-out page
    context.close()
