"""Claims: the list with each status and grade in plain words, a claim's page with what would
settle it, adding, rewording, removing, and overriding a claim's credibility."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..grading import CREDIBILITY_WORDS, RELIABILITY_WORDS
from ..wording import status_words
from .app import desk, review
from .forms import optional_int, required, required_int

blueprint = Blueprint("claims", __name__, url_prefix="/claims")
PAGE_SIZE = 50


@blueprint.get("/")
def claims() -> str:
    with review() as r:
        total = r.claim_count()
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page = min(max(optional_int(request.args.get("page"), "page") or 1, 1), pages)
        views = r.claims(
            desk().threshold, with_evidence=False, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    return render_template(
        "claims.html", claims=views, words=status_words, total=total, page=page, pages=pages
    )


@blueprint.post("/")
def add() -> Response:
    with review() as r:
        claim = r.add_claim(required("text"))
    return redirect(url_for("claims.claim", claim_id=claim), 303)


@blueprint.get("/<int:claim_id>")
def claim(claim_id: int) -> str:
    with review() as r:
        view = r.claim(claim_id, desk().threshold)
        what_if = r.what_if(claim_id, desk().threshold)
    return render_template(
        "claim.html",
        claim=view,
        words=status_words,
        what_if=what_if,
        reliability_words=RELIABILITY_WORDS,
        credibility_words=CREDIBILITY_WORDS,
    )


@blueprint.post("/<int:claim_id>/credibility")
def credibility(claim_id: int) -> Response:
    with review() as r:
        if request.form.get("derived"):
            r.derive_credibility(claim_id)
        else:
            r.override_credibility(claim_id, required_int("credibility"), required("reason"))
    return redirect(url_for("claims.claim", claim_id=claim_id), 303)


@blueprint.post("/<int:claim_id>/reword")
def reword(claim_id: int) -> Response:
    with review() as r:
        r.reword_claim(claim_id, required("text"))
    return redirect(url_for("claims.claim", claim_id=claim_id), 303)


@blueprint.post("/<int:claim_id>/remove")
def remove(claim_id: int) -> Response:
    with review() as r:
        r.remove_claim(claim_id)
    return redirect(url_for("claims.claims"), 303)


@blueprint.post("/<int:claim_id>/unlink")
def unlink(claim_id: int) -> Response:
    with review() as r:
        r.unlink(required("tip"), claim_id)
    return redirect(url_for("claims.claim", claim_id=claim_id), 303)
