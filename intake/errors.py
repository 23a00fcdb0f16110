"""Plain, friendly error pages: never a traceback, never the source's fault (I8)."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, TooManyRequests

from keys.codename import KdfBusyError

TITLES = {
    400: "Something in that request did not work",
    403: "Please check in again",
    404: "There is no page here",
    405: "That did not work",
    413: "That was too large",
    429: "Very busy right now",
    503: "Temporarily closed",
    500: "Something went wrong on our side",
}
EXPLANATIONS = {
    403: "Your session has ended. Nothing you sent before was lost. Check in again with your "
    "codename to continue.",
    404: "The address may be mistyped. Go back to the start page.",
    405: "Please use the buttons on the pages rather than typing addresses.",
    429: "Many people are sending right now, so we have to slow down. Nothing was stored from "
    "this attempt. Please wait a few minutes and try again.",
    503: "This tip line is not accepting new submissions at the moment. Nothing was stored. "
    "Please try again later.",
    500: "Nothing was stored from this attempt. Please try again later.",
}


def _page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    if isinstance(error, CSRFError):
        text = (
            "This page was open too long, or it was opened in another tab. Nothing was "
            "stored. Please go back, reload the page, and try again."
        )
    elif code in EXPLANATIONS:
        text = EXPLANATIONS[code]
    else:
        text = f"{error.description} Nothing was stored from this attempt."
    title = TITLES.get(code, "That did not work")
    return render_template("error.html", title=title, text=text, code=code), code


def register_error_pages(app: Flask) -> None:
    app.register_error_handler(HTTPException, _page)
    app.register_error_handler(KdfBusyError, lambda _: _page(TooManyRequests()))
    app.register_error_handler(Exception, lambda _: _page(InternalServerError()))
