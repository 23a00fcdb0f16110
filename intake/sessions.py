"""Server-side sessions: the cookie holds only a random token; the data stays in the database.

Only a hash of the token is stored, so a copy of the database cannot be used to ride a session.
A session holds the CSRF token and, once a source is in, its opaque source id — never the
codename (I3).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from .store import Store

COOKIE_NAME = "cairn_session"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, data: dict[str, Any] | None = None, token: str | None = None) -> None:
        def on_update(_: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.token = token
        self.modified = False


class DatabaseSessionInterface(SessionInterface):
    def __init__(self, store: Store, lifetime_seconds: int, secure: bool) -> None:
        self.store = store
        self.lifetime = lifetime_seconds
        self.secure = secure

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(COOKIE_NAME)
        if token and len(token) <= 64:
            data = self.store.load_web_session(_token_hash(token))
            if data is not None:
                return ServerSession(json.loads(data), token)
        return ServerSession()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession):
            raise TypeError("DatabaseSessionInterface saves only its own sessions")
        if not session:
            if session.token:
                self.store.delete_web_session(_token_hash(session.token))
                response.delete_cookie(COOKIE_NAME, path="/")
            return
        if not session.modified and session.token:
            return
        if session.token is None:
            session.token = secrets.token_urlsafe(32)
        data = json.dumps(dict(session))
        self.store.save_web_session(_token_hash(session.token), data, self.lifetime)
        response.set_cookie(
            COOKIE_NAME,
            session.token,
            max_age=self.lifetime,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.secure,
        )

    def regenerate(self, session: ServerSession) -> None:
        """Forget the old token (call on log-in and log-out), so a session id is never reused."""
        if session.token:
            self.store.delete_web_session(_token_hash(session.token))
        session.token = None
        session.modified = True
