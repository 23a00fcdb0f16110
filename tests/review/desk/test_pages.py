"""Every page of the desk over the service: what a reviewer does with the CLI, in pages."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from keys.courier_api import sign_delivery
from keys.signing import KeyKind, SigningKey
from review.desk.inbox import sentences
from review.wording import status_words
from tests.support.desk import (
    CANARY,
    HOSTILE,
    LATER_TIPS,
    REFRESH,
    TIPS,
    Bench,
    Pages,
    hold_imports,
)
from tests.support.review import REVIEW_DIR, database_use, make_bundle


def _statuses(bench: Bench) -> dict[str, str]:
    return {row["id"]: row["status"] for row in bench.review.json("tips")}


def test_the_inbox_groups_tips_by_source_and_day_with_short_ids(bench: Bench, pages: Pages) -> None:
    html = pages.get("/")
    assert "3 tips" in html
    for row in bench.review.json("tips"):
        assert row["source"] in html
        assert f'href="/tips/{row["id"]}"' in html
    assert "minutes.pdf" in html and "application/pdf" in html
    assert html.count('class="submission"') == 2  # one source, one day each


def test_the_inbox_filters_by_status_source_and_claim(bench: Bench, pages: Pages) -> None:
    pages.post("/tips/tip-file-1/mark", {"status": "flagged"})
    html = pages.get("/?status=flagged")
    assert "1 tip" in html and "tip-file-1" in html and "tip-alpha-1" not in html
    source = {row["id"]: row["source"] for row in bench.review.json("tips")}["tip-alpha-1"]
    html = pages.get(f"/?source={source}")
    assert "1 tip" in html and "tip-alpha-1" in html
    bench.review("claim", "add", "The mayor met the contractor.")
    pages.post("/tips/tip-beta-1/link", {"claim": "1", "stance": "supports", "basis": "firsthand"})
    html = pages.get("/?claim=1")
    assert "1 tip" in html and "tip-beta-1" in html


def test_search_finds_words_in_the_text_and_notes_without_putting_them_in_an_address(
    bench: Bench, pages: Pages
) -> None:
    pages.post("/tips/tip-alpha-1/note", {"text": "ask about the YARD keys"})
    found = pages.post("/", {"words": f"{CANARY}-TIP-B"}, status=200).get_data(as_text=True)
    assert "1 tip" in found and "tip-beta-1" in found
    found = pages.post("/", {"words": "yard keys"}, status=200).get_data(as_text=True)
    assert "1 tip" in found and "tip-alpha-1" in found
    assert "?words" not in found and "words=" not in found


def test_the_inbox_claims_and_sources_are_paginated(
    bench: Bench, pages: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    import review.desk.claims
    import review.desk.inbox
    import review.desk.sources

    monkeypatch.setattr(review.desk.inbox, "PAGE_SIZE", 2)
    first, second = pages.get("/"), pages.get("/?page=2")
    assert "Page 1 of 2" in first and "Next page" in first
    assert "Page 2 of 2" in second and "Previous page" in second
    assert len(re.findall(r'class="tip ', first)) == 2
    assert len(re.findall(r'class="tip ', second)) == 1
    assert "3 tips" in second and "Page 2 of 2" in pages.get("/?page=9")  # past the end

    for text in ("One.", "Two.", "Three."):
        bench.review("claim", "add", text)
    monkeypatch.setattr(review.desk.claims, "PAGE_SIZE", 2)
    second = pages.get("/claims/?page=2")
    assert "3 claims" in second and "Three." in second and "One." not in second

    monkeypatch.setattr(review.desk.sources, "PAGE_SIZE", 1)
    monkeypatch.setattr(review.desk.sources, "GRAPH_MAX_SOURCES", 1)
    html = pages.get("/sources?page=2")
    assert "Page 2 of 2" in html and "<svg" not in html
    assert html.count('<article class="source">') == 1


def test_i11_hostile_text_is_inert_in_the_page(bench: Bench, pages: Pages) -> None:
    html = pages.get("/tips/tip-beta-1")
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for char in ("\x1b", "\u202e", "\u200b"):
        assert char not in html
    assert "\ufffd[2J\ufffdtxt.exe\ufffd&lt;b&gt;" in html
    pages.post("/tips/tip-beta-1/note", {"text": HOSTILE})
    bench.review("claim", "add", HOSTILE)
    for path in ("/tips/tip-beta-1", "/claims/", "/claims/1", "/"):
        html = pages.get(path)
        assert "<script>" not in html and "\u202e" not in html and "\x1b" not in html


def test_reading_a_tip_marks_it_read_and_shows_a_file_without_opening_it(
    bench: Bench, pages: Pages, tmp_path: Path
) -> None:
    assert f"{CANARY}-tip-a" in pages.get("/tips/tip-alpha-1")
    assert _statuses(bench)["tip-alpha-1"] == "read"
    html = pages.get("/tips/tip-file-1")
    assert "minutes.pdf" in html and "25 bytes" in html and "%PDF" not in html
    out = tmp_path / "exported"
    out.mkdir()
    done = pages.post("/tips/tip-file-1/export", {"out_dir": str(out)}, status=200)
    text = done.get_data(as_text=True)
    assert "metadata" in text.lower() and "a PDF document" in text
    (written,) = out.iterdir()
    assert written.read_bytes() == b"%PDF-1.4 not really a pdf"


def test_an_export_into_the_workspace_is_refused_with_one_line(bench: Bench, pages: Pages) -> None:
    refused = pages.post(
        "/tips/tip-file-1/export", {"out_dir": str(bench.review.workspace)}, status=400
    )
    assert "inside the workspace" in refused.get_data(as_text=True)


def test_triage_claims_and_links_with_a_quote_chosen_from_the_tip(
    bench: Bench, pages: Pages
) -> None:
    pages.post("/tips/tip-alpha-1/mark", {"status": "flagged"})
    pages.post("/tips/tip-alpha-1/note", {"text": f"call back {CANARY}-note"})
    created = pages.post("/claims/", {"text": f"The mayor met the contractor {CANARY}-claim"})
    assert created.headers["Location"] == "/claims/1"
    html = pages.get("/tips/tip-alpha-1")
    assert f"call back {CANARY}-note" in html
    quote = "The mayor met the contractor on Monday at the yard."
    assert f'<option value="{quote}">' in html
    pages.post(
        "/tips/tip-alpha-1/link",
        {"claim": "1", "stance": "supports", "basis": "firsthand", "quote": quote},
    )
    (claim,) = bench.review.json("claims")
    assert claim["status"] == "single-source"
    assert claim["evidence"][0]["quote"] == quote
    assert _statuses(bench)["tip-alpha-1"] == "flagged"
    html = pages.get("/claims/1")
    assert "1 independent group supports it firsthand or by document; 2 are needed" in html
    pages.post("/claims/1/reword", {"text": "The mayor met the contractor twice."})
    assert bench.review.json("claims")[0]["text"] == "The mayor met the contractor twice."
    pages.post("/claims/1/unlink", {"tip": "tip-alpha-1"})
    assert bench.review.json("claims")[0]["evidence"] == []
    pages.post("/claims/1/remove", {})
    assert bench.review.json("claims") == []


def test_an_unknown_claim_or_stance_is_a_one_line_refusal(bench: Bench, pages: Pages) -> None:
    refused = pages.post("/tips/tip-alpha-1/link", {"claim": "9", "stance": "supports"}, status=400)
    assert "no claim 9" in refused.get_data(as_text=True)
    bench.review("claim", "add", "A claim.")
    refused = pages.post("/tips/tip-alpha-1/link", {"claim": "1", "stance": "maybe"}, status=400)
    assert "is not a stance" in refused.get_data(as_text=True)
    assert pages.get("/claims/9", status=400)


def test_sources_relations_and_suggestions(bench: Bench, pages: Pages) -> None:
    pages.import_bundle(bench.later_bundle)
    names = {row["id"]: row["source"] for row in bench.review.json("tips")}
    a, b, c = names["tip-alpha-1"], names["tip-beta-1"], names["tip-gamma-1"]
    html = pages.get("/suggestions")
    assert a in html and c in html and "near-duplicate text" in html
    pages.post("/suggestions/accept", {"first": a, "second": c})
    assert "No suggestions." in pages.get("/suggestions")
    pages.post(
        "/sources/relate", {"first": a, "second": b, "kind": "same-person", "note": f"{CANARY}-why"}
    )
    html = pages.get("/sources")
    assert f"{CANARY}-why" in html and "<svg" in html and 'class="edge same-person"' in html
    sources = {view["pseudonym"]: view for view in bench.review.json("sources")}
    assert sorted(sources[a]["group"]) == sorted([a, b, c])
    pages.post("/sources/unrelate", {"first": b, "second": a})
    sources = {view["pseudonym"]: view for view in bench.review.json("sources")}
    assert sorted(sources[a]["group"]) == sorted([a, c])


def test_a_dismissed_suggestion_stays_dismissed(bench: Bench, pages: Pages) -> None:
    pages.import_bundle(bench.later_bundle)
    names = {row["id"]: row["source"] for row in bench.review.json("tips")}
    pages.post(
        "/suggestions/dismiss", {"first": names["tip-gamma-1"], "second": names["tip-alpha-1"]}
    )
    assert "No suggestions." in pages.get("/suggestions")
    assert bench.review.json("suggest") == []


def test_replies_are_written_waiting_and_bundled(
    bench: Bench, pages: Pages, tmp_path: Path
) -> None:
    source = {row["id"]: row["source"] for row in bench.review.json("tips")}["tip-alpha-1"]
    html = pages.get("/replies/")
    assert f"<option>{source}</option>" in html and "Nothing waiting." in html
    pages.post("/replies/", {"source": source, "text": f"Thank you {CANARY}-reply"})
    html = pages.get("/replies/")
    assert f"Thank you {CANARY}-reply" in html and "Waiting for the courier (1)" in html
    out = tmp_path / "replies.tar"
    done = pages.post("/replies/bundle", {"out": str(out)}, status=200).get_data(as_text=True)
    assert out.exists() and "Wrote 1 reply" in done


def test_replies_are_shown_delivered_once_the_server_confirms_them(
    bench: Bench, pages: Pages, tmp_path: Path
) -> None:
    source = {row["id"]: row["source"] for row in bench.review.json("tips")}["tip-alpha-1"]
    pages.post("/replies/", {"source": source, "text": f"Thank you {CANARY}-reply"})
    [waiting] = bench.review.json("outbox")
    assert "Delivered (0)" in pages.get("/replies/")
    forged = tmp_path / "forged.json"
    forged.write_text(
        json.dumps(sign_delivery(SigningKey.generate(KeyKind.SERVER), [waiting["id"]]))
    )
    refused = pages.post("/replies/delivered", {"confirmation": str(forged)}, status=400)
    assert "no reply was marked" in refused.get_data(as_text=True)
    confirmation = tmp_path / "replies.delivered.json"
    confirmation.write_text(json.dumps(sign_delivery(bench.server, [waiting["id"]])))
    html = pages.post("/replies/delivered", {"confirmation": str(confirmation)}, status=200)
    html = html.get_data(as_text=True)
    assert "Marked 1 reply delivered; 0 still wait in the outbox." in html
    assert "Waiting for the courier (0)" in html and "Delivered (1)" in html
    assert waiting["id"] in html and f"{CANARY}-reply" not in html  # its text has left


def test_import_trust_and_report(bench: Bench, pages: Pages, tmp_path: Path) -> None:
    assert "(cairnserver1…)" in pages.get("/import")
    html = pages.import_bundle(bench.later_bundle)
    assert "Verified 2 of 2 items in later.tar" in html and "imported 2 new tips" in html
    again = pages.import_bundle(bench.later_bundle)
    assert "imported 0 new tips (2 already here)" in again
    refused = pages.post("/trust", {"server_key": "cairnpub1nonsense"}, status=400)
    assert "Not done" in refused.get_data(as_text=True)
    bench.review("claim", "add", "A claim about the yard")
    out = tmp_path / "report.md"
    pages.post("/report", {"out": str(out), "format": "md"}, status=200)
    assert "## Claim 1: unsupported\n\nA claim about the yard" in out.read_text()
    refused = pages.post("/report", {"out": str(out), "format": "md"}, status=400)
    assert "already exists" in refused.get_data(as_text=True)


def test_the_import_page_counts_the_items_checked_until_the_import_is_done(
    bench: Bench, pages: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = hold_imports(monkeypatch)
    reached, release = held.reached, held.release
    started = pages.post("/import", {"bundle": str(bench.later_bundle)})
    assert started.headers["Location"] == "/import/progress"
    assert reached.wait(20)
    html = pages.get("/import/progress")
    assert "Checked 1 of 2 items in later.tar." in html and REFRESH in html
    assert '<progress max="2" value="1" aria-label="Items checked">1 of 2</progress>' in html
    pages.post("/import", {"bundle": str(bench.later_bundle.with_name("first.tar"))})
    assert "Checked 1 of 2 items in later.tar." in pages.get("/import/progress")  # one at a time
    release.set()
    done = pages.import_outcome()
    assert "Verified 2 of 2 items in later.tar, then imported 2 new tips" in done
    assert REFRESH not in done and "<progress" not in done
    assert len(bench.review.json("tips")) == 5


def test_i8_a_failing_import_shows_its_error_and_imports_nothing(
    bench: Bench, pages: Pages, tmp_path: Path
) -> None:
    other_words = dataclasses.replace(TIPS[0], content=b"other words under a known id")
    clash = make_bundle(
        tmp_path / "clash.tar",
        bench.server,
        (LATER_TIPS[0], other_words),
        [bench.reviewer.identity.recipient],
    )
    html = pages.import_bundle(clash)
    assert "<title>Not imported" in html and REFRESH not in html
    assert "tip tip-alpha-1 is already in the workspace with other content" in html
    assert "nothing was imported" in html
    assert len(bench.review.json("tips")) == 3  # not even tip-gamma-1, checked before the clash
    assert "imported 2 new tips" in pages.import_bundle(bench.later_bundle)  # the next one runs


def test_the_matrix_draws_each_group_on_each_claim_with_a_symbol(
    bench: Bench, pages: Pages
) -> None:
    bench.review("claim", "add", "Claim one.")
    pages.post("/tips/tip-alpha-1/link", {"claim": "1", "stance": "supports", "basis": "firsthand"})
    pages.post(
        "/tips/tip-beta-1/link", {"claim": "1", "stance": "contradicts", "basis": "secondhand"}
    )
    html = pages.get("/matrix")
    assert html.count('class="cell support"') == 1
    assert html.count('class="cell weak-contradict"') == 1
    assert "claim 1 · single-source" in html


def test_the_claim_page_says_what_a_relation_would_change(bench: Bench, pages: Pages) -> None:
    pages.import_bundle(bench.later_bundle)
    names = {row["id"]: row["source"] for row in bench.review.json("tips")}
    bench.review("claim", "add", "The mayor met the contractor.")
    for tip in ("tip-alpha-1", "tip-gamma-1"):
        pages.post(f"/tips/{tip}/link", {"claim": "1", "stance": "supports", "basis": "firsthand"})
    html = pages.get("/claims/1")
    a, c = sorted((names["tip-alpha-1"], names["tip-gamma-1"]))
    assert f"{a} and {c} were found related</td>\n  <td>single-source" in html
    pages.post("/sources/relate", {"first": a, "second": c, "kind": "shared-origin"})
    html = pages.get("/claims/1")
    assert f"the relation between {a} and {c} were removed</td>\n  <td>corroborated" in html


def test_status_words() -> None:
    assert sentences("One. Two!  Three?\nFour") == ["One.", "Two!", "Three?", "Four"]
    assert status_words.__doc__


def test_no_view_touches_the_workspace_database() -> None:
    """The desk is a face on the service, as the CLI is: no SQL, no session, no model class."""
    views = sorted((REVIEW_DIR / "desk").glob("*.py"))
    assert len(views) >= 10
    found = {path.name: database_use(path) for path in views}
    assert {name: uses for name, uses in found.items() if uses} == {}
