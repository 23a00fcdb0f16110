"""What comes in and what goes out: trusting the server, importing a bundle, the report.

A bundle is read from a path on this disk, as `review import` reads it, never uploaded through
the browser; the report is written to a path outside the workspace, as `review report` writes it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..service.claims import REPORT_FORMATS
from .app import desk, review
from .forms import required
from .keyring import Locked

blueprint = Blueprint("bundles", __name__)


@blueprint.get("/import")
def import_form() -> str:
    return render_template("import.html")


@blueprint.post("/trust")
def trust() -> str:
    with review() as r:
        key = r.trust(required("server_key"), replace=request.form.get("replace") == "yes")
    return render_template("import.html", trusted=key)


@blueprint.post("/import")
def import_() -> Response:
    """Start the import in the background (unless one runs: then it is the one shown)."""
    path = Path(required("bundle")).expanduser()
    if desk().keyring.locked:
        raise Locked
    desk().imports.start(path)
    return redirect(url_for("bundles.import_progress"), 303)


@blueprint.get("/import/progress")
def import_progress() -> str | Response:
    """How far the import got; the page reloads itself each second until it is done."""
    if desk().keyring.locked:
        raise Locked
    job = desk().imports.job
    if job is None:
        return redirect(url_for("bundles.import_form"), 303)
    if job.error:
        return render_template("error.html", title="Not imported", message=job.error)
    if job.result is not None:
        return render_template("imported.html", job=job, result=job.result)
    return render_template("importing.html", job=job)


@blueprint.get("/report")
def report_form() -> str:
    return render_template("report.html", formats=REPORT_FORMATS)


@blueprint.post("/report")
def report() -> str:
    with review() as r:
        out = r.report(
            Path(required("out")).expanduser(),
            request.form.get("format", "md"),
            force=request.form.get("force") == "yes",
            threshold=desk().threshold,
        )
    return render_template("report.html", formats=REPORT_FORMATS, written=out)
