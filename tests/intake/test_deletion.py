"""Deleted ciphertext leaves the instance (I1, I5): once an item is deleted (acknowledged,
discarded, swept as a dead upload, or an upload interrupted midway), no byte of it remains in
any file of the instance directory (the database, its WAL and shared memory, anything), while
the server runs."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import sessionmaker

from intake.blobs import ROW_SIZE
from intake.db import make_engine
from intake.instance import Instance
from intake.models import Chunk, Item, Submission
from intake.store import Store
from keys import age
from tests.support.intake import LiveServer

BLOCK = 32  # a 64-byte window of a ciphertext always holds a whole block at a multiple of 32


def ciphertexts(store: Store) -> dict[str, tuple[str, bytes]]:
    """Item id -> (its submission, its whole age file), as stored."""
    with store.sessions() as session:
        rows = session.execute(
            select(Item.submission_id, Chunk.item_id, Chunk.data)
            .join(Item, Item.id == Chunk.item_id)
            .order_by(Chunk.item_id, Chunk.seq)
        ).all()
    items: dict[str, tuple[str, bytes]] = {}
    for submission_id, item_id, data in rows:
        items[item_id] = (submission_id, items.get(item_id, (submission_id, b""))[1] + data)
    return items


def blocks_of(ciphertexts: Iterable[bytes]) -> set[bytes]:
    return {
        ciphertext[start : start + BLOCK]
        for ciphertext in ciphertexts
        for start in range(0, len(ciphertext) - BLOCK + 1, BLOCK)
    }


def files_holding(
    directory: Path, ciphertexts: Iterable[bytes], others: Iterable[bytes] = ()
) -> list[str]:
    """The files under ``directory`` that hold any 64-byte window of any of ``ciphertexts``
    (checked through its aligned 32-byte blocks, which every such window contains), leaving out
    blocks that ``others`` hold too (every age file begins "age-encryption.org/v1\n-> X25519 ")."""
    blocks = blocks_of(ciphertexts) - blocks_of(others)
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if any(data[i : i + BLOCK] in blocks for i in range(len(data) - BLOCK + 1)):
            found.append(path.name)
    return found


def test_i1_i5_no_byte_of_a_deleted_item_remains_in_the_instance(
    make_instance: Callable[..., Instance], start_server: Callable[..., LiveServer]
) -> None:
    instance = make_instance(unsubmitted_source_days=1)
    server = start_server(instance)
    for _ in range(4):
        source = server.source()
        source.start()
        files = [("notes.bin", secrets.token_bytes(200_000), "application/octet-stream")]
        response = source.submit("A tip that must not outlive its deletion.", files)
        assert response.status_code == 200, response.text

    store = Store(sessionmaker(make_engine(instance.database_url), expire_on_commit=False))
    stored = ciphertexts(store)
    submissions = sorted({submission for submission, _ in stored.values()})
    assert len(submissions) == 4 and len(stored) == 8
    acked, discarded, dead, kept = submissions
    assert files_holding(instance.path, [c for _, c in stored.values()]), "the scan finds nothing"

    # Acknowledged: the items go, then their emptied submission, as the courier's ack does.
    with store.sessions.begin() as session:
        session.execute(delete(Item).where(Item.submission_id == acked))
        session.execute(delete(Submission).where(Submission.id == acked))
    with store.sessions.begin() as session:  # a whole submission: its items and chunks go too
        session.execute(delete(Submission).where(Submission.id == discarded))
    with store.sessions.begin() as session:  # an upload whose lease ran out: the sweep's
        session.execute(
            update(Submission).where(Submission.id == dead).values(complete=False, lease_until=0)
        )
    store.sweep(instance.config.unsubmitted_source_days)

    deleted = [c for submission, c in stored.values() if submission != kept]
    remaining = [c for submission, c in stored.values() if submission == kept]
    assert set(ciphertexts(store)) == {i for i, (s, _) in stored.items() if s == kept}
    assert server.process.poll() is None, "the server stopped"
    assert files_holding(instance.path, deleted, others=remaining) == []
    assert files_holding(instance.path, remaining)  # what was not deleted is still there


def test_i1_i8_an_interrupted_upload_leaves_no_byte_in_the_instance(
    make_instance: Callable[..., Instance],
    start_server: Callable[..., LiveServer],
    reviewer: tuple[age.X25519Identity, ...],
) -> None:
    """An upload whose rows were already stored, then discarded (its connection broke): none of
    its bytes stay behind, in the database or its WAL, while the server runs."""
    instance = make_instance()
    server = start_server(instance)
    store = Store(sessionmaker(make_engine(instance.database_url), expire_on_commit=False))
    source_id = store.create_source("b" * 64, str(reviewer[0].recipient))
    upload = store.submission_writer(source_id)
    blob = upload.blob_writer(upload.add_item("file"))
    blob.write(secrets.token_bytes(2 * ROW_SIZE + 1000))
    upload.settle()  # (its rows are written by a thread of their own)
    written = [ciphertext for _, ciphertext in ciphertexts(store).values()]
    assert written and files_holding(instance.path, written), "the scan finds nothing"

    upload.discard()
    assert ciphertexts(store) == {}
    assert server.process.poll() is None, "the server stopped"
    assert files_holding(instance.path, written) == []
