"""Benchmark Cairn's intake server under gunicorn on 127.0.0.1: follow-up submissions per second,
and one large upload's throughput and the server's memory.

    .venv/bin/python bench/intake.py [--size-mib 1024] [--seconds 10] [--count 3000] [--repeat 3]
                                     [--clients 4] [--part a|b|both] [--tmpdir DIR]
                                     [--database-url postgresql+psycopg://USER@HOST:PORT]

Each part starts ``intake serve`` (gunicorn, gthread) on a fresh instance in a temporary
directory, with light codename-KDF settings and rate limits far above what the run can reach, so
neither the KDF nor the limiter is what gets measured. Each figure is the best of ``--repeat``
rounds, a measurement and its reference alternating within each round so both see the same
machine (memory growth is the worst of the rounds, not the best).

(a) ``--clients`` processes each walk the pages as a source (start, "I have written it down", a
first message), then POST follow-up messages of 4 KiB text to /submit over a keep-alive
connection until ``--count`` requests are done or ``--seconds`` have passed. The reference is the
same server's static stylesheet, GET /static/style.css, fetched by the same clients in the same
way without a session cookie (so it does no database work). Target: submissions/reference >= 0.5.

(b) One file part of ``--size-mib`` MiB, streamed from a generator in a precomputed multipart
framing (the client never holds the body), to /submit of a logged-in source. The gunicorn worker's
RSS is sampled every 50 ms; growth is the peak over the RSS just before the upload, after a small
warm-up upload. The peak is also read from the kernel's VmHWM (reset through
/proc/PID/clear_refs before the upload), which no sampling interval can miss; the larger of the two
counts. The reference is the same body sent to a trivial WSGI app that reads it 1 MiB at a time
and discards it, served by gunicorn with exactly the options ``intake serve`` uses (this script
with ``--discard-server``): raw gunicorn. Targets: growth <= 64 MiB, throughput >= 100 MiB/s.

After each upload in (b) the stored item is read back from the database and decrypted with the
reviewer's key, and its SHA-256 compared with what was sent (then it is deleted), so a broken fast
path cannot look good: a wrong answer or a mismatch stops the run with exit status 1. Missed
targets only print MISS; the exit status is then still 0.

SQLite in the instance directory by default, on ``--tmpdir``: $TMPDIR if set, else /dev/shm, as
bench/crypto.py does, so the disk stays out of the figures. Every acknowledged submission is synced
(SQLite WAL, synchronous=FULL), so on a disk the figures are bounded by its sync latency and, for
(b), by its write bandwidth over two (WAL mode writes each page twice): pass ``--tmpdir /var/tmp``
to see that. With ``--database-url`` each part runs in a fresh database created on that PostgreSQL
server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import multiprocessing
import os
import queue
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# This file is named like the package it measures: run as a script, its own directory comes first
# on sys.path and ``import intake`` would find this file. Drop that entry before importing.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import psutil
import requests
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from intake.blobs import BlobReader
from intake.db import make_engine, migrate
from intake.instance import init_instance, load_instance
from intake.models import Submission
from intake.store import Store
from keys import age
from keys.sealed import open_item

MIB = 1024 * 1024
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
MESSAGE_BYTES = 4 * 1024
WARMUP_REQUESTS = 5
SAMPLE_INTERVAL = 0.05

# Targets (issue 3).
MIN_SUBMIT_RATIO = 0.5
MAX_UPLOAD_GROWTH_MIB = 64
MIN_UPLOAD_MIB_S = 100

# Light KDF, and limits the run cannot reach: the KDF and the limiter are not what is measured.
SETTINGS: dict[str, Any] = {
    "kdf_opslimit": 1,
    "kdf_memlimit_mib": 8,
    "global_post_limit": "1000000/minute",
    "global_page_limit": "1000000/minute",
    "circuit_limit": "1000000/minute",
    "session_limit": "1000000/minute",
    "max_stored_gib": 1_000_000.0,
    "min_free_disk_mib": 0,
}

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RECEIVED = b"Your tip was received"


class BenchError(Exception):
    """The server answered wrongly, or stored something other than what was sent."""


# Servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_until_serving(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until a worker answers: gunicorn's master listens before its workers have booted."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the server exited: {log.read_text(errors='replace')}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/static/style.css")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"nothing answers on {HOST}:{port}: {log.read_text(errors='replace')}")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        return [p.pid for p in psutil.Process(self.process.pid).children(recursive=True)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def serving(name: str, argv: list[str], workdir: Path) -> Iterator[Server]:
    port = free_port()
    server_tmp = workdir / f"tmp-{port}"
    server_tmp.mkdir()
    log = workdir / f"{name}-{port}.log"
    argv = [*argv, "--port", str(port)]
    env = {**os.environ, "TMPDIR": str(server_tmp)}
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = Server(name, port, process, log)
    try:
        wait_until_serving(port, process, log)
        yield server
    finally:
        server.stop()


def server_options(args: argparse.Namespace) -> list[str]:
    return ["--workers", str(args.workers), "--threads", str(args.threads)]


@dataclass(frozen=True)
class Instance:
    path: Path
    database_url: str
    identity: age.X25519Identity


@contextmanager
def fresh_instance(
    workdir: Path, name: str, database_url: str, **settings: Any
) -> Iterator[Instance]:
    """An initialised, migrated instance; on PostgreSQL in a database of its own, dropped after."""
    identity = age.X25519Identity.generate()
    path = workdir / name
    db_name = ""
    url = ""
    if database_url:
        db_name = f"cairn_bench_{secrets.token_hex(6)}"
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{db_name}"'))
        url = make_url(database_url).set(database=db_name).render_as_string(hide_password=False)
    try:
        init_instance(path, [str(identity.recipient)], url, **{**SETTINGS, **settings})
        instance = load_instance(path, env={})
        migrate(instance.database_url)
        yield Instance(path, instance.database_url, identity)
    finally:
        if db_name:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            admin.dispose()


def intake_argv(instance: Instance, args: argparse.Namespace) -> list[str]:
    return [
        str(VENV_BIN / "intake"),
        "serve",
        "--instance",
        str(instance.path),
        *server_options(args),
    ]


def discard_argv(instance: Instance, args: argparse.Namespace) -> list[str]:
    script = str(Path(__file__).resolve())
    argv = [sys.executable, script, "--discard-server", "--instance", str(instance.path)]
    return [*argv, *server_options(args)]


def discard_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The reference: read the whole body, 1 MiB at a time, and throw it away."""
    stream = environ["wsgi.input"]
    while stream.read(MIB):
        pass
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def discard_server(instance_path: Path, port: int, workers: int, threads: int) -> None:
    """Serve ``discard_app`` with the very gunicorn options ``intake serve`` would use for the
    instance (whose app is never loaded)."""
    from intake import serve as intake_serve

    class DiscardServer(intake_serve.IntakeServer):  # type: ignore[misc]
        def load(self) -> Any:
            return discard_app

    intake_serve.IntakeServer = DiscardServer  # type: ignore[misc]
    intake_serve.serve(instance_path, HOST, port, workers, threads)


