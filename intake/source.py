"""The source pages: landing, first submission with a new codename, check back, log out.

Views stay thin: the codename and KDF live in keys.codename, parsing and sealing in
intake.submission, storage in intake.store.
"""

from __future__ import annotations

import re
import shutil

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import BadRequest, Gone
from werkzeug.http import parse_options_header
from wtforms import ValidationError

from keys.codename import MIN_WORDS, generate_codename, normalize_codename

from . import state
from .i18n import forget_language_after_this_page, number, size_in_words
from .instance import MIB
from .received_page import received_page
from .replies import open_replies
from .sessions import SESSION_SOURCE_KEY
from .submission import INTERRUPTED, FormProblem, SubmissionLimits, receive_submission
from .submission_writer import SourceGone, UploadGone

MAX_CODENAME_CHARS = 300
# What a codename carried back by a form must look like to be shown again as one.
_CODENAME_SHAPE = re.compile(rf"[a-z]+(?:-[a-z]+)*(?: [a-z]+(?:-[a-z]+)*){{{MIN_WORDS - 1},}}")

source_pages = Blueprint("source", __name__)


def _limits(source_id: str) -> SubmissionLimits:
    cairn = state()
    config = cairn.instance.config
    # A minimum length applies to a source's first message only (asked of the DB only if set).
    minimum = config.min_first_message_chars
    if minimum and cairn.store.has_submitted(source_id):
        minimum = 0
    return SubmissionLimits(
        max_bytes=config.max_upload_mib * MIB,
        max_message_chars=config.max_message_chars,
        max_files=config.max_files,
        min_message_chars=minimum,
    )


def _page_context() -> dict[str, object]:
    config = state().instance.config
    return {
        "max_upload": size_in_words(config.max_upload_mib * MIB),
        "max_files": number(config.max_files),
        "max_message_chars": number(config.max_message_chars),
    }


def _ensure_open() -> None:
    """The storage high-water mark: past it, new submissions get the 'closed' page (503)."""
    cairn = state()
    config = cairn.instance.config
    full = cairn.store.stored_bytes() >= config.max_stored_gib * (1 << 30)
    low_disk = shutil.disk_usage(cairn.instance.path).free < config.min_free_disk_mib * MIB
    if full or low_disk:
        abort(503)


def _begin_session(source_id: str) -> None:
    """A fresh token whenever a source identifies itself, so an old token never gains access;
    saving it ends the source's other sessions (intake/sessions.py)."""
    session.clear()
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]
    session[SESSION_SOURCE_KEY] = source_id


def _source_id() -> str:
    source_id = session.get(SESSION_SOURCE_KEY)
    if not isinstance(source_id, str):
        abort(403)
    return source_id


def _check_csrf(token: str) -> None:
    """Check a token the view read itself; the page it answers with carries the same one (a
    token lives as long as its session), where Flask-WTF would sign a new one for each page."""
    try:
        validate_csrf(token)
    except ValidationError as err:
        raise CSRFError(str(err)) from None
    g.csrf_token = token  # what generate_csrf() gives for the rest of this request


def _carried(codename: str) -> str:
    """The codename a first-session form carried, to show again; '' if it is not one.

    It travels only inside the pages' forms (a hidden field posted back over the same
    connection, pages never cached): never in the session, a cookie, the database or a log
    (I3). It is not checked against the source (that would take the KDF), so a page can only
    ever show a source what its own browser sent under its own CSRF token."""
    codename = normalize_codename(codename[:MAX_CODENAME_CHARS])
    return codename if _CODENAME_SHAPE.fullmatch(codename) else ""


def _login_context() -> dict[str, object]:
    return {"unused_days": state().instance.config.unsubmitted_source_days}


@source_pages.app_context_processor
def _every_page_context() -> dict[str, object]:
    """What every page shows: whose tip line this is and where it publishes its address, and,
    for a logged-in source, Log out."""
    config = state().instance.config
    return {
        "organisation": config.organisation_name,
        "address_published_at": config.address_published_at,
        "logged_in": isinstance(session.get(SESSION_SOURCE_KEY), str),
    }


@source_pages.get("/")
def index() -> ResponseReturnValue:
    return render_template("index.html", **_page_context())


