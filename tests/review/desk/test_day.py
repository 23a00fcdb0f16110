"""A reviewer's whole day on the desk in Debian's Chromium with JavaScript off: import, triage,
claims, links, relations, a suggestion accepted, statuses changing, a reply written and bundled,
the report. Every page is photographed at 1280 and 390 pixels wide into build/screenshots/desk/;
axe (in a separate context with JavaScript on, for the audit only) finds no violation on any
page; and afterwards no canary from a tip, note, claim, quote, relation note or reply is in the
workspace folder or the browser's profile (I9).
A second day does it all again with the keyboard alone (Tab, Shift+Tab, arrows, Space, Enter,
typing), a visible focus ring at every stop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from review.desk import create_desk
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.desk import (
    CANARY,
    LATER_TIPS,
    SHOTS,
    TIPS,
    WIDTHS,
    Day,
    Served,
    audit,
    hold_imports,
    open_workspace,
    served,
)
from tests.support.review import Review, Reviewer, make_bundle

FOCUSABLE = ("a", "button", "input", "select", "textarea", "summary")


def _focused(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
            return { tag: e.tagName.toLowerCase(), id: e.id, href: e.getAttribute("href") || "",
                     type: e.getAttribute("type") || "", value: e.value || "",
                     text: (e.innerText || e.value || "").trim(),
                     option: e.tagName === "SELECT" ? e.selectedOptions[0].text : "",
                     ring: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 }; }"""
        )
    )


def _tab_to(
    page: Any, tag: str, text: str = "", ident: str = "", href: str = "", limit: int = 60
) -> None:
    """Press Tab until the focus is on a ``tag`` showing ``text`` whose id or link has
    ``ident`` (or whose link is ``href``); every stop on the way must show a focus ring."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if focused["tag"] in FOCUSABLE:
            assert focused["ring"], focused
        named = ident in focused["id"] or ident in focused["href"]
        if href:
            named = focused["href"] == href
        if focused["tag"] == tag and text in focused["text"] and named:
            return
    raise AssertionError(f"Tab never reached <{tag}> {text or ident or href!r}")


def _press(page: Any, key: str) -> None:
    """Press ``key`` on what has the focus, and wait for the page it leads to."""
    with page.expect_navigation() as navigation:
        page.keyboard.press(key)
    response = navigation.value
    assert response is not None and response.status == 200, (page.url, response.status)


def _arrow_to(page: Any, wanted: str, *, limit: int = 20) -> None:
    """In a focused select or radio group, press the down arrow until ``wanted`` is chosen (an
    option's text contains it, or the radio's value is it); the ring stays visible."""
    for _ in range(limit):
        focused = _focused(page)
        assert focused["ring"], focused
        chosen = (
            wanted in focused["option"]
            if focused["tag"] == "select"
            else (focused["value"] == wanted)
        )
        if chosen:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrows never reached {wanted!r}")


def _go_by_keyboard(page: Any, href: str) -> None:
    """From the top of any page, Tab along the desk's menu to ``href`` and follow it."""
    page.keyboard.press("Tab")
    assert _focused(page)["text"] == "Skip to the page"
    _tab_to(page, "a", href=href)
    _press(page, "Enter")
    assert page.url.endswith(href)


def _skip_to_the_page(page: Any) -> None:
    page.keyboard.press("Tab")
    assert _focused(page)["text"] == "Skip to the page"
    page.keyboard.press("Enter")


def _keyboard_triage(day: Day) -> None:
    """From the inbox to a tip, marked and noted, with Tab, arrows, typing and Enter only."""
    page = day.page
    _go_by_keyboard(page, "/")
    _skip_to_the_page(page)
    _tab_to(page, "a", href="/tips/tip-beta-1")
    _press(page, "Enter")
    _tab_to(page, "select", ident="status")
    _arrow_to(page, "flagged")
    _tab_to(page, "button", "Mark")
    _press(page, "Enter")
    assert "status flagged" in day.text()
    _tab_to(page, "textarea", ident="note-text")
    page.keyboard.type(f"typed with the keyboard {CANARY}-keyboard")
    _tab_to(page, "button", "Add the note")
    _press(page, "Space")
    assert f"{CANARY}-keyboard" in day.text()
    day.shoot("keyboard-after-note")