# A source, scripted like a browser without JavaScript


def csrf_of(response: requests.Response) -> str:
    match = CSRF.search(response.text)
    if not match:
        raise BenchError(f"no CSRF token on {response.url} ({response.status_code})")
    return match.group(1)


@dataclass(frozen=True)
class Login:
    cookie: str
    csrf: str


def log_in_new_source(base_url: str, first_message: str = "A first message.") -> Login:
    """Start, 'I have written it down', and a first message: later submissions are follow-ups."""
    with requests.Session() as http:
        csrf = csrf_of(http.get(base_url + "/", timeout=60))
        csrf = csrf_of(http.post(base_url + "/start", data={"csrf_token": csrf}, timeout=60))
        response = http.post(base_url + "/written", data={"csrf_token": csrf}, timeout=60)
        csrf = csrf_of(response)
        if first_message:
            parts = {
                "csrf_token": (None, csrf),
                "website": (None, ""),
                "message": (None, first_message),
            }
            response = http.post(base_url + "/submit", files=parts, timeout=60)
            if response.status_code != 200 or RECEIVED.decode() not in response.text:
                raise BenchError(f"the first submission got {response.status_code}")
            csrf = csrf_of(response)
        return Login(http.cookies["cairn_session"], csrf)


def field_part(boundary: str, name: str, value: bytes) -> bytes:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
    return head.encode() + value + b"\r\n"


def file_head(boundary: str, file_name: str, media_type: str) -> bytes:
    return (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="files"; filename="{file_name}"\r\n'
        f"Content-Type: {media_type}\r\n\r\n"
    ).encode()


