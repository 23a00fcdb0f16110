"""The desk shows each claim's grade and what would settle it, and takes a credibility override
with its reason (issue 20)."""

from __future__ import annotations

from tests.support.desk import Bench, Pages


def test_the_claim_page_shows_the_grade_the_to_do_and_an_override(
    bench: Bench, pages: Pages
) -> None:
    names = {row["id"]: row["source"] for row in bench.review.json("tips")}
    alpha = names["tip-alpha-1"]
    bench.review("claim", "add", "The mayor met the contractor.")
    pages.post("/tips/tip-alpha-1/link", {"claim": "1", "stance": "supports", "basis": "firsthand"})
    bench.review("sources", "grade", alpha, "B")
    html = pages.get("/claims/1")
    assert '<span class="badge grade">B3</span>' in html
    assert (
        "The best supporting source: B (usually reliable). The information: 3 (possibly true)."
        in html
    )
    assert f"<li>one more independent firsthand source or a document outside {alpha}</li>" in html
    assert 'class="badge grade" title="grade: reliability and credibility">B3<' in pages.get(
        "/claims/"
    )

    pages.post("/claims/1/credibility", {"credibility": "2", "reason": "the diary <agrees>"})
    html = pages.get("/claims/1")
    assert '<span class="badge grade">B2*</span>' in html
    assert "in place of 3 (possibly true)" in html and "the diary &lt;agrees&gt;" in html
    assert pages.post("/claims/1/credibility", {"credibility": "9", "reason": "x"}, status=400)
    pages.post("/claims/1/credibility", {"derived": "1"})
    assert '<span class="badge grade">B3</span>' in pages.get("/claims/1")


def test_a_source_is_graded_from_the_sources_page(bench: Bench, pages: Pages) -> None:
    names = {row["id"]: row["source"] for row in bench.review.json("tips")}
    alpha = names["tip-alpha-1"]
    assert '<option value="F" selected>F cannot be judged' in pages.get("/sources")
    pages.post("/sources/grade", {"source": alpha, "reliability": "C", "note": "once wrong"})
    graded = {s["pseudonym"]: s["reliability"] for s in bench.review.json("sources")}
    assert graded[alpha] == "C"
    assert pages.post("/sources/grade", {"source": alpha, "reliability": "G"}, status=400)
