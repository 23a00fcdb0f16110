"""Storage on SQLite and on a real PostgreSQL: all durable state, ciphertext chunks included,
lives in the database; a submission is visible only once complete (I8); times are days (I5)."""

from __future__ import annotations

import datetime as dt
import io
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, func, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from intake import create_app, stamps
from intake import store as store_module
from intake.blobs import ROW_SIZE, BlobReader
from intake.db import make_engine
from intake.export import export_bundle
from intake.instance import Instance
from intake.models import Chunk, Item, Source, Submission
from intake.store import Store
from intake.submission_writer import BATCH_SIZE, SourceGone, SubmissionWriter, UploadGone
from keys import age
from keys.bundle import open_bundle
from keys.sealed import ItemHeader, ItemWriter, open_item
from tests.support.intake import CODENAME, CSRF, table_counts

MIB = 1 << 20


@pytest.fixture
def store(make_instance: Callable[..., Instance], database_url: str) -> Store:
    instance = make_instance(database_url)
    return Store(sessionmaker(make_engine(instance.database_url), expire_on_commit=False))


def _count(store: Store, model: type) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _rows(store: Store) -> tuple[int, int, int]:
    """How many submissions, items and chunks are stored."""
    return (_count(store, Submission), _count(store, Item), _count(store, Chunk))


def _seal_into(submission: SubmissionWriter, content: bytes, recipient: age.Recipient) -> str:
    item_id = submission.add_item("file")
    blob = submission.blob_writer(item_id)
    writer = ItemWriter(blob, [recipient], "file", "a.bin")
    for start in range(0, len(content), 100_000):
        writer.write(content[start : start + 100_000])
    writer.close()
    submission.finish_item(item_id, blob.close())
    return item_id


