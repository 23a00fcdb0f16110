"""A submission as it arrives: its rows written in as few short transactions as bounded memory
allows, by a thread of its own, so a slow Tor upload never holds a lock (I8).

Its statements run on the driver (intake/driver_sql.py): a follow-up message is one transaction.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Engine, Insert, Table, bindparam, delete, insert, update
from sqlalchemy.engine.interfaces import DBAPICursor, Dialect

from . import stamps
from .blobs import ROW_SIZE, BlobWriter
from .driver_sql import BatchConnection, DriverStatement, integrity_error, transaction
from .models import Chunk, Item, Source, Submission
from .stamps import new_id, today

# A large upload's rows after its first go in transactions of this much: each costs round trips
# (bench/README.md: on PostgreSQL one per row held a large upload to 100 MiB/s, four 135).
BATCH_SIZE = 4 * ROW_SIZE
_SOURCES, _SUBMISSIONS, _ITEMS, _CHUNKS = (
    cast(Table, model.__table__) for model in (Source, Submission, Item, Chunk)
)


def _insert(table: Table, *columns: str) -> Insert:
    return insert(table).values({column: bindparam(column) for column in columns})


_INSERT_SUBMISSION = _insert(_SUBMISSIONS, "id", "source_id", "day", "complete", "lease_until")
_INSERT_ITEM = _insert(_ITEMS, "id", "submission_id", "kind", "size")
_INSERT_CHUNK = _insert(_CHUNKS, "item_id", "seq", "data")
_SET_ITEM_SIZE = (
    update(_ITEMS).where(_ITEMS.c.id == bindparam("item_id")).values(size=bindparam("size"))
)
_UPDATE_SUBMISSION = (
    update(_SUBMISSIONS)
    .where(_SUBMISSIONS.c.id == bindparam("submission_id"))
    .values(complete=bindparam("complete"), lease_until=bindparam("lease_until"))
)
# Not on the driver: a failed upload is rare, and through SQLAlchemy the deletion is seen, so
# SQLite's WAL is scrubbed of the rows after it (intake/db.py).
_DELETE_SUBMISSION = delete(_SUBMISSIONS).where(_SUBMISSIONS.c.id == bindparam("submission_id"))
_MARK_SUBMITTED = (
    update(_SOURCES)
    .where(_SOURCES.c.id == bindparam("source_id"), _SOURCES.c.has_submitted.is_(False))
    .values(has_submitted=bindparam("submitted"))
)


@dataclass(frozen=True)
class WriterStatements:
    """The statements above, compiled for one database (once, by the store)."""

    insert_submission: DriverStatement
    insert_item: DriverStatement
    insert_chunk: DriverStatement
    set_item_size: DriverStatement
    update_submission: DriverStatement
    mark_submitted: DriverStatement

    @classmethod
    def compile(cls, dialect: Dialect) -> WriterStatements:
        statements = {
            "insert_submission": _INSERT_SUBMISSION,
            "insert_item": _INSERT_ITEM,
            "insert_chunk": _INSERT_CHUNK,
            "set_item_size": _SET_ITEM_SIZE,
            "update_submission": _UPDATE_SUBMISSION,
            "mark_submitted": _MARK_SUBMITTED,
        }
        return cls(**{name: DriverStatement(s, dialect) for name, s in statements.items()})


class SourceGone(LookupError):
    """The source was purged by the sweep (it had never submitted) before its upload's first
    row was stored: its codename no longer exists."""


class UploadGone(LookupError):
    """The sweep removed this upload after its lease ran out: there is nothing to complete."""


@dataclass
class _Batch:
    """What waits to be written: new items, rows, and the sizes of items finished since."""

    items: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[dict[str, Any]] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    size: int = 0


class SubmissionWriter:
    """One submission as it arrives, in as few transactions as bounded memory allows.

    Items, rows and sizes wait in memory until a full row's worth (``ROW_SIZE``) is pending, and
    then go in one short transaction that also writes the submission row with its lease; later
    ones wait for ``BATCH_SIZE`` and renew the lease, as does ``keep_alive`` once a third of the
    lease has passed. Whatever is left goes with the completion. A message of a few KiB is thus
    one transaction at completion; a large file one for its first row and one per batch after
    it, in bounded memory, and its upload holds its lease (and its source, against the sweep)
    from its first row on.

    A large upload's rows are written by a thread of its own while the request thread goes on
    receiving and sealing: on PostgreSQL a row's round trips and commit took as long as all the
    rest (bench/README.md). One batch is in flight at a time, so memory stays at two batches,
    and a batch's error is raised in the request thread at the next flush or at the completion.
    """

    def __init__(
        self,
        engine: Engine,
        statements: WriterStatements,
        source_id: str,
        on_complete: Callable[[int], None],
    ) -> None:
        self._engine = engine
        self._sql = statements
        self._source_id = source_id
        self._on_complete = on_complete
        self.submission_id: str | None = None
        self._written = False  # may the submission row be in the database yet?
        self._pending = _Batch()
        self._total = 0
        self._renewed = 0.0
        self._row_thread: ThreadPoolExecutor | None = None
        self._in_flight: Future[None] | None = None
        self._batches = BatchConnection(engine)

    def add_item(self, kind: str) -> str:
        if self.submission_id is None:
            self.submission_id = new_id()
        item_id = new_id()
        self._pending.items.append(
            {"id": item_id, "submission_id": self.submission_id, "kind": kind}
        )
        return item_id

    def blob_writer(self, item_id: str) -> BlobWriter:
        def store_row(seq: int, data: bytes) -> None:
            self._pending.chunks.append({"item_id": item_id, "seq": seq, "data": data})
            self._pending.size += len(data)
            if self._pending.size >= (BATCH_SIZE if self._written else ROW_SIZE):
                self._flush()

        return BlobWriter(store_row)

    def keep_alive(self) -> None:
        """Call as data arrives: renews the lease once a third of it has passed, so an upload
        slower than a row per lease (a slow Tor circuit) is never swept while it still arrives.
        A check of the clock, and a transaction only every few minutes."""
        if self._written and time.monotonic() - self._renewed > stamps.LEASE_SECONDS / 3:
            self._flush()

    def finish_item(self, item_id: str, size: int) -> None:
        self._pending.sizes[item_id] = size
        self._total += size

    def complete(self) -> None:
        """Make the submission visible, in one transaction: after this it is acknowledged."""
        if self.submission_id is None:
            return
        try:
            self.settle()
            with transaction(self._engine) as cursor:
                self._write(cursor, *self._take(), complete=True)
                self._sql.mark_submitted.execute(
                    cursor, {"source_id": self._source_id, "submitted": True}
                )
        finally:
            self._stop()
        self._on_complete(self._total)

    def discard(self) -> None:
        with contextlib.suppress(Exception):  # the batch in flight is deleted with the rest
            self.settle()
        self._stop()
        self._pending = _Batch()
        if self._written:
            with self._engine.begin() as connection:
                connection.execute(_DELETE_SUBMISSION, {"submission_id": self.submission_id})
        self.submission_id = None
        self._written = False

    def _flush(self) -> None:
        """Hand what is pending to the row thread, once the batch before it is in."""
        batch = self._take()
        self.settle()
        if self._row_thread is None:
            self._row_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cairn-rows")
        self._in_flight = self._row_thread.submit(self._write_batch, *batch)
        self._renewed = time.monotonic()

    def _take(self) -> tuple[_Batch, bool]:
        """The pending batch, and whether it is the first (it writes the submission row)."""
        batch, self._pending = self._pending, _Batch()
        first, self._written = not self._written, True
        return batch, first

    def settle(self) -> None:
        """Until the rows handed over are written; their error, if any, is raised here."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _stop(self) -> None:
        if self._row_thread is not None:
            self._row_thread.shutdown()
            self._row_thread = None
        self._batches.close()

    def _write_batch(self, batch: _Batch, first: bool) -> None:
        with self._batches.transaction() as cursor:
            self._write(cursor, batch, first)

    def _write(
        self, cursor: DBAPICursor, batch: _Batch, first: bool, complete: bool = False
    ) -> None:
        values = {"complete": complete, "lease_until": None if complete else stamps.lease_until()}
        if first:
            self._insert_submission(cursor, values)
        else:  # first, so a swept upload stops here rather than at its rows' foreign keys
            changed = self._sql.update_submission.execute(
                cursor, {"submission_id": self.submission_id, **values}
            )
            if changed != 1:  # swept after its lease ran out: never acknowledge it
                raise UploadGone(f"submission {self.submission_id} is gone")
        for item in batch.items:  # sizes known by now go in with the item
            item["size"] = batch.sizes.pop(str(item["id"]), 0)
        if batch.items:
            self._sql.insert_item.execute_many(cursor, batch.items)
        if batch.chunks:
            self._sql.insert_chunk.execute_many(cursor, batch.chunks)
        if batch.sizes:
            sizes = [{"item_id": i, "size": size} for i, size in batch.sizes.items()]
            self._sql.set_item_size.execute_many(cursor, sizes)

    def _insert_submission(self, cursor: DBAPICursor, values: dict[str, Any]) -> None:
        """The submission row. Its source may have been purged by the sweep meanwhile (one that
        had never submitted, held no upload row yet, and whose session the sweep did not see):
        then the submission is refused."""
        row = {"id": self.submission_id, "source_id": self._source_id, "day": today()}
        try:
            self._sql.insert_submission.execute(cursor, {**row, **values})
        except integrity_error(self._engine):  # the foreign key: the source is gone
            raise SourceGone(f"source {self._source_id} is gone") from None