def closing(boundary: str) -> bytes:
    return f"--{boundary}--\r\n".encode()


def message_body(boundary: str, csrf: str) -> bytes:
    sentence = b"The minister signed the contract on Tuesday, two days before the tender closed. "
    message = (sentence * (MESSAGE_BYTES // len(sentence) + 1))[:MESSAGE_BYTES]
    return (
        field_part(boundary, "csrf_token", csrf.encode())
        + field_part(boundary, "website", b"")
        + field_part(boundary, "message", message)
        + closing(boundary)
    )


def new_boundary() -> str:
    return f"cairnbench{secrets.token_hex(16)}"


# Memory of the server's workers


def rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise BenchError(f"no VmHWM for process {pid}")


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far."""
    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)


class RssSampler:
    """The summed RSS of some processes, every ``SAMPLE_INTERVAL`` seconds, in a thread."""

    def __init__(self, pids: list[int]) -> None:
        self._pids = pids
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        return sum(rss(pid) for pid in self._pids)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(SAMPLE_INTERVAL)

    def __enter__(self) -> RssSampler:
        self.peak = self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.sample())


# (a) Requests per second


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    logged_in: bool


SUBMIT = Endpoint("POST /submit (4 KiB follow-up)", "POST", "/submit", logged_in=True)
STATIC = Endpoint("GET /static/style.css", "GET", "/static/style.css", logged_in=False)


@dataclass(frozen=True)
class ClientResult:
    done: int
    started: float
    finished: float
    error: str = ""


def client(
    base_url: str,
    port: int,
    endpoint: Endpoint,
    count: int,
    seconds: float,
    barrier: Any,
    results: Any,
) -> None:
    """One client process: log in if needed, warm up, then requests on one keep-alive connection."""
    try:
        headers: dict[str, str] = {}
        body = b""
        if endpoint.logged_in:
            login = log_in_new_source(base_url)
            boundary = new_boundary()
            body = message_body(boundary, login.csrf)
            headers = {
                "Cookie": f"cairn_session={login.cookie}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            }
        conn = http.client.HTTPConnection(HOST, port, timeout=60)

        def one() -> None:
            conn.request(endpoint.method, endpoint.path, body=body or None, headers=headers)
            response = conn.getresponse()
            page = response.read()
            if response.status != 200 or (endpoint.logged_in and RECEIVED not in page):
                raise BenchError(f"{endpoint.name} got {response.status}")

        for _ in range(WARMUP_REQUESTS):
            one()
    except Exception as err:
        barrier.abort()
        results.put(ClientResult(0, 0.0, 0.0, f"{type(err).__name__}: {err}"))
        return
    try:
        barrier.wait(timeout=300)
    except threading.BrokenBarrierError:
        results.put(ClientResult(0, 0.0, 0.0, "another client failed to start"))
        return
    started = time.monotonic()
    deadline = started + seconds
    done = 0
    error = ""
    try:
        while done < count and time.monotonic() < deadline:
            one()
            done += 1
    except Exception as err:
        error = f"{type(err).__name__}: {err}"
    results.put(ClientResult(done, started, time.monotonic(), error))
    conn.close()


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: float
    peak_rss: int
    worker_cpu: float  # seconds of CPU the server's worker used while the clients were timed

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return self.worker_cpu * 1000 / self.requests

    @property
    def worker_cores(self) -> float:
        return self.worker_cpu / self.seconds


def best_rate(rates: list[Rate]) -> Rate:
    """The fastest round, with the highest peak RSS of all rounds."""
    best = max(rates, key=lambda r: r.per_second)
    return Rate(best.requests, best.seconds, max(r.peak_rss for r in rates), best.worker_cpu)


def measure_rate(server: Server, endpoint: Endpoint, args: argparse.Namespace) -> Rate:
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(args.clients + 1)  # this process too, to read the CPU clock at the start
    results = ctx.Queue()
    shares = [
        args.count // args.clients + (i < args.count % args.clients) for i in range(args.clients)
    ]
    processes = [
        ctx.Process(
            target=client,
            args=(server.base_url, server.port, endpoint, share, args.seconds, barrier, results),
        )
        for share in shares
    ]
    for process in processes:  # forked before the sampler's thread starts
        process.start()
    workers = server.worker_pids()
    with RssSampler(workers) as sampler:
        # A client that fails before the start breaks the barrier; its error comes with the results.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=300)
        cpu_at_start = cpu_seconds(workers)
        try:
            collected = [results.get(timeout=args.seconds + 300) for _ in processes]
        except queue.Empty:
            raise BenchError(f"{endpoint.name}: a client died without an answer") from None
        worker_cpu = cpu_seconds(workers) - cpu_at_start
        for process in processes:
            process.join()
    errors = [r.error for r in collected if r.error]
    if errors:
        raise BenchError(f"{endpoint.name}: {errors[0]}")
    seconds = max(r.finished for r in collected) - min(r.started for r in collected)
    return Rate(sum(r.done for r in collected), seconds, sampler.peak, worker_cpu)


# (b) One large upload


@dataclass(frozen=True)
class Upload:
    seconds: float
    sampled_growth: int
    hwm_growth: int | None
    baseline: int

    def speed(self, size_mib: int) -> float:
        return size_mib / self.seconds

    @property
    def growth(self) -> int:
        return max(self.sampled_growth, self.hwm_growth or 0)


def best_upload(uploads: list[Upload]) -> Upload:
    """The fastest round's time, with the largest memory growth of all rounds."""
    worst = max(uploads, key=lambda u: u.growth)
    seconds = min(u.seconds for u in uploads)
    return Upload(seconds, worst.sampled_growth, worst.hwm_growth, worst.baseline)


@dataclass(frozen=True)
class Payload:
    """``size`` bytes of one random MiB repeated: cheap for the client, opaque to the server."""

    size: int
    block: bytes
    sha256: str

    @classmethod
    def make(cls, size: int) -> Payload:
        block = os.urandom(MIB)
        digest = hashlib.sha256()
        for piece in cls._pieces(block, size):
            digest.update(piece)
        return cls(size, block, digest.hexdigest())

    @staticmethod
    def _pieces(block: bytes, size: int) -> Iterator[bytes]:
        full, rest = divmod(size, len(block))
        for _ in range(full):
            yield block
        if rest:
            yield block[:rest]

    def body(self, boundary: str, csrf: str) -> tuple[int, Iterator[bytes]]:
        """The multipart body's length, and the body as a generator."""
        if f"--{boundary}".encode() in self.block + self.block:
            raise BenchError("the boundary occurs in the payload; run again")
        head = (
            field_part(boundary, "csrf_token", csrf.encode())
            + field_part(boundary, "website", b"")
            + file_head(boundary, "evidence.bin", "application/octet-stream")
        )
        tail = b"\r\n" + closing(boundary)

        def generate() -> Iterator[bytes]:
            yield head
            yield from self._pieces(self.block, self.size)
            yield tail

        return len(head) + self.size + len(tail), generate()


def upload(server: Server, payload: Payload, login: Login | None) -> tuple[int, bytes, float]:
    """POST the payload as one file part; returns the status, the page and the seconds taken."""
    boundary = new_boundary()
    length, body = payload.body(boundary, login.csrf if login else "")
    conn = http.client.HTTPConnection(HOST, server.port, timeout=600)
    started = time.monotonic()
    conn.putrequest("POST", "/submit", skip_accept_encoding=True)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(length))
    if login:
        conn.putheader("Cookie", f"cairn_session={login.cookie}")
    conn.endheaders()
    try:
        for piece in body:
            conn.send(piece)
    except OSError:
        pass  # the server answered early; its answer says why
    try:
        response = conn.getresponse()
        page = response.read()
    except (OSError, http.client.HTTPException) as err:
        raise BenchError(f"the upload to {server.name} failed: {err}") from None
    seconds = time.monotonic() - started
    conn.close()
    return response.status, page, seconds


def warm_up(server: Server, login: Login | None) -> None:
    """A small upload first, so code paths and buffers a first upload sets up count as baseline."""
    status, page, _ = upload(server, Payload.make(MIB), login)
    if status != 200 or (login and RECEIVED not in page):
        raise BenchError(f"the warm-up upload to {server.name} got {status}")


def measure_upload(server: Server, payload: Payload, login: Login | None) -> Upload:
    pids = server.worker_pids()
    time.sleep(0.5)
    hwm_ok = all(reset_peak(pid) for pid in pids)
    with RssSampler(pids) as sampler:
        baseline = sampler.peak
        status, page, seconds = upload(server, payload, login)
    if status != 200 or (login and RECEIVED not in page):
        raise BenchError(f"the upload to {server.name} got {status}")
    hwm_growth = sum(vm_hwm(pid) for pid in pids) - baseline if hwm_ok else None
    return Upload(seconds, sampler.peak - baseline, hwm_growth, baseline)


class HashingWriter:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)