def test_i8_submission_is_invisible_until_complete(
    store: Store, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    source_id = store.create_source("a" * 64, str(reviewer[0].recipient))
    submission = store.submission_writer(source_id)
    _seal_into(submission, b"x" * (2 * ROW_SIZE + BATCH_SIZE), reviewer[0].recipient)
    submission.settle()  # (rows are written by a thread of their own)
    assert _count(store, Chunk) > 1  # rows are stored as they fill...
    assert store.undelivered_items() == []  # ...but nothing is visible yet
    submission.complete()
    assert [item.kind for item, _, _ in store.undelivered_items()] == ["file"]
    assert store.has_submitted(source_id)


def test_i8_discarded_submission_leaves_no_item_or_chunk(
    store: Store, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    source_id = store.create_source("b" * 64, str(reviewer[0].recipient))
    submission = store.submission_writer(source_id)
    _seal_into(submission, b"y" * (2 * ROW_SIZE + BATCH_SIZE), reviewer[0].recipient)
    submission.settle()
    assert _count(store, Chunk) > 1
    submission.discard()
    assert _rows(store) == (0, 0, 0)


def test_i8_a_discard_waits_for_the_rows_in_flight(
    store: Store, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    """A large upload's rows are written by a thread of their own: a discard right after the
    first batch was handed over must not leave that batch (the submission row with it) behind."""
    source_id = store.create_source("c" * 64, str(reviewer[0].recipient))
    for _ in range(5):
        writer = store.submission_writer(source_id)
        blob = writer.blob_writer(writer.add_item("file"))
        blob.write(b"z" * 2 * MIB)  # the first row stays in memory; the second is handed over
        writer.discard()
        assert _rows(store) == (0, 0, 0)


def test_i8_a_failed_completion_leaves_nothing(
    make_instance: Callable[..., Instance],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the completing transaction fails, the rows the upload already stored go at once,
    not at the sweep after its lease."""
    instance = make_instance(database_url)
    client: FlaskClient = create_app(instance).test_client()
    token = _started(client)
    write = SubmissionWriter._write

    def fail_at_completion(self: SubmissionWriter, *args: Any, complete: bool = False) -> None:
        if complete:
            raise OSError("the disk is full")
        write(self, *args)

    monkeypatch.setattr(SubmissionWriter, "_write", fail_at_completion)
    response = client.post(
        "/submit",
        data={"csrf_token": token, "files": (io.BytesIO(b"w" * 3 * MIB), "big.bin")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 500
    assert table_counts(instance, ("submissions", "items", "chunks")) == dict.fromkeys(
        ("submissions", "items", "chunks"), 0
    )


def test_i8_a_small_submission_is_one_transaction_at_completion(
    store: Store, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    """Under a row's worth, nothing (not even the submission row) is written before completion."""
    source_id = store.create_source("e" * 64, str(reviewer[0].recipient))
    writer = store.submission_writer(source_id)
    _seal_into(writer, b"a short message", reviewer[0].recipient)
    assert _rows(store) == (0, 0, 0)
    writer.complete()
    assert _rows(store) == (1, 1, 1)
    assert store.has_submitted(source_id)


def test_the_driver_written_rows_read_back_with_their_types(
    store: Store, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    """A submission goes in through the driver's cursor (intake/driver_sql.py), with SQLAlchemy's
    conversions: read back through the ORM, a day is the day, a flag a flag, a size the size and
    the bytes the bytes, on either database."""
    source_id = store.create_source("9" * 64, str(reviewer[0].recipient))
    writer = store.submission_writer(source_id)
    item_id = _seal_into(writer, b"typed", reviewer[0].recipient)
    writer.complete()
    with store.sessions() as session:
        submission = session.scalars(select(Submission)).one()
        assert (submission.source_id, submission.day) == (source_id, stamps.today())
        assert submission.complete is True and submission.lease_until is None
        item = session.get_one(Item, item_id)
        assert (item.submission_id, item.kind, item.acked_day) == (submission.id, "file", None)
        chunks = session.scalars(select(Chunk).where(Chunk.item_id == item_id)).all()
        assert [c.seq for c in chunks] == [0]
        assert item.size == len(chunks[0].data) > 0
        assert session.get_one(Source, source_id).has_submitted is True


def test_i8_an_upload_whose_source_was_purged_is_refused_and_leaves_nothing(
    store: Store, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    """The sweep purges a source that never submitted, unless an upload row holds it; a small
    upload still in memory has none, so its completion must fail cleanly, storing no orphan."""
    source_id = store.create_source("f" * 64, str(reviewer[0].recipient))
    writer = store.submission_writer(source_id)
    _seal_into(writer, b"a message", reviewer[0].recipient)
    with store.sessions.begin() as session:
        session.execute(delete(Source).where(Source.id == source_id))
    with pytest.raises(SourceGone):
        writer.complete()
    assert _rows(store) == (0, 0, 0)


def test_i8_a_swept_upload_fails_cleanly_at_its_next_row_and_leaves_nothing(
    store: Store, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    """Once the sweep has taken an upload (its lease ran out), its next row must say so, not
    trip over the foreign keys of the rows that went with it."""
    source_id = store.create_source("h" * 64, str(reviewer[0].recipient))
    writer = store.submission_writer(source_id)
    blob = writer.blob_writer(writer.add_item("file"))
    blob.write(b"x" * 3 * MIB)
    writer.settle()
    assert writer.submission_id is not None and _count(store, Chunk) > 0
    with store.sessions.begin() as session:  # what the sweep does to it
        session.execute(delete(Submission).where(Submission.id == writer.submission_id))
    with pytest.raises(UploadGone):  # at the batch after next: the next is in flight meanwhile
        blob.write(b"x" * 2 * BATCH_SIZE)
    writer.discard()
    assert _rows(store) == (0, 0, 0)


def test_i6_the_high_water_mark_counts_what_was_just_stored(
    store: Store, reviewer: tuple[age.X25519Identity, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored total is summed at most every few seconds, so it must add this process's own
    submissions at once; deletions show at the next sum."""
    source_id = store.create_source("g" * 64, str(reviewer[0].recipient))
    assert store.stored_bytes() == 0
    writer = store.submission_writer(source_id)
    _seal_into(writer, b"x" * 5000, reviewer[0].recipient)
    writer.complete()
    with store.sessions() as session:
        stored = session.scalar(select(func.sum(Item.size)))
    assert stored and store.stored_bytes() == stored  # not yet re-summed, but counted
    with store.sessions.begin() as session:
        session.execute(delete(Submission))
    assert store.stored_bytes() == stored  # until the next sum...
    later = time.monotonic() + store_module.STORED_BYTES_REFRESH_SECONDS
    monkeypatch.setattr(store_module.time, "monotonic", lambda: later)
    assert store.stored_bytes() == 0


@pytest.mark.parametrize("size", [0, 1, ROW_SIZE - 300, ROW_SIZE, 3 * ROW_SIZE + 17])
def test_blob_rows_round_trip_through_a_sealed_item(
    store: Store, reviewer: tuple[age.X25519Identity, ...], size: int
) -> None:
    """The first row is patched in place on close; every row reads back in order."""
    content = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    source_id = store.create_source("c" * 64, str(reviewer[0].recipient))
    submission = store.submission_writer(source_id)
    item_id = _seal_into(submission, content, reviewer[0].recipient)
    submission.complete()
    out = io.BytesIO()
    header = open_item(BlobReader(store.sessions, item_id), out, [reviewer[0]])
    assert (header.length, out.getvalue() == content) == (size, True)


def test_i5_stored_times_are_days_and_leases_are_cleared(
    store: Store, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    source_id = store.create_source("d" * 64, str(reviewer[0].recipient))
    writer = store.submission_writer(source_id)
    _seal_into(writer, b"m", reviewer[0].recipient)
    writer.complete()
    with store.sessions() as session:
        submission = session.get_one(Submission, writer.submission_id)
        source = session.get_one(Source, source_id)
        assert submission.lease_until is None
        assert type(submission.day) is dt.date and type(source.created_day) is dt.date
    columns = {
        table: {
            c["name"]: str(c["type"]) for c in inspect(store.sessions.kw["bind"]).get_columns(table)
        }
        for table in ("sources", "submissions", "items", "chunks")
    }
    assert not any("TIME" in kind.upper() for table in columns.values() for kind in table.values())


def test_submit_and_export_through_the_app(
    make_instance: Callable[..., Instance],
    database_url: str,
    reviewer: tuple[age.X25519Identity, ...],
) -> None:
    """The whole path on each database: pages, streaming seal, chunks, signed bundle."""
    instance = make_instance(database_url)
    client: FlaskClient = create_app(instance).test_client()
    token = _started(client)
    content = b"\x00\xff" * (2 * MIB)
    response = client.post(
        "/submit",
        data={
            "csrf_token": token,
            "message": "über die Sache",
            "files": (io.BytesIO(content), "scan.tiff", "image/tiff"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    store = Store(sessionmaker(make_engine(instance.database_url), expire_on_commit=False))
    bundle_file = io.BytesIO()
    listed, left = export_bundle(store, instance.signing_key, bundle_file)
    assert left == 0
    assert sorted(item.kind for item in listed) == ["file", "message"]
    path = instance.path / "bundle.tar"
    path.write_bytes(bundle_file.getvalue())
    opened = {}
    with open_bundle(path, instance.signing_key.verify_key) as bundle:
        for item in bundle.items:
            ciphertext, content_out = io.BytesIO(), io.BytesIO()
            bundle.copy_item(item, ciphertext)
            ciphertext.seek(0)
            header = open_item(ciphertext, content_out, [reviewer[0]])
            opened[header.kind] = (header, content_out.getvalue())
            assert item.reply_recipient.startswith("age1")
    assert opened["message"][1].decode() == "über die Sache"
    assert opened["file"][0].name == "scan.tiff"
    assert opened["file"][1] == content


def _csrf(client: FlaskClient) -> str:
    match = CSRF.search(client.get("/").get_data(as_text=True))
    assert match
    return match.group(1)


def _started(client: FlaskClient) -> str:
    """A new source, logged in: returns the CSRF token for its submission."""
    page = client.post("/start", data={"csrf_token": _csrf(client)}).get_data(as_text=True)
    assert CODENAME.search(page)
    match = CSRF.search(page)
    assert match
    return match.group(1)


# I8: a slow upload keeps its lease; one that lost it gets a clear page

LEASE = 3  # seconds, for LEASE_SECONDS (15 minutes)


class _SlowUpload(io.RawIOBase):
    """A request body as a slow Tor circuit delivers it: all but the last ``pieces`` pieces at
    once, then each of those after a ``pause``, in which ``meanwhile`` runs (another request's
    sweep). No new row is stored in the slow part: only the clock can renew the lease."""

    def __init__(
        self, body: bytes, pieces: int, pause: float, meanwhile: Callable[[], None]
    ) -> None:
        self._data = io.BytesIO(body)
        self._piece = 16 * 1024
        self._fast = len(body) - pieces * self._piece
        self._pause = pause
        self._meanwhile = meanwhile

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True  # the test client measures the body so

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._data.seek(offset, whence)

    def tell(self) -> int:
        return self._data.tell()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        position = self._data.tell()
        if position >= self._fast:
            time.sleep(self._pause)
            self._meanwhile()
        data = self._data.read(min(len(buffer), max(self._fast - position, self._piece)))
        buffer[: len(data)] = data
        return len(data)


def _slow_submission(
    instance: Instance, content: bytes, pieces: int, pause: float
) -> tuple[int, str]:
    """Send a message and ``content`` as a file, slowly, while the sweep runs in every pause."""
    app = create_app(instance)
    client = app.test_client()
    form = MultiDict(
        [
            ("csrf_token", _started(client)),
            ("message", "a slow tip"),
            ("files", FileStorage(io.BytesIO(content), "scan.bin", content_type="image/tiff")),
        ]
    )
    boundary, body = encode_multipart(form)
    days = instance.config.unsubmitted_source_days
    stream = _SlowUpload(body, pieces, pause, lambda: app.extensions["cairn"].store.sweep(days))
    response = client.post(
        "/submit",
        input_stream=stream,
        content_length=len(body),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.slow
def test_i8_a_slow_upload_renews_its_lease_and_outlives_the_sweep(
    make_instance: Callable[..., Instance],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    export_and_open: Callable[[Instance], list[tuple[ItemHeader, bytes]]],
) -> None:
    """Its last part takes twice the lease and stores no row: the lease is renewed as the
    data arrives, so the sweep run meanwhile leaves it, and it is stored whole."""
    monkeypatch.setattr(stamps, "LEASE_SECONDS", LEASE)
    instance = make_instance(database_url)
    content = secrets.token_bytes(3 * MIB)  # the fast part stores rows, so a lease is held
    status, text = _slow_submission(instance, content, pieces=24, pause=LEASE / 12)
    assert status == 200, text
    opened = {header.kind: (header, plain) for header, plain in export_and_open(instance)}
    assert opened["file"][1] == content
    assert opened["message"][1] == b"a slow tip"


@pytest.mark.slow
def test_i8_an_upload_stalled_past_its_lease_gets_a_clear_page_and_leaves_nothing(
    make_instance: Callable[..., Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Silent for longer than the whole lease, an upload is taken by the sweep: when its data
    comes again, the source is told the connection was interrupted (a 400, not a 500)."""
    monkeypatch.setattr(stamps, "LEASE_SECONDS", LEASE)
    instance = make_instance()
    status, text = _slow_submission(instance, b"z" * 3 * MIB, pieces=1, pause=LEASE + 1.5)
    assert status == 400, text
    assert "The connection was interrupted" in text
    assert table_counts(instance, ("submissions", "items", "chunks")) == dict.fromkeys(
        ("submissions", "items", "chunks"), 0
    )


def test_sqlite_is_hardened(instance: Instance) -> None:
    """WAL, secure_delete (freed pages overwritten) and foreign keys on every connection."""
    engine = make_engine(instance.database_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA secure_delete")).scalar() == 1
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL: I8
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_postgres_holds_all_state(
    postgres_url: str, make_instance: Callable[..., Instance]
) -> None:
    """With PostgreSQL nothing durable is written to the instance directory besides config."""
    instance = make_instance(postgres_url)
    assert not list(instance.path.glob("*.db*"))
    tables = set(inspect(create_engine(instance.database_url)).get_table_names())
    assert {"sources", "submissions", "items", "chunks", "web_sessions"} <= tables
    with Session(create_engine(instance.database_url)) as session:
        assert session.scalar(select(func.count()).select_from(Chunk)) == 0
