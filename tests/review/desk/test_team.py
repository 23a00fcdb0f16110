"""Team review at the desk (issue 21): the reviewer's key and teammates, exchange files merged by
path, conflicts settled by a button, sign-offs, and links waiting for a tip. The teammate works
through the command line in a workspace of their own (tests/support/team.py); the desk's
reviewer works in Debian's Chromium with JavaScript off, so every form works without script."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from review.desk import create_desk
from tests.support.desk import (
    HOST,
    LATER_TIPS,
    TIPS,
    Day,
    Pages,
    audit,
    launched,
    open_workspace,
    served,
)
from tests.support.review import Review, Reviewer
from tests.support.team import Newsroom, make_newsroom

HOSTILE = "<b>bold</b><script>alert(1)</script>"  # a teammate's words, shown as text


@pytest.fixture
def newsroom(tmp_path: Path) -> Newsroom:
    """Alice at the desk and Bob at his command line, pinned to each other, holding TIPS."""
    return make_newsroom(tmp_path / "newsroom", ["Alice", "Bob"], TIPS)


def _desk(workspace: Path, reviewer: Reviewer) -> Flask:
    return create_desk(open_workspace(workspace, reviewer))


@pytest.fixture
def browser_day(chromium: Any, newsroom: Newsroom) -> Iterator[Day]:
    """Alice's desk, served on loopback, in a browser context with JavaScript off."""
    alice = newsroom["Alice"]
    with served(_desk(alice.workspace, alice.reviewer)) as desk:
        context = chromium.new_context(java_script_enabled=False)
        try:
            page = context.new_page()
            page.goto(desk.launch_address)
            yield Day(page, desk.base_url)
        finally:
            context.close()


def _press(day: Day, button: str, status: int = 200) -> None:
    """Press the button named ``button`` and wait for the page it leads to."""
    with day.page.expect_navigation() as navigation:
        day.page.get_by_role("button", name=button, exact=True).click()
    response = navigation.value
    assert response is not None and response.status == status, (button, response.status)


@pytest.mark.slow
def test_a_teammate_is_added_listed_and_removed(
    chromium: Any, tmp_path: Path, review: Review, offline_reviewer: Reviewer
) -> None:
    bob = make_newsroom(tmp_path / "newsroom", ["Bob"], TIPS).keys["Bob"]
    own = next(member["key"] for member in review.json("team") if member["you"])
    with served(_desk(review.workspace, offline_reviewer)) as desk:
        context = chromium.new_context(java_script_enabled=False)
        try:
            page = context.new_page()
            page.goto(desk.launch_address)
            day = Day(page, desk.base_url)
            review("claim", "add", "The mayor met the contractor.")
            day.go("/claims/1")
            assert "Sign it off" not in day.text()  # a reviewer alone has nobody to check
            day.go("/team")
            assert page.input_value("#own-key") == own  # the key to give, ready to copy
            assert "No teammate pinned yet." in day.text()
            day.submit("/team/add", {"#member-key": bob, "#member-name": "Bob <the editor>"})
            row = page.locator("tr.member")
            assert row.locator("td").first.inner_text() == "Bob <the editor>"
            assert bob in row.inner_text()
            day.shoot("team")
            assert not {name: px for name, px in day.too_wide.items() if px > 0}, day.too_wide
            day.go("/claims/1")
            assert "Nobody signed it off." in day.text()
            day.go("/team")
            _press(day, "Remove Bob <the editor>")
            assert "removed: their files are refused" in page.locator("tr.removed").inner_text()
            day.submit(
                "/team/add", {"#member-key": "cairnserver1nothing", "#member-name": "X"}, 400
            )
            assert "is not a workspace key" in day.text()
        finally:
            context.close()
    assert [(m["name"], m["removed"]) for m in review.json("team") if not m["you"]] == [
        ("Bob <the editor>", True)
    ]


