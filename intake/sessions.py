"""Server-side sessions: the cookie holds only a random token; the data stays in the database.

Only a hash of the token is stored, so a copy of the database cannot be used to ride a session,
and the session's data (its CSRF token and exact expiry) is sealed under the token
(keys.web_session). In the clear the row keeps the source it is logged in as, so a login ends
the source's other sessions and the sweep keeps a logged-in source, and the day it ends: a
seized database shows neither when a source logged in nor how often (I5). Never the codename
(I3), nor anything the source chose: the language has a cookie of its own (intake/i18n.py).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from keys.web_session import lookup_id, open_session_data, seal_session_data

from .store import Store, StoredSession

COOKIE_NAME = "cairn_session"
# The key of a session that holds the source it is logged in as (stored as a column).
SESSION_SOURCE_KEY = "source_id"
# The key of the sealed data that holds the session's exact end (seconds since the epoch).
_EXPIRES_KEY = "expires"


class ServerSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, data: dict[str, Any] | None = None, token: str | None = None) -> None:
        def on_update(_: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.token = token
        self.modified = False


class DatabaseSessionInterface(SessionInterface):
    def __init__(self, store: Store, lifetime_seconds: int) -> None:
        self.store = store
        self.lifetime = lifetime_seconds

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(COOKIE_NAME)
        if token and len(token) <= 64:
            data = self._open(token)
            if data is not None:
                return ServerSession(data, token)
        return ServerSession()

    def _open(self, token: str) -> dict[str, Any] | None:
        """The session's data, if it exists and its exact end has not come."""
        stored = self.store.load_web_session(lookup_id(token))
        if stored is None:
            return None
        plain = open_session_data(token, stored.sealed)
        if plain is None:
            return None
        data = json.loads(plain)
        if not isinstance(data, dict) or data.pop(_EXPIRES_KEY, 0) <= time.time():
            return None
        if stored.source_id is not None:
            data[SESSION_SOURCE_KEY] = stored.source_id
        return data

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession):
            raise TypeError("DatabaseSessionInterface saves only its own sessions")
        if not session:
            if session.token:
                self.store.delete_web_session(lookup_id(session.token))
                response.delete_cookie(COOKIE_NAME, path="/")
            return
        if not session.modified and session.token:
            return
        if session.token is None:
            session.token = secrets.token_urlsafe(32)
        data = dict(session)
        source_id = data.pop(SESSION_SOURCE_KEY, None)
        expires = int(time.time()) + self.lifetime
        data[_EXPIRES_KEY] = expires
        sealed = seal_session_data(session.token, json.dumps(data).encode())
        expires_day = dt.datetime.fromtimestamp(expires, dt.UTC).date()
        self.store.save_web_session(
            lookup_id(session.token), StoredSession(source_id, sealed), expires_day
        )
        response.set_cookie(
            COOKIE_NAME,
            session.token,
            max_age=self.lifetime,
            path="/",
            httponly=True,
            samesite="Strict",
            secure=self.get_cookie_secure(app),
        )

    def regenerate(self, session: ServerSession) -> None:
        """Forget the old token (call on log-in and log-out), so a session id is never reused."""
        if session.token:
            self.store.delete_web_session(lookup_id(session.token))
        session.token = None
        session.modified = True
