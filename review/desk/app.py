"""The desk's Flask application: the gate, the keyring, CSRF, one blueprint per area."""

from __future__ import annotations

import secrets
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from ..corroboration import DEFAULT_THRESHOLD
from ..printable import printable
from ..service import Review
from ..wording import counted, file_trouble
from ..workspace import WorkspaceError
from .gate import Gate
from .imports import Imports
from .keyring import Keyring, Locked, OpenWorkspace

MAX_FORM_BYTES = 1024 * 1024
DEFAULT_IDLE_MINUTES = 15
REFUSED = (403, 421)  # what the gate answers to a stranger or a rebinding name


@dataclass(frozen=True)
class Desk:
    gate: Gate
    keyring: Keyring
    imports: Imports
    threshold: int


def desk() -> Desk:
    """The desk this request is served by."""
    found: Desk = current_app.extensions["desk"]
    return found


def review() -> ContextManager[Review]:
    """The reviewer's verbs for this request: committed if the block ends without error."""
    return desk().keyring.review()


def shown(value: Any) -> Any:
    """Every ``{{ }}`` in every template goes through the one policy for the screen (I11)."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return printable(value)


def create_desk(
    open_workspace: OpenWorkspace,
    *,
    idle_minutes: float = DEFAULT_IDLE_MINUTES,
    threshold: int = DEFAULT_THRESHOLD,
) -> Flask:
    """The desk over the workspace that ``open_workspace`` opens, once for each request."""
    from . import bundles, claims, hypotheses, inbox, replies, sources, team  # use our helpers

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="desk_csrf",
        MAX_CONTENT_LENGTH=MAX_FORM_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_FORM_BYTES,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.jinja_env.finalize = shown
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.jinja_env.globals["counted"] = counted
    app.context_processor(_menu)
    gate = Gate()
    gate.install(app)
    CSRFProtect(app)
    keyring = Keyring(open_workspace, idle_minutes * 60)
    app.extensions["desk"] = Desk(gate, keyring, Imports(keyring), threshold)
    for area in (inbox, claims, hypotheses, sources, replies, bundles, team):
        app.register_blueprint(area.blueprint)
    app.add_url_rule("/lock", "lock", _lock, methods=["POST"])
    app.register_error_handler(WorkspaceError, _refused)
    app.register_error_handler(OSError, _file_trouble)
    app.register_error_handler(Locked, _locked)
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)
    return app


def csrf_field() -> Markup:
    """The hidden field that every form carrying a change sends back (CSRF)."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())


def _menu() -> dict[str, int | None]:
    """What the menu on every page shows: how many conflicts wait to be settled (none once the
    desk has locked)."""
    if desk().keyring.locked:
        return {"conflict_count": None}
    with review() as r:
        return {"conflict_count": r.conflict_count()}


def _lock() -> tuple[str, int]:
    """Lock now: the key is dropped and the command serving the desk exits."""
    desk().keyring.lock()
    message = "The desk is locked and closing; the key is forgotten. Close this tab."
    return render_template("error.html", title="Locked", message=message), 200


def _refused(err: WorkspaceError) -> tuple[str, int]:
    return render_template("error.html", title="Not done", message=str(err)), 400


def _file_trouble(err: OSError) -> tuple[str, int]:
    """A path the reviewer typed that cannot be read or written: said as the CLI says it."""
    return render_template("error.html", title="Not done", message=file_trouble(err)), 400


def _locked(_err: Locked) -> tuple[str, int]:
    message = "The desk locked itself and forgot the key. Start `review desk` again."
    return render_template("error.html", title="Locked", message=message), 423


def _csrf(_err: CSRFError) -> tuple[str, int]:
    message = "This form is stale or did not come from the desk; go back, reload and try again."
    return render_template("error.html", title="Refused", message=message), 400


def _http(err: HTTPException) -> tuple[str, int]:
    """An error page; to a request the gate refused, one that offers nothing of the desk."""
    code = err.code or 500
    template = "refused.html" if code in REFUSED else "error.html"
    return render_template(template, title=err.name, message=err.description), code
