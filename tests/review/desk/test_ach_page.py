"""The desk's competing-hypotheses page: hypotheses ranked, the matrix as a table of letters and
words (coloured, readable without colour), and the forms that fill it."""

from __future__ import annotations

import re

from tests.support.desk import Bench, Pages


def test_the_ach_page_ranks_hypotheses_and_draws_the_matrix(bench: Bench, pages: Pages) -> None:
    assert "No hypothesis yet." in pages.get("/ach/")
    bench.review("claim", "add", "The mayor met the contractor.")
    pages.post("/tips/tip-alpha-1/link", {"claim": "1", "stance": "supports", "basis": "firsthand"})
    pages.post("/ach/hypotheses", {"text": "A bribe <was> paid"})
    pages.post("/ach/hypotheses", {"text": "A chance meeting"})
    pages.post("/ach/mark", {"hypothesis": "2", "claim": "1", "mark": "strongly-inconsistent"})
    pages.post("/ach/mark", {"hypothesis": "1", "claim": "1", "mark": "consistent", "reason": "r"})
    html = pages.get("/ach/")
    ranking = re.findall(r"Rank (\d): <strong>H(\d)</strong>", html)
    assert ranking == [("1", "1"), ("2", "2")]
    assert "A bribe &lt;was&gt; paid" in html
    cell = '<td class="ach-strongly-inconsistent"><span aria-hidden="true">II</span> '
    assert cell + '<span class="ach-word">strongly-inconsistent</span></td>' in html
    assert "sensitive: the ranking changes without it" in html
    assert pages.post("/ach/mark", {"hypothesis": "1", "claim": "1", "mark": "maybe"}, status=400)
    refused = pages.post("/ach/mark", {"hypothesis": "1", "claim": "one", "mark": "neutral"}, 400)
    assert "claim must be a number" in refused.get_data(as_text=True)
    pages.post("/ach/hypotheses/2/remove", {})
    assert "H2" not in pages.get("/ach/")
