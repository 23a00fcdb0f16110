"""Rate limits that never key on the client's IP address (I6).

Behind an onion service every client is 127.0.0.1, so an IP key would make one budget for all
sources. Budgets are instead: global per endpoint, and across all POSTs per Tor circuit (when Tor
passes circuit ids through the PROXY protocol) and per session. The limiter runs before the CSRF
check, so refused forgeries still spend a budget. Counters live in memory for one process, or in
Redis when several processes share the load.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Flask, request, session
from flask_limiter import Limiter
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from keys.courier import KEY_HEADER

from .instance import Config
from .sessions import COOKIE_NAME

# Tor's HiddenServiceExportCircuitID haproxy writes the circuit id into this IPv6 prefix.
TOR_CIRCUIT_PREFIX = "fc00:dead:beef:4dad:"


def tor_circuit() -> str | None:
    """The Tor circuit of this request, if the PROXY protocol carried one; never a real IP."""
    if "PROXY_PROTOCOL" not in request.environ:
        return None
    peer = str(request.environ.get("REMOTE_ADDR", ""))
    return peer if peer.startswith(TOR_CIRCUIT_PREFIX) else None


def _circuit_key() -> str:
    return f"circuit:{tor_circuit()}"


def _session_key() -> str:
    token = request.cookies.get(COOKIE_NAME, "")
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


def _no_session() -> bool:
    return not session.get("source_id")


def _courier_key() -> str:
    return "courier:" + hashlib.sha256(request.headers.get(KEY_HEADER, "").encode()).hexdigest()


def init_limiter(
    app: Flask, config: Config, source_pages: Blueprint, courier_api: Blueprint
) -> Limiter:
    limiter = Limiter(
        key_func=lambda: "global",
        app=app,
        storage_uri=config.limiter_storage_uri,
        strategy="fixed-window",
        key_prefix="cairn",
    )
    limiter.limit(config.courier_limit, key_func=_courier_key)(courier_api)
    limiter.limit(config.global_page_limit, key_func=lambda: "global")(source_pages)
    limiter.limit(config.global_post_limit, methods=["POST"], key_func=lambda: "global-post")(
        source_pages
    )
    # A circuit's or a session's budget covers all its POSTs, whichever page they go to. It is
    # spent before the limiter's own check, and a POST it refuses stops there: the limiter hits
    # every limit, refused or not, so one noisy circuit's refused POSTs would otherwise use up
    # the global budgets and lock every other source out.
    own_budgets = [
        (parse_many(config.circuit_limit), "circuit", _circuit_key, lambda: tor_circuit() is None),
        (parse_many(config.session_limit), "session", _session_key, _no_session),
    ]

    def spend_own_budgets() -> None:
        if request.method != "POST" or request.blueprint != source_pages.name:
            return
        for budgets, scope, key_func, exempt in own_budgets:
            if exempt():
                continue
            key = key_func()
            if not all(limiter.limiter.hit(budget, "cairn", key, scope) for budget in budgets):
                raise TooManyRequests()

    app.before_request_funcs.setdefault(None, []).insert(0, spend_own_budgets)
    return limiter
