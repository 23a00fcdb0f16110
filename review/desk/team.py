"""The team (issue 21): the reviewer's key to give, the teammates pinned, exchange files written
and merged by a path on this disk (as `review share` and `review merge` take them, never
uploaded through the browser), and the conflicts to settle."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..service import Review
from ..wording import waiting
from .app import review
from .forms import required, required_int

blueprint = Blueprint("team", __name__)


def _team_page(r: Review, **shown: object) -> str:
    you, *teammates = r.team()
    return render_template("team.html", you=you, teammates=teammates, **shown)


@blueprint.get("/team")
def team() -> str:
    with review() as r:
        return _team_page(r)


@blueprint.post("/team/add")
def add() -> Response:
    with review() as r:
        r.add_member(required("key"), required("name"))
    return redirect(url_for("team.team"), 303)


@blueprint.post("/team/remove")
def remove() -> Response:
    with review() as r:
        r.remove_member(required("name"))
    return redirect(url_for("team.team"), 303)


@blueprint.post("/team/share")
def share() -> str:
    with review() as r:
        shared = r.share(
            Path(required("out")).expanduser(), everything=request.form.get("all") == "yes"
        )
        return _team_page(r, shared=shared)


@blueprint.post("/team/merge")
def merge() -> str:
    with review() as r:
        merged = r.merge(Path(required("file")).expanduser())
    return render_template("merged.html", merged=merged, waiting=waiting(merged.waiting))


@blueprint.get("/conflicts")
def conflicts() -> str:
    with review() as r:
        views = r.conflicts()
    return render_template("conflicts.html", conflicts=views)


@blueprint.post("/conflicts/<int:number>/settle")
def settle(number: int) -> Response:
    """Keep one value; refused if the conflicts changed since the page numbered them."""
    with review() as r:
        r.settle(number, required_int("keep"), shown_as=(required("record"), required("field")))
    return redirect(url_for("team.conflicts"), 303)