@pytest.mark.slow
def test_a_teammates_work_merged_conflicts_settled_and_signed_off(
    playwright: Any, newsroom: Newsroom, browser_day: Day
) -> None:
    day, page, bob = browser_day, browser_day.page, newsroom["Bob"]
    newsroom.bring("Bob", LATER_TIPS)  # Alice has not imported these yet
    bob("claim", "add", "The mayor met the contractor.")
    bob("link", "tip-alpha-1", "1", "--supports", "--basis", "firsthand")
    bob("link", "tip-delta-1", "1", "--supports", "--basis", "document")

    day.go("/team", "team-with-bob")
    day.submit("/team/merge", {"#merge-file": str(newsroom.share("Bob"))})
    assert "Merged 7 new changes of 7 from Bob." in day.text()
    assert (
        "1 link waits for a tip not imported here yet; each counts once its tip is imported."
        in (day.text())
    )
    day.shoot("team-merged")
    day.visited.pop("team-merged")  # a form's answer, not a page to open again
    day.go("/claims/")
    assert "The mayor met the contractor." in day.text()
    day.go("/claims/1")
    assert "tip tip-delta-1: not imported here yet (supports, document)" in day.text()
    assert "Nobody signed it off." in day.text()

    _press(day, "Sign it off as checked")  # Alice linked none of its evidence
    assert "Signed off by Alice." in day.text()
    day.go("/claims/")
    assert "Signed off by Alice." in page.inner_text("li.claim")
    day.go("/tips/tip-beta-1")
    day.submit("/tips/tip-beta-1/link", {"#link-claim": "1", "input[value=firsthand]": "on"})
    day.go("/claims/1")
    assert "Signed off by Alice (before its evidence changed)." in day.text()
    day.shoot("claim-signed-off")
    _press(day, "Withdraw your sign-off")
    _press(day, "Sign it off as checked", 400)  # now she is one of its linkers
    assert "you linked evidence to claim 1, so its sign-off is a teammate's to give" in day.text()

    day.go("/claims/1")  # Alice and Bob reword the claim at once
    day.submit("/claims/1/reword", {"#reword": "Alice's words"})
    bob("claim", "edit", "1", f"Bob's words {HOSTILE}")
    day.go("/team")
    day.submit("/team/merge", {"#merge-file": str(newsroom.share("Bob"))})
    assert "1 conflict to settle" in day.text()
    assert page.get_by_role("link", name="Conflicts (1)").count() == 1  # in the menu
    day.go("/conflicts")
    conflict = page.locator("section.conflict")
    assert conflict.locator("h2").inner_text() == "1. claim 1: text"
    values = conflict.locator(".value").all_inner_texts()
    authors = conflict.locator(".author").all_inner_texts()
    assert sorted(zip(values, authors, strict=True)) == [
        ("Alice's words", "by Alice shown now"),  # the newer edit wins until one is kept
        (f"Bob's words {HOSTILE}", "by Bob"),
    ]
    assert "<script>" not in page.content()  # the teammate's words are escaped
    day.shoot("conflicts")
    audit(playwright, page.context.cookies(), day.visited)  # axe, while a conflict is shown
    _press(day, "Keep Bob's value")
    assert "No conflicts: every field has one value across the team." in day.text()
    assert page.get_by_role("link", name="Conflicts", exact=True).count() == 1
    day.go("/claims/1")
    assert f"Bob's words {HOSTILE}" in page.inner_text(".claim-text")

    day.go("/import")  # the waiting link counts once its tip arrives
    day.submit("/import", {"#bundle": str(newsroom.bundle("Alice", LATER_TIPS))})
    day.import_done()
    day.go("/claims/1")
    assert "not imported here yet" not in day.text()
    assert "Tip tip-delta-1 from" in day.text()
    assert not {name: px for name, px in day.too_wide.items() if px > 0}, day.too_wide


def test_sharing_writes_a_file_the_teammate_merges(newsroom: Newsroom, tmp_path: Path) -> None:
    alice = newsroom["Alice"]
    app = _desk(alice.workspace, alice.reviewer)
    app.extensions["desk"].gate.host = HOST
    pages = Pages(launched(app))
    pages.get("/claims/")
    pages.post("/claims/", {"text": "Alice's claim"})
    out = tmp_path / "from-alice.cairn"
    html = pages.post("/team/share", {"out": str(out)}, 200).get_data(as_text=True)
    assert f"to <code>{out}</code>, sealed for Bob." in html
    newsroom.merge("Bob", out)
    assert [claim["text"] for claim in newsroom["Bob"].json("claims")] == ["Alice's claim"]
    again = pages.post("/team/share", {"out": str(out), "all": "yes"}, 400)
    assert "already exists" in again.get_data(as_text=True)
    missing = tmp_path / "no" / "such.cairn"  # a folder that is not there: said, not a crash
    nowhere = pages.post("/team/share", {"out": str(missing), "all": "yes"}, 400)
    assert str(missing) in nowhere.get_data(as_text=True)


def test_refused_files_say_why_and_merge_nothing(newsroom: Newsroom, tmp_path: Path) -> None:
    alice, bob = newsroom["Alice"], newsroom["Bob"]
    app = _desk(alice.workspace, alice.reviewer)
    app.extensions["desk"].gate.host = HOST
    pages = Pages(launched(app))
    pages.get("/team")
    bob("claim", "add", "Bob's claim")
    file = newsroom.share("Bob")
    tampered = tmp_path / "tampered.cairn"
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 1
    tampered.write_bytes(bytes(data))

    def refused(path: Path) -> str:
        html: str = pages.post("/team/merge", {"file": str(path)}, 400).get_data(as_text=True)
        return html

    assert "damaged or was altered; nothing was merged" in refused(tampered)
    assert "No such file or directory" in refused(tmp_path / "nowhere.cairn")
    strangers = make_newsroom(tmp_path / "strangers", ["Mallory"], TIPS)
    strangers["Mallory"]("team", "add", newsroom.keys["Alice"], "--name", "Alice")
    strangers["Mallory"]("claim", "add", "Mallory's claim")
    assert "not a team member" in refused(strangers.share("Mallory"))  # never pinned here
    pages.post("/team/remove", {"name": "Bob"})
    assert "removed from the team; nothing was merged" in refused(file)
    assert "No claims yet." in pages.get("/claims/")
    assert pages.get("/conflicts").count("No conflicts") == 1
