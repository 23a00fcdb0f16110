"""Claims: the list with each status and grade in plain words, a claim's page with what would
settle it, adding, rewording, removing, and overriding a claim's credibility."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..grading import CREDIBILITY_WORDS, RELIABILITY_WORDS
from ..wording import signed_off, status_words, waiting_link
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
        sign_offs = r.sign_offs()
        in_team = r.in_team()
    return render_template(
        "claims.html",
        claims=views,
        words=status_words,
        sign_offs=sign_offs if in_team else None,
        signed_off=signed_off,
        total=total,
        page=page,
        pages=pages,
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
        sign_offs = r.sign_offs().get(claim_id, [])
        you = r.team()[0]
        in_team = r.in_team()
        waiting = [w for w in r.waiting_links() if w.claim == claim_id]
    return render_template(
        "claim.html",
        claim=view,
        words=status_words,
        what_if=what_if,
        in_team=in_team,
        signed=signed_off(sign_offs, view.status),
        signed_by_you=any(s.reviewer == you.name for s in sign_offs),
        waiting=[waiting_link(w.tip, w.stance, w.basis) for w in waiting],
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


@blueprint.post("/<int:claim_id>/sign-off")
def sign_off(claim_id: int) -> Response:
    """Sign off as checked, or withdraw; refused to a reviewer who linked its evidence."""
    with review() as r:
        r.sign_off(claim_id, withdraw=request.form.get("withdraw") == "yes")
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
