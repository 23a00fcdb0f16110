"""Rate limits that never key on the client's IP address (I6).

Behind an onion service every client is 127.0.0.1, so an IP key would make one budget for all
sources. Budgets are instead: global per endpoint, and across all POSTs per Tor circuit (when Tor
passes circuit ids through the PROXY protocol) and per session. The budgets are spent before the
CSRF check, so refused forgeries still spend them. Counters live in memory for one process, or in
Redis when several processes share the load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import NamedTuple

from flask import Blueprint, Flask, request, session
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
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


class Budget(NamedTuple):
    """One budget of the source pages: ``limits`` per ``key()``, for the requests it ``applies``
    to, shared by every page under ``scope``, or per page when the scope is None."""

    limits: list[RateLimitItem]
    key: Callable[[], str]
    scope: str | None
    applies: Callable[[], bool]


def _post() -> bool:
    return request.method == "POST"


def _circuit_key() -> str:
    return f"circuit:{tor_circuit()}"


def _session_key() -> str:
    token = request.cookies.get(COOKIE_NAME, "")
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


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
    # The source pages' budgets are spent in one hook, in this order, and the first that refuses
    # stops the rest: a circuit's or a session's budget covers all its POSTs, whichever page they
    # go to, and one noisy circuit's refused POSTs must not use up the global budgets and lock
    # every other source out. The global budgets are per page, as Flask-Limiter would keep them;
    # its own per-request machinery cost a tenth of a submission, so it is left to the courier API.
    limiter.exempt(source_pages)
    budgets = [
        Budget(
            parse_many(config.circuit_limit),
            _circuit_key,
            "circuit",
            lambda: _post() and tor_circuit() is not None,
        ),
        Budget(
            parse_many(config.session_limit),
            _session_key,
            "session",
            lambda: _post() and bool(session.get("source_id")),
        ),
        Budget(parse_many(config.global_post_limit), lambda: "global-post", None, _post),
        Budget(parse_many(config.global_page_limit), lambda: "global", None, lambda: True),
    ]

    def spend_source_budgets() -> None:
        if request.blueprint != source_pages.name:
            return
        for budget in budgets:
            if budget.applies():
                key, scope = budget.key(), budget.scope or str(request.endpoint)
                if not all(limiter.limiter.hit(i, "cairn", key, scope) for i in budget.limits):
                    raise TooManyRequests()

    app.before_request_funcs.setdefault(None, []).insert(0, spend_source_budgets)
    return limiter
