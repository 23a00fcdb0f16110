"""I6 (and I8) under a flood: a bounded loopback load at many times the configured budgets,
against the real gunicorn server with Tor's PROXY protocol (``--proxy-protocol``).

- The server keeps answering: every refusal is the plain 429 page, and no request hangs (how
  fast it answers is a benchmark's question, not this test's).
- Its memory stays flat: the worker's RSS after the flood is within a few MiB of its RSS after
  warm-up.
- Nothing is accepted beyond the budgets: requests that got past the limiter, and stored rows,
  are counted against the global, per-circuit and per-session budgets.
- Per-circuit keying: while one circuit floods, a quiet circuit still gets through.

The load is finite (about 1,500 requests) and time-boxed; every request goes to 127.0.0.1.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from intake.instance import Instance
from intake.sessions import COOKIE_NAME
from tests.support.forms import form, part
from tests.support.intake import CSRF, LiveServer
from tests.support.raw_http import (
    CIRCUIT_1,
    CIRCUIT_2,
    LoginForm,
    RawResponse,
    assert_plain_page,
    http_request,
    proxy_line,
    raw_exchange,
)
from tests.support.robustness import table_counts, worker_processes

pytestmark = pytest.mark.slow

MIB = 1 << 20
GLOBAL_POST, GLOBAL_PAGE, CIRCUIT, SESSION = 40, 100, 5, 8
BUDGETS = {
    "global_post_limit": f"{GLOBAL_POST}/minute",
    "global_page_limit": f"{GLOBAL_PAGE}/minute",
    "circuit_limit": f"{CIRCUIT}/minute",
    "session_limit": f"{SESSION}/minute",
}
CLIENT_THREADS = 8
TIME_BOX = 50.0  # seconds for the whole flood; the test fails rather than run on
HANG_LIMIT = 30.0  # seconds: a request answered later than this counts as hung
RSS_GROWTH_LIMIT = 16 * MIB
BOUNDARY = "cairnboundary"  # tests.intake.test_bad_input's form() uses this boundary


@dataclass
class Outcome:
    kind: str
    method: str
    path: str
    circuit: str
    status: int
    seconds: float
    body: str


class Flood:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.rng = random.Random(1729)

    def random_circuit(self) -> str:
        """A fresh Tor circuit id, as each new circuit of a determined attacker would have."""
        high, low = self.rng.randrange(1, 0xFFFF), self.rng.randrange(1, 0xFFFF)
        return f"fc00:dead:beef:4dad::{high:x}:{low:x}"

    def send(self, kind: str, circuit: str, request: bytes) -> Outcome:
        assert time.monotonic() - self.started < TIME_BOX, "the flood ran past its time box"
        began = time.monotonic()
        response: RawResponse = raw_exchange(self.server.port, request, proxy_line(circuit))
        method, path = request.decode("latin-1").split(" ", 2)[:2]
        seconds = time.monotonic() - began
        outcome = Outcome(kind, method, path, circuit, response.status, seconds, response.body)
        if response.status == 429:
            assert_plain_page(
                response.status, response.headers, response.body, 429, "Very busy right now"
            )
        with self.lock:
            self.outcomes.append(outcome)
        return outcome

    def run(self, jobs: list[tuple[str, str, bytes]]) -> None:
        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            list(pool.map(lambda job: self.send(*job), jobs))

    def passed(
        self, kinds: set[str] | None = None, method: str | None = None, path: str | None = None
    ) -> list[Outcome]:
        """Requests that got past the limiter (anything but 429)."""
        return [
            o
            for o in self.outcomes
            if (kinds is None or o.kind in kinds)
            and (method is None or o.method == method)
            and (path is None or o.path == path)
            and o.status != 429
        ]


def rss(server: LiveServer) -> int:
    return sum(p.memory_info().rss for p in worker_processes(server))


def submit_request(port: int, login: LoginForm, message: str) -> bytes:
    body = form(login.csrf, part(b"website", b""), part(b"message", message.encode()))
    headers = {
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Cookie": f"{COOKIE_NAME}={login.cookie}",
    }
    return http_request("POST", "/submit", port, headers, body)


def logged_in_source(flood: Flood, port: int) -> LoginForm:
    """A source that has a codename and a session: its cookie and submission form's CSRF token."""
    login = LoginForm.fetch(flood.server.base_url)
    cookie = f"{COOKIE_NAME}={login.cookie}"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    body = f"csrf_token={login.csrf}".encode()
    started = raw_exchange(port, http_request("POST", "/start", port, headers, body))
    assert started.status == 200, started.body
    fresh = started.headers.get("Set-Cookie", "").split(";")[0].split("=", 1)[1]
    match = CSRF.search(started.body)
    assert match
    return LoginForm(fresh, match.group(1))