def _keyboard_day(day: Day, first: Path, later: Path, review: Review, out: Path) -> None:
    """The rest of the day with Tab, Shift+Tab, the arrows, Space, Enter and typing only: import,
    a claim, a link with a quote, a relation, a suggestion accepted, a reply and its bundle."""
    page = day.page
    for bundle, count in ((first, 3), (later, 2)):
        _go_by_keyboard(page, "/import")
        _skip_to_the_page(page)
        _tab_to(page, "input", ident="bundle")
        page.keyboard.type(str(bundle))
        _tab_to(page, "button", "Import")
        _press(page, "Enter")
        day.import_done()
        assert f"imported {count} new tips" in day.text()
    names = {row["id"]: row["source"] for row in review.json("tips")}

    _keyboard_triage(day)

    _go_by_keyboard(page, "/claims/")
    _skip_to_the_page(page)
    _tab_to(page, "textarea", ident="claim-text")
    page.keyboard.type(f"The mayor met the contractor {CANARY}-claim")
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")  # back to the text, and on again: the ring each time
    assert _focused(page)["id"] == "claim-text" and _focused(page)["ring"]
    _tab_to(page, "button", "Add the claim")
    _press(page, "Space")
    assert f"{CANARY}-claim" in day.text()

    _go_by_keyboard(page, "/")
    _skip_to_the_page(page)
    _tab_to(page, "a", href="/tips/tip-alpha-1")
    _press(page, "Enter")
    _tab_to(page, "input", ident="link-claim")
    page.keyboard.type("1")
    _tab_to(page, "input")  # the stance: the chosen radio of its group takes the focus
    _arrow_to(page, "supports")
    page.keyboard.press("Tab")  # the basis
    _arrow_to(page, "firsthand")
    _tab_to(page, "select", ident="link-quote")
    _arrow_to(page, f"{CANARY}-tip-a")
    _tab_to(page, "button", "Link")
    _press(page, "Enter")
    assert "Claim 1: supports, firsthand" in day.text()
    assert f"{CANARY}-tip-a" in page.inner_text("blockquote")

    _go_by_keyboard(page, "/sources")
    _skip_to_the_page(page)
    _tab_to(page, "input", ident="first")
    page.keyboard.type(names["tip-beta-1"])
    _tab_to(page, "input", ident="second")
    page.keyboard.type(names["tip-delta-1"])
    _tab_to(page, "input")  # the kind: its chosen radio
    _arrow_to(page, "same-person")
    _tab_to(page, "textarea", ident="relation-note")
    page.keyboard.type(f"same desk {CANARY}-relation")
    _tab_to(page, "button", "Relate")
    _press(page, "Enter")
    assert f"{CANARY}-relation" in day.text()

    _go_by_keyboard(page, "/suggestions")
    _skip_to_the_page(page)
    _tab_to(page, "button", "Accept:")
    _press(page, "Enter")
    assert "No suggestions." in day.text()

    _go_by_keyboard(page, "/replies/")
    _skip_to_the_page(page)
    _tab_to(page, "select", ident="reply-source")
    _arrow_to(page, names["tip-alpha-1"])
    _tab_to(page, "textarea", ident="reply-text")
    page.keyboard.type(f"Thank you {CANARY}-reply")
    _tab_to(page, "button", "Seal it into the outbox")
    _press(page, "Enter")
    assert f"{CANARY}-reply" in day.text()
    _skip_to_the_page(page)
    _tab_to(page, "input", ident="bundle-out")
    page.keyboard.type(str(out))
    _tab_to(page, "button", "Write the reply bundle")
    _press(page, "Enter")
    assert out.exists()


