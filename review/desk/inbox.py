"""The inbox and a tip: listing, searching, reading, marking, noting, exporting and linking."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..corroboration import BASES, STANCES
from ..models import TIP_STATUSES
from ..service.claims import DEFAULT_BASIS
from ..service.triage import TipRow
from .app import review
from .forms import optional_int, required, required_int, text_or_none

blueprint = Blueprint("inbox", __name__)
PAGE_SIZE = 50
RECENT_CLAIMS = 30  # offered on a tip's page for a link; any claim can be given by number
MAX_SENTENCES = 200
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass(frozen=True)
class Submission:
    """Tips one source sent together (``TipRow.group``): how the inbox groups them."""

    source: str
    day: str
    tips: tuple[TipRow, ...]


def submissions(rows: list[TipRow]) -> list[Submission]:
    grouped = (tuple(tips) for _, tips in groupby(rows, key=lambda row: row.group))
    return [Submission(tips[0].source, tips[0].day, tips) for tips in grouped]


def _pages(total: int) -> int:
    return max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)


def sentences(text: str) -> list[str]:
    """The tip's sentences, as choices for a link's quote."""
    found = (part.strip() for part in _SENTENCE_END.split(text))
    return [sentence for sentence in found if sentence][:MAX_SENTENCES]


@blueprint.route("/", methods=["GET", "POST"])
def inbox() -> str:
    """GET filters by status, source and claim; POST searches (so the words stay out of the
    address, and out of the browser's history)."""
    args = request.form if request.method == "POST" else request.args
    statuses = tuple(status for status in args.getlist("status") if status in TIP_STATUSES)
    source = args.get("source") or None
    claim = optional_int(args.get("claim"), "claim")
    words = request.form.get("words", "")
    page = max(optional_int(args.get("page"), "page") or 1, 1)
    with review() as r:
        if words:  # a search (a POST) shows its first page only
            found = r.search(words, statuses, source, claim=claim, limit=PAGE_SIZE)
            total, page, shown = found.total, 1, found.rows
        else:
            total = r.tip_count(statuses, source, claim=claim)
            page = min(page, _pages(total))
            shown = r.tips(
                statuses, source, claim=claim, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
            )
        short = r.short_tip_ids([row.id for row in shown])
    return render_template(
        "inbox.html",
        submissions=submissions(shown),
        short=short,
        total=total,
        shown_count=len(shown),
        page=page,
        pages=_pages(total),
        statuses=statuses,
        source=source,
        claim=claim,
        words=words,
        all_statuses=TIP_STATUSES,
    )


@blueprint.get("/tips/<ref>")
def tip(ref: str) -> str:
    with review() as r:
        view = r.show(ref)
        recent = r.recent_claims(RECENT_CLAIMS)
    return render_template(
        "tip.html",
        tip=view,
        sentences=sentences(view.text or ""),
        recent_claims=recent,
        all_statuses=TIP_STATUSES,
        stances=STANCES,
        bases=BASES,
        default_basis=DEFAULT_BASIS,
    )


def _back(ref: str) -> Response:
    return redirect(url_for("inbox.tip", ref=ref), 303)


@blueprint.post("/tips/<ref>/mark")
def mark(ref: str) -> Response:
    with review() as r:
        found = r.mark(ref, required("status"))
    return _back(found)


@blueprint.post("/tips/<ref>/note")
def note(ref: str) -> Response:
    with review() as r:
        found = r.note(ref, required("text"))
    return _back(found)


@blueprint.post("/tips/<ref>/link")
def link(ref: str) -> Response:
    claim = required_int("claim")
    with review() as r:
        linked = r.link(
            ref,
            claim,
            required("stance"),
            request.form.get("basis", DEFAULT_BASIS),
            text_or_none("quote"),
        )
    return _back(linked.tip)


@blueprint.post("/tips/<ref>/unlink")
def unlink(ref: str) -> Response:
    claim = required_int("claim")
    with review() as r:
        found = r.unlink(ref, claim)
    return _back(found)


@blueprint.post("/tips/<ref>/export")
def export(ref: str) -> str:
    with review() as r:
        exported = r.export(ref, Path(required("out_dir")).expanduser())
    return render_template("exported.html", ref=ref, exported=exported)
