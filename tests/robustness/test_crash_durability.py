"""I8 and I7 through crashes: the real gunicorn server (master and workers) is killed with SIGKILL
while 50 uploads of mixed sizes are under way, at several points, and restarted on the same
instance each time. Afterwards:

- every submission whose success page was served is in ``intake export`` and decrypts, with the
  standard ``age`` CLI, to exactly the message, file name and file bytes that were sent (I8, I7);
- a submission is exported whole or not at all: message and file together, byte for byte;
- once the leases of the dead uploads have run out and the sweep has run, nothing else is left:
  no incomplete submission, no item outside a complete one, no orphan chunk (I8).

A submission can be committed in the instant before the kill, with its success page never
delivered: it is then exported (whole) although the source never saw the page. That is the one
outcome a crash may add, and the test allows it only for a complete, decryptable submission.

Runs on SQLite (WAL, synchronous=FULL) and on a real PostgreSQL. Traffic goes to loopback only.
"""

from __future__ import annotations

import io
import json
import random
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import distinct, func, select, update
from sqlalchemy.orm import sessionmaker

from intake.db import make_engine
from intake.instance import Instance
from intake.models import Chunk, Item, Submission
from intake.sessions import COOKIE_NAME
from intake.store import Store
from keys import age
from keys.bundle import open_bundle
from tests.support.intake import VENV_BIN, LiveServer, SourceSession
from tests.support.robustness import kill_9

pytestmark = pytest.mark.slow

UPLOADS = 50
SOURCES = 10
KIB, MIB = 1 << 10, 1 << 20
PIECE = 64 * KIB
BOUNDARY = "cairn-crash-boundary-7f3a"
SUCCESS = b"Your tip was received"
TIMEOUT = 30.0
# Threads enough for all 50 uploads at once in either process, however the two share them out:
# past three quarters of a process's threads, uploads are refused as "very busy".
SERVER_ARGS = ("--workers", "2", "--threads", "68")
# Budgets far above this test's traffic: the limiter has tests of its own.
NO_LIMITS = {
    "global_post_limit": "100000/minute",
    "global_page_limit": "100000/minute",
    "session_limit": "100000/minute",
    "circuit_limit": "100000/minute",
}
MARKER = re.compile(rb"^tip (crash-[a-z-]+-\d+-[0-9a-f]+):")


