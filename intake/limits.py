"""Rate limits that never key on the client's IP address (I6).

Behind an onion service every client is 127.0.0.1, so an IP key would make one budget for all
sources. Budgets are instead: global per endpoint; per Tor circuit (when Tor passes circuit ids
through the PROXY protocol) one across all its POSTs and another across all its page views; and
per session across its POSTs. The budgets are spent before the CSRF check, so refused forgeries
still spend them. Counters live in memory for one process, or in Redis when several processes
share the load.

Threads are bounded too, per process: a circuit may hold only a few at once, and uploads
together never all of them, so stalled uploads from many circuits still leave the pages served.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from flask import Blueprint, Flask, g, request, session
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from werkzeug.exceptions import TooManyRequests

from keys.courier import KEY_HEADER
from keys.web_session import lookup_id

from .instance import Config
from .sessions import COOKIE_NAME, SESSION_SOURCE_KEY

# Tor's HiddenServiceExportCircuitID haproxy writes the circuit id into this IPv6 prefix.
TOR_CIRCUIT_PREFIX = "fc00:dead:beef:4dad:"


# How often one process's expired counters are dropped (seconds).
EXPIRY_INTERVAL = 10.0


class ProcessMemoryStorage(MemoryStorage):
    """limits' in-memory counters (``memory://``), whose expired entries one thread drops for
    the life of the process. The library's own restarts a short-lived timer thread whenever
    the last has ended: under load a thread started and stopped for every few submissions.
    """

    STORAGE_SCHEME = ["cairn-memory"]  # noqa: RUF012 -- limits types it as a list

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: str
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        # The library starts a new timer whenever its timer is not alive; this one always is.
        self.timer = _ExpiryThread(self)
        self.timer.start()

    def drop_expired(self) -> None:
        """Only fixed windows are used here, and reading a counter drops it once it is past."""
        for key in list(self.expirations):
            self.get(key)


class _ExpiryThread(threading.Timer):
    """Runs ``drop_expired`` every ``EXPIRY_INTERVAL`` seconds for as long as the storage lives
    (a weak reference, so that an app and its storage can go: tests make hundreds)."""

    def __init__(self, storage: ProcessMemoryStorage) -> None:
        super().__init__(EXPIRY_INTERVAL, lambda: None)
        self._storage = weakref.ref(storage)
        self.daemon = True

    def run(self) -> None:
        while not self.finished.wait(self.interval):
            storage = self._storage()
            if storage is None:
                return
            storage.drop_expired()
            del storage


def _storage_uri(config: Config) -> str:
    uri = config.limiter_storage_uri
    return "cairn-memory://" if uri == "memory://" else uri


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


def _on_circuit() -> bool:
    return tor_circuit() is not None


def _circuit_key() -> str:
    return f"circuit:{tor_circuit()}"


def _session_key() -> str:
    token = request.cookies.get(COOKIE_NAME, "")
    return "session:" + lookup_id(token)


def _courier_key() -> str:
    return "courier:" + hashlib.sha256(request.headers.get(KEY_HEADER, "").encode()).hexdigest()


def _upload_slots(threads: int) -> int:
    """How many uploads may be in progress at once in a process with ``threads`` threads: a
    quarter of the threads (at least one, given two) stays for everything else."""
    return max(1, threads - max(1, threads // 4))


def init_limiter(
    app: Flask,
    config: Config,
    source_pages: Blueprint,
    courier_api: Blueprint,
    threads: int | None = None,
) -> Limiter:
    """``threads``: how many threads serve this process's requests (None: not bounded here)."""
    limiter = Limiter(
        key_func=lambda: "global",
        app=app,
        storage_uri=_storage_uri(config),
        strategy="fixed-window",
        key_prefix="cairn",
    )
    limiter.limit(config.courier_limit, key_func=_courier_key)(courier_api)
    # The source pages' budgets are spent in one hook, in this order, and the first that refuses
    # stops the rest: a circuit's or a session's budget covers all its requests of a kind,
    # whichever page they go to, and one noisy circuit's refused requests must not use up the
    # global budgets and lock every other source out. A circuit's page views have a budget of
    # their own, of the same size as its POSTs': reading pages never costs a source the
    # submission it came to make. The global budgets are per page, one for its views and one for
    # its POSTs, as Flask-Limiter would keep them; its own per-request machinery cost a tenth of
    # a submission, so it is left to the courier API. (A request filter, not an exemption: an
    # exempt page's limits are still resolved on every request.)
    limiter.request_filter(lambda: request.blueprint == source_pages.name)
    circuit_limits = parse_many(config.circuit_limit)
    budgets = [
        Budget(circuit_limits, _circuit_key, "circuit", lambda: _post() and _on_circuit()),
        Budget(
            circuit_limits, _circuit_key, "circuit-pages", lambda: not _post() and _on_circuit()
        ),
        Budget(
            parse_many(config.session_limit),
            _session_key,
            "session",
            lambda: _post() and bool(session.get(SESSION_SOURCE_KEY)),
        ),
        Budget(parse_many(config.global_post_limit), lambda: "global-post", None, _post),
        Budget(parse_many(config.global_page_limit), lambda: "global", None, lambda: not _post()),
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
    uploads = None if threads is None else _upload_slots(threads)
    _limit_concurrency(app, source_pages, config.circuit_concurrency, uploads)
    return limiter


def _limit_concurrency(
    app: Flask, source_pages: Blueprint, per_circuit: int, uploads: int | None
) -> None:
    """Requests in progress in this process, bounded twice (threads are per process):

    - at most ``per_circuit`` per Tor circuit: budgets count requests as they start, and a
      circuit whose uploads stall would otherwise hold every thread while spending none;
    - at most ``uploads`` submissions: an upload may take hours at the slowest rate allowed, so
      stalled uploads from many circuits could otherwise hold every thread, and no one could
      even load a page. A submission past the bound is refused at once (429, "very busy").
    """
    circuits: Counter[str] = Counter()
    uploading = 0
    lock = threading.Lock()

    def take_slots() -> None:
        nonlocal uploading
        if request.blueprint != source_pages.name:
            return
        circuit = tor_circuit()
        upload = request.endpoint == "source.submit" and _post()
        with lock:
            if circuit is not None and circuits[circuit] >= per_circuit:
                raise TooManyRequests()
            if upload and uploads is not None and uploading >= uploads:
                raise TooManyRequests()
            if circuit is not None:
                circuits[circuit] += 1
            uploading += upload
        g.concurrency_slots = (circuit, upload)

    def give_them_back(_: BaseException | None) -> None:
        nonlocal uploading
        circuit, upload = g.pop("concurrency_slots", (None, False))
        with lock:
            if circuit is not None:
                circuits[circuit] -= 1
                if not circuits[circuit]:
                    del circuits[circuit]
            uploading -= upload

    app.before_request_funcs.setdefault(None, []).insert(0, take_slots)
    app.teardown_request(give_them_back)