@pytest.mark.timeout(120)
def test_i6_i8_a_flood_gets_429_pages_in_bounded_time_memory_and_budgets(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    instance = make_instance(**BUDGETS)
    server = start_server(instance, "--proxy-protocol")
    port = server.port
    flood = Flood(server)
    login = LoginForm.fetch(server.base_url)  # no PROXY line: a client on the host itself
    source = logged_in_source(flood, port)

    # Warm-up: every kind of request and answer once, then the worker's memory as a baseline.
    for _ in range(3):
        flood.send("warm-up", flood.random_circuit(), login.request(port))
        flood.send("warm-up", flood.random_circuit(), http_request("GET", "/", port))
        flood.send("warm-up", flood.random_circuit(), submit_request(port, source, "warm-up"))
    warm_circuit = flood.random_circuit()
    for _ in range(CIRCUIT + 2):
        flood.send("warm-up", warm_circuit, login.request(port))  # the 429 page, rendered
    assert {o.status for o in flood.outcomes} == {200, 403, 429}
    baseline = rss(server)

    # 1. One circuit floods check-in attempts (60 times its budget); a quiet circuit asks three
    # times along the way and gets through each time.
    quiet: list[Outcome] = []

    def quiet_circuit() -> None:
        for _ in range(3):
            time.sleep(0.4)
            quiet.append(flood.send("quiet", CIRCUIT_2, login.request(port)))

    quiet_thread = threading.Thread(target=quiet_circuit)
    quiet_thread.start()
    flood.run([("noisy", CIRCUIT_1, login.request(port))] * 300)
    quiet_thread.join(TIME_BOX)
    assert [o.status for o in quiet] == [403, 403, 403]  # heard: a wrong codename, not "busy"
    assert len(flood.passed({"noisy"})) <= CIRCUIT

    # 2. One session floods submissions, each over a new circuit: its own budget holds.
    before = table_counts(instance)["submissions"]
    flood.run(
        [
            ("session", flood.random_circuit(), submit_request(port, source, f"flood {i}"))
            for i in range(150)
        ]
    )
    stored = table_counts(instance)["submissions"] - before
    assert stored == len(flood.passed({"session"}))
    warm_up_submissions = 3
    assert stored + warm_up_submissions <= SESSION

    # 3. Many circuits at once: check-in attempts and page loads, far past the global budgets.
    jobs = [("global-post", flood.random_circuit(), login.request(port)) for _ in range(500)]
    jobs += [("global-page", flood.random_circuit(), http_request("GET", "/", port))] * 500
    random.Random(7).shuffle(jobs)
    flood.run(jobs)
    elapsed = time.monotonic() - flood.started
    assert elapsed < 60, "the budgets below assume one fixed window of a minute"

    # Nothing beyond the budgets, which are global per endpoint: POSTs and pages that got past
    # the limiter, set-up included (two GET /login without a PROXY line, one POST /start).
    set_up = {("GET", "/login"): 2, ("POST", "/start"): 1}
    for path in ("/login", "/submit", "/start", "/"):
        posts = len(flood.passed(method="POST", path=path)) + set_up.get(("POST", path), 0)
        assert posts <= GLOBAL_POST, (path, posts)
        pages = len(flood.passed(path=path)) + sum(n for (_, p), n in set_up.items() if p == path)
        assert pages <= GLOBAL_PAGE, (path, pages)
    assert len(flood.passed({"global-post"})) >= 1  # the global budget was not used up early
    assert sum(o.status == 429 for o in flood.outcomes if o.kind == "global-page") >= 100
    statuses = {o.status for o in flood.outcomes}
    assert statuses <= {200, 403, 429}, statuses
    counts = table_counts(instance)
    assert counts["sources"] == 1
    assert counts["submissions"] <= SESSION

    # The server answered every request, none hung, and its memory stayed flat.
    latencies = sorted(o.seconds for o in flood.outcomes)
    p99 = latencies[int(len(latencies) * 0.99)]
    assert latencies[-1] < HANG_LIMIT, latencies[-5:]
    assert raw_exchange(port, http_request("GET", "/static/style.css", port)).status == 200
    growth = rss(server) - baseline
    assert growth < RSS_GROWTH_LIMIT, f"{growth / MIB:.1f} MiB"
    server.stop()
    assert "Traceback" not in server.log_path.read_text(errors="replace")
    print(
        f"{len(flood.outcomes)} requests in {elapsed:.1f} s, p50 "
        f"{statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"RSS {baseline / MIB:.1f} MiB -> {(baseline + growth) / MIB:.1f} MiB"
    )