def verify_and_delete(instance: Instance, payload: Payload) -> None:
    """The largest stored item must decrypt, with the reviewer's key, to exactly the payload;
    then its submission is deleted, so the next round does not pile up another copy."""
    engine = make_engine(instance.database_url)
    try:
        sessions = sessionmaker(engine, expire_on_commit=False)
        store = Store(sessions)
        items = [item for item, _, _ in store.undelivered_items() if item.kind == "file"]
        item = max(items, key=lambda i: i.size)
        content = HashingWriter()
        header = open_item(BlobReader(sessions, item.id), content, [instance.identity])
        if header.length != payload.size or content.digest.hexdigest() != payload.sha256:
            raise BenchError("the stored file does not decrypt to what was sent")
        with sessions.begin() as session:  # its items and chunks go with it (ON DELETE CASCADE)
            session.execute(delete(Submission).where(Submission.id == item.submission_id))
    finally:
        engine.dispose()


# Running and reporting


def progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def part_a(args: argparse.Namespace, workdir: Path) -> tuple[Rate, Rate]:
    """Best of ``--repeat`` rounds for each, the two alternating so both see the same machine."""
    submits, statics = [], []
    with (
        fresh_instance(workdir, "instance-a", args.database_url) as instance,
        serving("intake", intake_argv(instance, args), workdir) as server,
    ):
        for round_ in range(1, args.repeat + 1):
            progress(f"(a) round {round_}/{args.repeat}, {args.clients} clients: {SUBMIT.name}")
            submits.append(measure_rate(server, SUBMIT, args))
            progress(f"(a) round {round_}/{args.repeat}, {args.clients} clients: {STATIC.name}")
            statics.append(measure_rate(server, STATIC, args))
    return best_rate(submits), best_rate(statics)