@dataclass
class Upload:
    """One source's upload: a message and a file, both named by a unique marker."""

    marker: str
    size: int
    source: SourceSession
    outcome: str = "pending"  # "acknowledged", "refused" (a 4xx or 5xx page) or "broken"
    status: int | None = None

    @property
    def message(self) -> bytes:
        return f"tip {self.marker}: the harbour contract, {self.size} bytes attached".encode()

    @property
    def file_name(self) -> str:
        return f"{self.marker}.bin"

    def file_content(self) -> bytes:
        return random.Random(self.marker).randbytes(self.size)

    def body(self) -> bytes:
        def part(name: str, content: bytes, filename: str | None = None) -> bytes:
            disposition = f'Content-Disposition: form-data; name="{name}"'
            if filename is not None:
                disposition += f'; filename="{filename}"\r\nContent-Type: application/octet-stream'
            return f"--{BOUNDARY}\r\n{disposition}\r\n\r\n".encode() + content + b"\r\n"

        return (
            part("csrf_token", self.source.csrf.encode())
            + part("website", b"")
            + part("message", self.message)
            + part("files", self.file_content(), self.file_name)
            + f"--{BOUNDARY}--\r\n".encode()
        )

    def send(self, port: int, pace: float) -> None:
        """POST the upload over a raw socket, in pieces, ``pace`` seconds apart."""
        body = self.body()
        cookie = self.source.http.cookies[COOKIE_NAME]
        head = (
            "POST /submit HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Cookie: {COOKIE_NAME}={cookie}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        answer = bytearray()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
                sock.sendall(head)
                for offset in range(0, len(body), PIECE):
                    sock.sendall(body[offset : offset + PIECE])
                    if pace:
                        time.sleep(pace)
                while chunk := sock.recv(PIECE):
                    answer += chunk
        except OSError:
            pass  # the server died under us; what arrived before that is what counts
        status_line = bytes(answer).split(b"\r\n", 1)[0].split()
        if len(status_line) >= 2 and status_line[1].isdigit():
            self.status = int(status_line[1])
        if self.status == 200 and SUCCESS in answer:
            self.outcome = "acknowledged"
        elif self.status is not None and self.status >= 400:
            self.outcome = "refused"
        else:
            self.outcome = "broken"


def mixed_sizes(rng: random.Random, count: int) -> list[int]:
    """A few KiB to a few MiB: small notes, documents, and files that span many chunk rows."""
    sizes = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.4:
            sizes.append(rng.randint(2 * KIB, 16 * KIB))
        elif kind < 0.75:
            sizes.append(rng.randint(64 * KIB, 900 * KIB))
        else:
            sizes.append(rng.randint(int(1.2 * MIB), 4 * MIB))
    return sizes


class Database:
    """What the test watches in the instance's database while the server writes to it."""

    def __init__(self, instance: Instance) -> None:
        self.engine = make_engine(instance.database_url)
        self.sessions = sessionmaker(self.engine)

    def complete(self) -> int:
        with self.engine.connect() as connection:
            query = select(func.count()).where(Submission.complete.is_(True))
            return int(connection.scalar(query) or 0)

    def incomplete_with_chunks(self) -> int:
        """Uploads interrupted mid-body would leave these: rows of a submission not yet done."""
        with self.engine.connect() as connection:
            query = (
                select(func.count(distinct(Submission.id)))
                .join(Item, Item.submission_id == Submission.id)
                .join(Chunk, Chunk.item_id == Item.id)
                .where(Submission.complete.is_(False))
            )
            return int(connection.scalar(query) or 0)

    def leftovers(self) -> dict[str, int]:
        """Anything that is not part of a complete submission."""
        with self.engine.connect() as connection:
            complete_ids = select(Submission.id).where(Submission.complete.is_(True))
            item_ids = select(Item.id)
            return {
                "incomplete submissions": connection.scalar(
                    select(func.count()).where(Submission.complete.is_(False))
                )
                or 0,
                "items outside a complete submission": connection.scalar(
                    select(func.count()).where(Item.submission_id.not_in(complete_ids))
                )
                or 0,
                "chunks without an item": connection.scalar(
                    select(func.count()).where(Chunk.item_id.not_in(item_ids))
                )
                or 0,
            }

    def expire_leases(self) -> None:
        """Time passes: every upload still marked as in progress has outlived its lease."""
        with self.sessions.begin() as session:
            session.execute(
                update(Submission)
                .where(Submission.complete.is_(False))
                .values(lease_until=int(time.time()) - 1)
            )

    def close(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class Round:
    name: str
    pace: float  # seconds between 64 KiB pieces of each upload
    when: Callable[[Database, list[Upload], int], bool]  # (db, uploads, complete before) -> kill?
    what_it_proves: Callable[[Database, list[Upload]], None]


def _acknowledged(uploads: list[Upload]) -> int:
    return sum(u.outcome == "acknowledged" for u in uploads)


def _in_flight(uploads: list[Upload]) -> int:
    return sum(u.outcome == "pending" for u in uploads)


def _killed_mid_body(db: Database, uploads: list[Upload]) -> None:
    assert db.incomplete_with_chunks() >= 2, "the kill did not catch uploads mid-body"
    assert sum(u.outcome == "broken" for u in uploads) >= 2


def _killed_at_commit(db: Database, uploads: list[Upload]) -> None:
    assert sum(u.outcome == "broken" for u in uploads) >= 5, "nothing was in flight at the kill"


def _killed_after_pages(db: Database, uploads: list[Upload]) -> None:
    assert _acknowledged(uploads) >= 15
    assert sum(u.outcome == "broken" for u in uploads) >= 5, "nothing was in flight at the kill"


ROUNDS = [
    # Slow bodies: killed once at least two uploads have sealed rows in the database.
    Round(
        "mid-body",
        0.01,
        lambda db, uploads, _: db.incomplete_with_chunks() >= 2,
        _killed_mid_body,
    ),
    # Full speed: killed the moment the database shows the fifth commit of this round, before
    # its success page can be on the wire, while other uploads stream and commit.
    Round(
        "at-commit",
        0.0,
        lambda db, uploads, before: db.complete() - before >= 5,
        _killed_at_commit,
    ),
    # Full speed: killed right after the fifteenth success page has been received.
    Round(
        "after-pages",
        0.0,
        lambda db, uploads, _: _acknowledged(uploads) >= 15,
        _killed_after_pages,
    ),
]


def run_round(
    round_: Round, server: LiveServer, sources: list[SourceSession], db: Database
) -> list[Upload]:
    rng = random.Random(f"crash-round-{round_.name}")
    uploads = [
        Upload(f"crash-{round_.name}-{i}-{rng.randbytes(6).hex()}", size, sources[i % SOURCES])
        for i, size in enumerate(mixed_sizes(rng, UPLOADS))
    ]
    before = db.complete()
    threads = [
        threading.Thread(target=u.send, args=(server.port, round_.pace), daemon=True)
        for u in uploads
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + TIMEOUT

    def now() -> bool:
        return round_.when(db, uploads, before)

    while not (now() and kill_9(server, still=now)):
        assert _in_flight(uploads), f"round {round_.name}: every upload ended before the kill"
        assert time.monotonic() < deadline, f"round {round_.name}: the kill point never came"
        time.sleep(0.002)
    for thread in threads:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "an upload hung after the server died"
    refused = [(u.marker, u.status) for u in uploads if u.outcome == "refused"]
    assert not refused, f"uploads refused before the crash: {refused}"
    round_.what_it_proves(db, uploads)
    return uploads


def export_with_age_cli(
    instance: Instance, identity: age.X25519Identity, work: Path
) -> tuple[dict[str, bytes], dict[str, bytes], int]:
    """``intake export``, then every item decrypted by the ``age`` CLI; returns the messages by
    marker, the files by name, and the number of items."""
    bundle_path = work / "bundle.tar"
    subprocess.run(
        [VENV_BIN / "intake", "export", "--instance", instance.path, "--out", bundle_path],
        check=True,
        capture_output=True,
        timeout=120,
    )
    key_file = work / "reviewer.key"
    key_file.write_text(f"{identity}\n")
    messages: dict[str, bytes] = {}
    files: dict[str, bytes] = {}
    with open_bundle(bundle_path, instance.signing_key.verify_key) as bundle:
        for item in bundle.items:
            ciphertext = io.BytesIO()
            bundle.copy_item(item, ciphertext)  # checks the SHA-256 the signed manifest lists
            decrypted = subprocess.run(
                ["age", "--decrypt", "--identity", str(key_file)],
                input=ciphertext.getvalue(),
                capture_output=True,
                check=True,
                timeout=60,
            ).stdout
            line, _, rest = decrypted.partition(b"\n")
            header = json.loads(line)
            content, padding = rest[: header["length"]], rest[header["length"] :]
            assert len(content) == header["length"]
            assert padding.count(0) == len(padding)
            assert header["kind"] == item.kind
            if item.kind == "message":
                match = MARKER.match(content)
                assert match, content[:200]
                messages[match[1].decode()] = content
            else:
                files[header["name"]] = content
        count = len(bundle.items)
    return messages, files, count


@pytest.mark.timeout(300)
def test_i8_i7_acknowledged_uploads_survive_kill_9_and_the_rest_leave_nothing(
    database_url: str,
    make_instance: Callable[..., Instance],
    start_server: Callable[..., LiveServer],
    reviewer: tuple[age.X25519Identity, Path, Path],
    tmp_path: Path,
) -> None:
    instance = make_instance(database_url, **NO_LIMITS)
    db = Database(instance)
    try:
        server = start_server(instance, *SERVER_ARGS)
        sources = [server.source() for _ in range(SOURCES)]
        for source in sources:
            source.start()
        uploads: list[Upload] = []
        for round_ in ROUNDS:
            uploads += run_round(round_, server, sources, db)
            server = start_server(instance, *SERVER_ARGS)  # the same instance, after the crash

        # The restarted server works: the same sources send again, and are acknowledged.
        after = Upload("crash-after-restart-0-000000000000", 300 * KIB, sources[0])
        after.send(server.port, 0.0)
        assert after.outcome == "acknowledged", after.status
        uploads.append(after)
        server.stop()
        log = "".join(p.read_text(errors="replace") for p in tmp_path.glob("server-*.log"))
        assert "Traceback" not in log

        # Dead uploads are still leased: time passes, and the sweep removes them.
        assert db.leftovers()["incomplete submissions"] > 0
        db.expire_leases()
        Store(db.sessions).sweep(instance.config.unsubmitted_source_days)
        assert db.leftovers() == {
            "incomplete submissions": 0,
            "items outside a complete submission": 0,
            "chunks without an item": 0,
        }
        complete = db.complete()
    finally:
        db.close()

    messages, files, item_count = export_with_age_cli(instance, reviewer[0], tmp_path)
    by_marker = {u.marker: u for u in uploads}
    acknowledged = [u for u in uploads if u.outcome == "acknowledged"]
    # Every acknowledged submission is there, and decrypts to exactly what was sent.
    for upload in acknowledged:
        assert messages.get(upload.marker) == upload.message, upload.marker
        assert files.get(upload.file_name) == upload.file_content(), upload.marker
    # Whatever is there is a whole submission of this test, byte for byte; nothing else is.
    assert set(messages) <= set(by_marker)
    assert set(files) == {by_marker[m].file_name for m in messages}
    for marker in messages:
        assert messages[marker] == by_marker[marker].message
        assert files[by_marker[marker].file_name] == by_marker[marker].file_content()
    assert item_count == 2 * len(messages) == 2 * complete
    committed_unseen = len(messages) - len(acknowledged)
    assert committed_unseen >= 0
    print(
        f"{len(uploads)} uploads: {len(acknowledged)} acknowledged and exported, "
        f"{committed_unseen} committed as the server died (exported whole, page never seen), "
        f"{len(uploads) - len(messages)} interrupted and swept without a trace"
    )