@source_pages.post("/start")
def start() -> ResponseReturnValue:
    _ensure_open()
    cairn = state()
    codename = generate_codename()
    keys = cairn.kdf.derive(codename, cairn.instance.pepper)
    source_id = cairn.store.create_source(keys.lookup_id, str(keys.reply_identity.recipient))
    _begin_session(source_id)
    return render_template("codename.html", codename=codename)


@source_pages.post("/written")
def written() -> ResponseReturnValue:
    """On to the form, which shows the codename again while the first session lasts (issue
    19, item 10); a post that carries none goes on to the plain form."""
    _source_id()
    codename = _carried(request.form.get("codename", ""))
    if not codename:
        return redirect(url_for(".submit_form"), code=303)
    return render_template("submit.html", first_codename=codename, **_page_context())


@source_pages.get("/submit")
def submit_form() -> ResponseReturnValue:
    _source_id()
    return render_template("submit.html", **_page_context())


@source_pages.post("/submit")
def submit() -> ResponseReturnValue:
    source_id = _source_id()
    _ensure_open()
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    boundary = options.get("boundary", "").encode("latin-1", "replace")
    if mimetype != "multipart/form-data" or not boundary:
        raise BadRequest(_l("Please use the form on the page to send a message or files."))
    cairn = state()
    limits = _limits(source_id)
    try:
        receipt = receive_submission(
            request.stream.read,
            boundary,
            cairn.store,
            source_id,
            cairn.recipients,
            limits,
            _check_csrf,
            request.content_length,
        )
    except SourceGone:
        session.clear()  # the codename is gone: only a new one helps
        raise _codename_expired() from None
    except UploadGone:  # it stalled for longer than its lease (see SubmissionWriter.keep_alive)
        raise BadRequest(INTERRUPTED) from None
    except FormProblem as problem:
        codename = _carried(problem.codename)
        page = render_template(
            "submit.html", problem=problem, first_codename=codename, **_page_context()
        )
        return page, problem.code
    return received_page(_carried(receipt.codename))


def _codename_expired() -> Gone:
    """The sweep removed a codename that never sent anything (the check-back page says when)."""
    days = state().instance.config.unsubmitted_source_days
    return Gone(
        lazy_ngettext(
            "A codename that was never used to send anything is removed after %(count)s day.",
            "A codename that was never used to send anything is removed after %(count)s days.",
            days,
            count=days,
        )
    )


@source_pages.get("/login")
def login_form() -> ResponseReturnValue:
    return render_template("login.html", failed=False, **_login_context())


@source_pages.post("/login")
def login() -> ResponseReturnValue:
    cairn = state()
    codename = normalize_codename(request.form.get("codename", "")[:MAX_CODENAME_CHARS])
    # The KDF always runs, so every answer takes the same time; it refuses an empty codename.
    keys = cairn.kdf.derive(codename or "-", cairn.instance.pepper)
    source_id = cairn.store.find_source(keys.lookup_id) if codename else None
    if source_id is None:
        return render_template("login.html", failed=True, **_login_context()), 403
    _begin_session(source_id)
    replies = open_replies(cairn.couriers, source_id, keys.reply_identity)
    # Only a source that has sent something is told that replies may come (issue 19, item 12).
    submitted = cairn.store.has_submitted(source_id)
    return render_template(
        "checkback.html", replies=replies, submitted=submitted, **_page_context()
    )


@source_pages.get("/replies/<reply_id>/delete")
def confirm_delete_reply(reply_id: str) -> ResponseReturnValue:
    """Deleting cannot be undone, so a second page says what it means before it happens."""
    if reply_id not in {known for known, _day in state().couriers.replies_for(_source_id())}:
        abort(404)
    return render_template("reply_delete.html", reply_id=reply_id)


@source_pages.post("/replies/<reply_id>/delete")
def delete_reply(reply_id: str) -> ResponseReturnValue:
    """A source may delete a reply once read; the page cannot list the rest without the codename."""
    if not state().couriers.delete_reply(_source_id(), reply_id):
        abort(404)
    return render_template("reply_deleted.html")


@source_pages.post("/logout")
def logout() -> ResponseReturnValue:
    """Forget everything, the language too; only this last page keeps the source's language."""
    forget_language_after_this_page()
    session.clear()
    return render_template("logged_out.html")