def part_b(args: argparse.Namespace, workdir: Path) -> tuple[Upload, Upload]:
    """Best speed of ``--repeat`` rounds, the worst memory growth, alternating as in (a)."""
    payload = Payload.make(args.size_mib * MIB)
    limit = {"max_upload_mib": args.size_mib + 16}
    intakes, references = [], []
    with (
        fresh_instance(workdir, "instance-b", args.database_url, **limit) as instance,
        serving("intake", intake_argv(instance, args), workdir) as server,
        serving("discard", discard_argv(instance, args), workdir) as reference,
    ):
        login = log_in_new_source(server.base_url, first_message="")
        warm_up(server, login)
        warm_up(reference, None)
        for round_ in range(1, args.repeat + 1):
            progress(f"(b) round {round_}/{args.repeat}: {args.size_mib} MiB upload to intake")
            intakes.append(measure_upload(server, payload, login))
            progress(f"(b) round {round_}/{args.repeat}: checking it decrypts to what was sent")
            verify_and_delete(instance, payload)
            progress(f"(b) round {round_}/{args.repeat}: the same to gunicorn's discard app")
            references.append(measure_upload(reference, payload, None))
    return best_upload(intakes), best_upload(references)


def report_a(submit: Rate, static: Rate) -> bool:
    print(
        f"\n(a) | {'endpoint':<31} | {'requests':>8} | {'req/s':>7} | {'worker peak RSS MiB':>19} "
        f"| {'worker CPU ms/req':>17} | {'worker cores':>12} |"
    )
    print(f"    |{'-' * 33}|{'-' * 9}:|{'-' * 8}:|{'-' * 20}:|{'-' * 18}:|{'-' * 13}:|")
    for name, rate in ((SUBMIT.name, submit), (STATIC.name, static)):
        print(
            f"    | {name:<31} | {rate.requests:>8} | {rate.per_second:>7.0f} | "
            f"{rate.peak_rss / MIB:>19.1f} | {rate.cpu_ms_per_request:>17.2f} | "
            f"{rate.worker_cores:>12.2f} |"
        )
    ratio = submit.per_second / static.per_second
    verdict = "PASS" if ratio >= MIN_SUBMIT_RATIO else "MISS"
    print(f"\n  {verdict}  (a) submissions/static = {ratio:.2f} (target >= {MIN_SUBMIT_RATIO})")
    return ratio >= MIN_SUBMIT_RATIO


