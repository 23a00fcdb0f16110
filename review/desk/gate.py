"""Who may use the desk: one browser on this machine, holding the session's cookie (I9).

The command prints an address carrying a one-time launch token. The first request with it gets
an HttpOnly, SameSite=Strict cookie and a redirect that drops the token from the address bar;
the token is then spent. Every other request needs that cookie, and a Host header naming the
desk's own loopback address and port, so a page on another site that rebinds its name to
127.0.0.1 is refused. Every response forbids caching (the browser writes no plaintext to its
cache) and carries a CSP that loads nothing from anywhere else.
"""

from __future__ import annotations

import hmac
import secrets
import threading

from flask import Flask, abort, redirect, request
from werkzeug.wrappers import Response

COOKIE = "desk"
LAUNCH_PATH = "/launch"
CSP = (
    "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
REFUSAL = (
    "This browser has not opened the desk's launch address, which works once. "
    "Start `review desk` again to get a new one."
)
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class Gate:
    """The launch token (spent on first use) and the session secret its cookie carries."""

    def __init__(self) -> None:
        self._launch_token: str | None = secrets.token_urlsafe(32)
        self._session = secrets.token_urlsafe(32)
        self._spend = threading.Lock()
        self.host = ""  # "127.0.0.1:PORT", set once the desk is listening

    def launch_address(self) -> str:
        """The address to open once (announced before any request can spend its token)."""
        return f"http://{self.host}{LAUNCH_PATH}?token={self._launch_token}"

    def spend(self, token: str) -> bool:
        """Whether ``token`` is the launch token; it is good once only."""
        with self._spend:
            good = self._launch_token is not None and hmac.compare_digest(
                token.encode(), self._launch_token.encode()
            )
            if good:
                self._launch_token = None
            return good

    def admits(self, cookie: str | None) -> bool:
        return cookie is not None and hmac.compare_digest(cookie.encode(), self._session.encode())

    def install(self, app: Flask) -> None:
        app.before_request(self._check)
        app.after_request(_headers)
        app.add_url_rule(LAUNCH_PATH, "launch", self._launch)

    def _check(self) -> None:
        if not self.host or request.host != self.host:
            abort(421, "The desk answers only at its own address, 127.0.0.1 and its port.")
        if request.endpoint == "launch":
            return
        if not self.admits(request.cookies.get(COOKIE)):
            abort(403, REFUSAL)
        if request.mimetype == "multipart/form-data":
            abort(415)  # no uploads: multipart bodies may be spooled to a temporary file

    def _launch(self) -> Response:
        if not self.spend(request.args.get("token", "")):
            abort(403, REFUSAL)
        response = redirect("/", 303)
        response.set_cookie(COOKIE, self._session, httponly=True, samesite="Strict", path="/")
        return response


def _headers(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response