def _files_holding(root: Path, canaries: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            hits = [
                canary
                for canary in canaries
                if canary.encode() in data or canary.encode("utf-16-le") in data
            ]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


@pytest.fixture
def bundles(tmp_path: Path, offline_reviewer: Reviewer, server: Any) -> tuple[Path, Path]:
    """The day's two bundles, for the desk to import."""
    recipients = [offline_reviewer.identity.recipient]
    return (
        make_bundle(tmp_path / "first.tar", server, TIPS, recipients),
        make_bundle(tmp_path / "later.tar", server, LATER_TIPS, recipients),
    )


@pytest.fixture
def desk(review: Review, offline_reviewer: Reviewer) -> Iterator[Served]:
    """The desk over an empty workspace, served on loopback."""
    with served(create_desk(open_workspace(review.workspace, offline_reviewer))) as found:
        yield found


@pytest.mark.slow
def test_i9_a_reviewers_day_on_the_desk(
    playwright: Any, tmp_path: Path, review: Review, bundles: tuple[Path, Path], desk: Served
) -> None:
    first, later = bundles
    profile = tmp_path / "chromium-profile"
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        java_script_enabled=False,
        viewport=WIDTHS["1280"],
    )
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        day = Day(page, desk.base_url)
        page.goto(desk.launch_address)
        assert page.url == desk.base_url + "/"  # the token left the address bar
        day.shoot("inbox-empty")

        day.go("/import", "import")
        day.submit("/import", {"#bundle": str(first)})
        day.import_done()
        assert "imported 3 new tips" in day.text()
        day.shoot("imported")
        day.go("/import")
        day.submit("/import", {"#bundle": str(later)})
        day.import_done()

        day.go("/", "inbox")
        page.click("a[href='/tips/tip-alpha-1']")
        day.shoot("tip-message")
        day.submit("/tips/tip-alpha-1/mark", {"#status": "flagged"})
        day.submit("/tips/tip-alpha-1/note", {"#note-text": f"call back {CANARY}-note"})
        day.go("/tips/tip-file-1", "tip-file")

        day.go("/claims/")
        day.submit("/claims/", {"#claim-text": f"The mayor met the contractor {CANARY}-claim"})
        day.go("/tips/tip-alpha-1")
        quote = f"{CANARY}-tip-a"
        day.submit(
            "/tips/tip-alpha-1/link",
            {"#link-claim": "1", "#link-quote": quote, "input[value=firsthand]": "on"},
        )
        day.go("/tips/tip-gamma-1")
        day.submit("/tips/tip-gamma-1/link", {"#link-claim": "1", "input[value=document]": "on"})
        day.go("/claims/", "claims")
        assert "corroborated" in day.text()
        assert "2 independent groups support it firsthand or by document; 2 are needed" in (
            day.text()
        )
        day.go("/claims/1", "claim")

        day.go("/suggestions", "suggestions")
        day.submit("/suggestions/accept")
        day.go("/claims/1")
        assert "single-source" in day.text()  # the same words twice are one group

        names = {row["id"]: row["source"] for row in review.json("tips")}
        day.go("/sources")
        day.submit(
            "/sources/relate",
            {
                "#first": names["tip-beta-1"],
                "#second": names["tip-delta-1"],
                "input[value=same-person]": "on",
                "#relation-note": f"same desk {CANARY}-relation",
            },
        )
        day.shoot("sources")
        day.go("/matrix", "matrix")

        # Grades, what would settle a claim, and competing hypotheses (issue 20).
        day.go("/sources")
        day.submit(
            "/sources/grade",
            {"select[name=reliability]": "B", "input[name=note]": f"sure {CANARY}-grade"},
        )
        day.go("/claims/1")
        page.click("summary:has-text('Override its credibility')")
        day.submit("/claims/1/credibility", {"#credibility": "2", "#reason": f"{CANARY}-why"})
        assert "Credibility overridden by the reviewer" in day.text()
        assert "What would settle it" in day.text()
        day.shoot("claim-graded")
        day.go("/ach/")
        day.submit("/ach/hypotheses", {"#hypothesis-text": f"A bribe {CANARY}-hypothesis"})
        day.submit("/ach/hypotheses", {"#hypothesis-text": "A chance meeting"})
        for hypothesis, mark in (("1", "consistent"), ("2", "strongly-inconsistent")):
            day.submit(
                "/ach/mark",
                {
                    "#mark-hypothesis": hypothesis,
                    "#mark-claim": "1",
                    f"input[value={mark}]": "on",
                    "#mark-reason": f"{CANARY}-mark",
                },
            )
        assert "Rank 1: H1" in day.text()
        day.shoot("ach")

        _keyboard_triage(day)

        day.go("/replies/")
        day.submit("/replies/", {"#reply-text": f"Thank you {CANARY}-reply"})
        day.shoot("replies")
        day.submit("/replies/bundle", {"#bundle-out": str(tmp_path / "replies.tar")})
        day.shoot("reply-bundle")
        assert (tmp_path / "replies.tar").exists()

        day.go("/report", "report")
        day.submit(
            "/report", {"#report-out": str(tmp_path / "report.html"), "input[value=html]": "on"}
        )
        assert (tmp_path / "report.html").exists()

        page.goto(desk.base_url + "/claims/99")
        assert "no claim 99" in day.text()
        day.shoot("error")

        assert all(url.startswith(desk.base_url) for url in requests), requests
        wide = {name: px for name, px in day.too_wide.items() if px > 0}
        assert not wide, f"wider than the window: {wide}"
        assert len(day.visited) >= 14, day.visited
        audit(playwright, context.cookies(), day.visited)
        day.go("/")
        day.submit("/lock")
        day.shoot("locked")
    finally:
        context.close()
    canaries = [CANARY]
    assert "report.html" in _files_holding(tmp_path, canaries)  # the scan sees plaintext
    assert len(list(profile.rglob("*"))) > 20  # the browser did write its profile there
    assert _files_holding(review.workspace, canaries) == {}
    assert _files_holding(profile, canaries) == {}
    _photograph_report(playwright, tmp_path / "report.html")


