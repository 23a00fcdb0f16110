"""Sources and their independence: groups, relations with their notes, suggestions, pictures."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..corroboration import RELATION_KINDS
from ..grading import RELIABILITY_WORDS
from ..service import Review
from .app import desk, review
from .forms import optional_int, required, text_or_none
from .pictures import GRAPH_MAX_SOURCES, MATRIX_ROWS, matrix, relation_graph

blueprint = Blueprint("sources", __name__)
PAGE_SIZE = 50


@blueprint.get("/sources")
def sources() -> str:
    """Every source with the graph when there are few enough to draw; else a page of them."""
    with review() as r:
        names = r.source_names()
        pages = max((len(names) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page = min(max(optional_int(request.args.get("page"), "page") or 1, 1), pages)
        if len(names) <= GRAPH_MAX_SOURCES:
            views, page, pages = r.sources(), 1, 1
        else:
            views = r.sources((page - 1) * PAGE_SIZE, PAGE_SIZE)
    return render_template(
        "sources.html",
        sources=views,
        names=names,
        page=page,
        pages=pages,
        kinds=RELATION_KINDS,
        reliability_words=RELIABILITY_WORDS,
        graph=relation_graph(views) if pages == 1 else None,
    )


def _pair_changed(change: Callable[[Review, str, str], object], back: str) -> Response:
    """Apply ``change`` to the two sources the form names, then show page ``back`` again."""
    with review() as r:
        change(r, required("first"), required("second"))
    return redirect(url_for(back), 303)


def _relate(kind: str, back: str) -> Response:
    note = text_or_none("note")
    return _pair_changed(lambda r, a, b: r.relate(a, b, kind, note), back)


@blueprint.post("/sources/relate")
def relate() -> Response:
    return _relate(required("kind"), "sources.sources")


@blueprint.post("/sources/unrelate")
def unrelate() -> Response:
    return _pair_changed(Review.unrelate, "sources.sources")


@blueprint.post("/sources/grade")
def grade() -> Response:
    with review() as r:
        r.grade_source(required("source"), required("reliability"), text_or_none("note"))
    return redirect(url_for("sources.sources"), 303)


@blueprint.get("/suggestions")
def suggestions() -> str:
    with review() as r:
        found = r.suggestions()
    return render_template("suggestions.html", suggestions=found)


@blueprint.post("/suggestions/accept")
def accept() -> Response:
    return _relate("shared-origin", "sources.suggestions")


@blueprint.post("/suggestions/dismiss")
def dismiss() -> Response:
    return _pair_changed(Review.dismiss, "sources.suggestions")


@blueprint.get("/matrix")
def claims_by_group() -> str:
    start = max(optional_int(request.args.get("start"), "start") or 0, 0)
    with review() as r:
        total = r.claim_count()
        views = r.claims(desk().threshold, with_evidence=False, offset=start, limit=MATRIX_ROWS)
    return render_template("matrix.html", matrix=matrix(views, start, total), rows=MATRIX_ROWS)
