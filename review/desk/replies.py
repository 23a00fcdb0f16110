"""Replies: writing one to a source, the outbox waiting for the courier, its bundle, and the
server's confirmation of what it received (read from a path on this disk, as `review delivered`
reads it)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ..service.replies import Confirmed
from .app import review
from .forms import required

blueprint = Blueprint("replies", __name__, url_prefix="/replies")


@blueprint.get("/")
def replies() -> str:
    return _page()


def _page(confirmed: Confirmed | None = None) -> str:
    with review() as r:
        waiting = r.outbox()
        delivered = r.delivered_replies()
        reachable = r.source_names(can_reply=True)
    return render_template(
        "replies.html",
        waiting=waiting,
        delivered=delivered,
        reachable=reachable,
        confirmed=confirmed,
    )


@blueprint.post("/")
def write() -> Response:
    with review() as r:
        r.reply(required("source"), required("text"))
    return redirect(url_for("replies.replies"), 303)


@blueprint.post("/delivered")
def delivered() -> str:
    with review() as r:
        confirmed = r.confirm_delivery(Path(required("confirmation")).expanduser())
    return _page(confirmed)


@blueprint.post("/bundle")
def bundle() -> str:
    with review() as r:
        written = r.write_reply_bundle(Path(required("out")).expanduser())
    return render_template("reply_bundle.html", bundle=written)
