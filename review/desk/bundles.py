"""What comes in and what goes out: trusting the server, importing a bundle, the report.

A bundle is read from a path on this disk, as `review import` reads it, never uploaded through
the browser; the report is written to a path outside the workspace, as `review report` writes it.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, render_template, request

from ..service.claims import REPORT_FORMATS
from .app import desk, review
from .forms import required

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
def import_() -> str:
    path = Path(required("bundle")).expanduser()
    verified = [0, 0]  # items checked, items in the bundle

    def progress(done: int, total: int) -> None:
        verified[:] = [done, total]

    with review() as r:
        result = r.import_bundle(path, progress)
    desk().keyring.warm_in_background()  # the new tips, ready for the next search
    return render_template("imported.html", bundle=path.name, result=result, verified=verified)


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