def report_b(intake: Upload, reference: Upload, size_mib: int) -> bool:
    def hwm(u: Upload) -> str:
        return "n/a" if u.hwm_growth is None else f"{u.hwm_growth / MIB:.1f}"

    print(
        f"\n(b) | {'server':<22} | {'MiB/s':>6} | {'RSS before MiB':>14} | "
        f"{'growth, sampled':>15} | {'growth, VmHWM':>13} |"
    )
    print(f"    |{'-' * 24}|{'-' * 7}:|{'-' * 15}:|{'-' * 16}:|{'-' * 14}:|")
    for name, u in (("intake POST /submit", intake), ("gunicorn discard app", reference)):
        print(
            f"    | {name:<22} | {u.speed(size_mib):>6.0f} | {u.baseline / MIB:>14.1f} | "
            f"{u.sampled_growth / MIB:>15.1f} | {hwm(u):>13} |"
        )
    speed, growth = intake.speed(size_mib), intake.growth / MIB
    ratio = speed / reference.speed(size_mib)
    speed_ok, growth_ok = speed >= MIN_UPLOAD_MIB_S, growth <= MAX_UPLOAD_GROWTH_MIB
    print(
        f"\n  {'PASS' if growth_ok else 'MISS'}  (b) server RSS growth = {growth:.1f} MiB "
        f"(target <= {MAX_UPLOAD_GROWTH_MIB} MiB)"
    )
    print(
        f"  {'PASS' if speed_ok else 'MISS'}  (b) upload = {speed:.0f} MiB/s "
        f"(target >= {MIN_UPLOAD_MIB_S} MiB/s)"
    )
    print(f"        (b) intake/discard app = {ratio:.2f} (no target)")
    return speed_ok and growth_ok


def default_tmpdir() -> str:
    """$TMPDIR if set, else /dev/shm (tmpfs, so disk speed stays out of it), else the default."""
    if "TMPDIR" not in os.environ and os.access("/dev/shm", os.W_OK):
        return "/dev/shm"
    return tempfile.gettempdir()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="(b) upload size (default 1024)")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="(a) at most this long per endpoint and round"
    )
    parser.add_argument(
        "--count", type=int, default=3000, help="(a) at most this many requests per endpoint, round"
    )
    parser.add_argument("--clients", type=int, default=4, help="(a) concurrent client processes")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per figure, best kept")
    parser.add_argument("--part", choices=["a", "b", "both"], default="both")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (as intake serve)")
    parser.add_argument(
        "--threads", type=int, default=16, help="gunicorn threads (as intake serve)"
    )
    parser.add_argument("--database-url", default="", help="PostgreSQL server URL; default SQLite")
    parser.add_argument("--tmpdir", default=default_tmpdir(), help="where instances go (tmpfs)")
    parser.add_argument("--discard-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--instance", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.discard_server:
        if args.port is None or args.instance is None:
            parser.error("--discard-server needs --port and --instance")
        discard_server(args.instance, args.port, args.workers, args.threads)
        return 0
    if (
        min(args.size_mib, args.count, args.clients, args.repeat, args.workers, args.threads) < 1
        or args.seconds <= 0
    ):
        parser.error("sizes, counts and times must be positive")

    if args.database_url:
        url = make_url(args.database_url)
        database = f"PostgreSQL at {url.host}:{url.port}, instances in {args.tmpdir}"
    else:
        database = f"SQLite in {args.tmpdir}"
    print(
        f"intake under gunicorn ({args.workers} worker, {args.threads} threads) on {HOST}; "
        f"{database}; best of {args.repeat}; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the start",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="cairn-bench-", dir=args.tmpdir) as tmp:
        workdir = Path(tmp)
        try:
            rates = part_a(args, workdir) if args.part in ("a", "both") else None
            uploads = part_b(args, workdir) if args.part in ("b", "both") else None
        except BenchError as err:
            print(f"FAIL  {err}", file=sys.stderr)
            return 1
    if rates:
        report_a(*rates)
    if uploads:
        report_b(*uploads, args.size_mib)
    return 0


if __name__ == "__main__":
    sys.exit(main())