def _photograph_report(playwright: Any, report: Path) -> None:
    """The HTML report as a reader's browser shows it, in a fresh profile of its own."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        page = browser.new_page(java_script_enabled=False)
        page.goto(report.as_uri())
        for width, size in WIDTHS.items():
            page.set_viewport_size(size)
            page.screenshot(path=str(SHOTS / f"report-html-{width}.png"), full_page=True)
    finally:
        browser.close()


@pytest.mark.slow
def test_a_reviewers_day_with_the_keyboard_alone(
    playwright: Any, tmp_path: Path, review: Review, bundles: tuple[Path, Path], desk: Served
) -> None:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        context = browser.new_context(java_script_enabled=False, viewport=WIDTHS["1280"])
        page = context.new_page()
        page.goto(desk.launch_address)
        _keyboard_day(Day(page, desk.base_url), *bundles, review, tmp_path / "replies.tar")
    finally:
        browser.close()
    statuses = {row["id"]: row["status"] for row in review.json("tips")}
    assert statuses["tip-beta-1"] == "flagged"  # the command line sees what the keyboard did


@pytest.mark.slow
def test_the_import_page_reloads_itself_with_javascript_off(
    playwright: Any,
    bundles: tuple[Path, Path],
    desk: Served,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The progress page's meta refresh is HTML, not script: under the desk's CSP, in Chromium
    with JavaScript off, it reloads until the import is done, with nobody pressing anything."""
    held = hold_imports(monkeypatch)
    reached, release = held.reached, held.release
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        context = browser.new_context(java_script_enabled=False, viewport=WIDTHS["1280"])
        page = context.new_page()
        shown: list[str] = []
        page.on("console", lambda message: shown.append(message.text))
        loads: list[str] = []
        page.on("load", lambda loaded: loads.append(loaded.url))
        page.goto(desk.launch_address)
        day = Day(page, desk.base_url)
        day.go("/import")
        day.submit("/import", {"#bundle": str(bundles[0])})
        assert reached.wait(20)
        page.get_by_text("Checked 1 of 3 items in first.tar.").wait_for(timeout=20_000)
        day.shoot("importing")
        release.set()
        day.import_done()
        assert "Verified 3 of 3 items in first.tar, then imported 3 new tips" in day.text()
        assert loads.count(desk.base_url + "/import/progress") >= 2  # it reloaded on its own
        assert not [text for text in shown if "Content Security Policy" in text], shown
    finally:
        browser.close()
