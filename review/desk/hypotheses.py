"""Competing hypotheses: the claims-by-hypotheses matrix, ranked, and the forms that fill it."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ..ach import MARKS, SYMBOLS
from ..wording import ach_notes
from .app import desk, review
from .forms import required, required_int, text_or_none

blueprint = Blueprint("hypotheses", __name__, url_prefix="/ach")


@blueprint.get("/")
def matrix() -> str:
    with review() as r:
        found = r.matrix(desk().threshold)
        claims = r.recent_claims(50)
    return render_template(
        "ach.html", matrix=found, marks=MARKS, symbols=SYMBOLS, claims=claims, notes=ach_notes
    )


@blueprint.post("/hypotheses")
def add() -> Response:
    with review() as r:
        r.add_hypothesis(required("text"))
    return redirect(url_for("hypotheses.matrix"), 303)


@blueprint.post("/hypotheses/<int:hypothesis_id>/remove")
def remove(hypothesis_id: int) -> Response:
    with review() as r:
        r.remove_hypothesis(hypothesis_id)
    return redirect(url_for("hypotheses.matrix"), 303)


@blueprint.post("/mark")
def mark() -> Response:
    hypothesis, claim = required_int("hypothesis"), required_int("claim")
    with review() as r:
        r.mark_evidence(hypothesis, claim, required("mark"), text_or_none("reason"))
    return redirect(url_for("hypotheses.matrix"), 303)
