"""What the desk holds decrypted in memory (never on disk, I9): search and suggestions answer from
it, an import adds to it, and locking the desk forgets it."""

from __future__ import annotations

import shutil
import time

import pytest

from review.desk import create_desk
from review.desk.keyring import Locked
from tests.support.desk import CANARY, Bench, Pages, open_workspace, served


def _hide_tip_files(bench: Bench) -> None:
    """Move every tip's ciphertext away: only what memory holds can answer now."""
    tips = bench.review.workspace / "tips"
    shutil.move(tips, tips.with_name("tips-away"))


def test_search_and_suggestions_answer_from_memory_once_warm(bench: Bench, pages: Pages) -> None:
    pages.import_bundle(bench.later_bundle)
    bench.desk.keyring.warm()
    assert len(bench.desk.keyring.plaintexts) == 5
    _hide_tip_files(bench)
    found = pages.post("/", {"words": f"{CANARY}-TIP-D"}, status=200).get_data(as_text=True)
    assert ">1 tip containing" in found and "tip-delta-1" in found
    assert "near-duplicate text" in pages.get("/suggestions")


def test_a_search_before_warming_waits_for_the_tips_it_needs(bench: Bench, pages: Pages) -> None:
    assert len(bench.desk.keyring.plaintexts) == 0  # this desk was never warmed
    found = pages.post("/", {"words": "contractor MEET"}, status=200).get_data(as_text=True)
    assert "tip-beta-1" in found and "tip-alpha-1" not in found
    assert len(bench.desk.keyring.plaintexts) == 3


def test_a_search_while_warming_finds_the_same(bench: Bench, pages: Pages) -> None:
    pages.import_bundle(bench.later_bundle)  # warms in a thread
    warming = bench.desk.keyring.warm_in_background()
    found = pages.post("/", {"words": "the mayor"}, status=200).get_data(as_text=True)
    warming.join(20)
    assert ">4 tips containing" in found
    assert "tip-file-1" not in found and len(bench.desk.keyring.plaintexts) == 5


def test_a_note_written_on_the_desk_is_found_at_once(bench: Bench, pages: Pages) -> None:
    bench.desk.keyring.warm()
    pages.post("/tips/tip-alpha-1/note", {"text": "ask about the BOATHOUSE"})
    found = pages.post("/", {"words": "boathouse"}, status=200).get_data(as_text=True)
    assert "tip-alpha-1" in found and "tip-beta-1" not in found


def test_suggestions_are_worked_out_again_only_when_the_tips_change(
    bench: Bench, pages: Pages
) -> None:
    bench.desk.keyring.warm()
    assert "No suggestions." in pages.get("/suggestions")
    pages.import_bundle(bench.later_bundle)
    html = pages.get("/suggestions")  # new tips: compared again
    assert "near-duplicate text" in html
    _hide_tip_files(bench)
    assert pages.get("/suggestions") == html  # the same tips: nothing opened or compared again


def test_i9_locking_the_desk_forgets_what_it_decrypted(bench: Bench, pages: Pages) -> None:
    keyring = bench.desk.keyring
    keyring.warm()
    assert len(keyring.plaintexts) == 3
    pages.post("/lock", {}, status=200)
    assert len(keyring.plaintexts) == 0
    with pytest.raises(Locked):
        keyring.warm()
    assert len(keyring.plaintexts) == 0


def test_i9_the_served_desk_decrypts_into_memory_when_it_starts(bench: Bench) -> None:
    app = create_desk(open_workspace(bench.review.workspace, bench.reviewer))
    keyring = app.extensions["desk"].keyring
    with served(app):
        deadline = time.monotonic() + 20
        while len(keyring.plaintexts) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(keyring.plaintexts) == 3
    assert len(keyring.plaintexts) == 0  # served() locked it
