"""Plain, friendly error pages: never a traceback, never the source's fault (I8).

Every title and explanation is translated; a description is shown only when it is one of ours
(a lazily translated message from intake/), otherwise the page explains the status in general.
A body that gunicorn finds malformed only once the app reads it (a bad chunk size, a chunk
without its CRLF) is the request's fault too: a 400, never the 500 (I8).
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf.csrf import CSRFError
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, TooManyRequests

from keys.codename import KdfBusyError

TITLES = {
    400: _l("Something in that request did not work"),
    403: _l("Please check in again"),
    404: _l("There is no page here"),
    405: _l("That did not work"),
    413: _l("That was too large"),
    429: _l("Very busy right now"),
    503: _l("Temporarily closed"),
    500: _l("Something went wrong on our side"),
}
DEFAULT_TITLE = _l("That did not work")
EXPLANATIONS = {
    403: _l(
        "Your session has ended, perhaps because the page was open for a long time. Nothing "
        "you sent before was lost. Check in again with your codename to continue."
    ),
    404: _l("This address does not lead to any page. You can start again from the start page."),
    405: _l(
        "This page can only be reached with the buttons on the site. You can start again "
        "from the start page."
    ),
    429: _l(
        "Many people are sending right now, so we have to slow down. Nothing was stored from "
        "this attempt. Please wait a few minutes and try again."
    ),
    503: _l(
        "This tip line is not accepting new submissions at the moment. Nothing was stored. "
        "Please try again later."
    ),
    500: _l("Nothing was stored from this attempt. Please try again later."),
}
# When a description is not one of ours (Werkzeug's own are in English and technical).
GENERAL = {
    400: _l(
        "What was sent could not be read, perhaps because the connection was interrupted. "
        "Please go back and try again."
    ),
    413: _l("That was more than this page can accept."),
}
CSRF_EXPIRED = _l(
    "This page was open too long, or it was opened in another tab. Nothing was stored. "
    "Please go back, reload the page, and try again."
)


def _page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    if isinstance(error, CSRFError):
        text = str(CSRF_EXPIRED)
    elif code in EXPLANATIONS:
        text = str(EXPLANATIONS[code])
    else:
        ours = isinstance(error.description, LazyString)
        problem = error.description if ours else GENERAL.get(code, DEFAULT_TITLE)
        text = _("%(problem)s Nothing was stored from this attempt.", problem=str(problem))
    title = str(TITLES.get(code, DEFAULT_TITLE))
    return render_template("error.html", title=title, text=text, code=code), code


def register_error_pages(app: Flask) -> None:
    app.register_error_handler(HTTPException, _page)
    app.register_error_handler(KdfBusyError, lambda _: _page(TooManyRequests()))
    # gunicorn's own word for a body it finds malformed as the app reads it: a bad request,
    # answered as one wherever it was read (the courier API answers in JSON).
    app.register_error_handler(ParseException, lambda _: app.handle_http_exception(BadRequest()))
    app.register_error_handler(Exception, lambda _: _page(InternalServerError()))
