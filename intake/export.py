"""Exporting undelivered items as signed bundles (keys.bundle), in bounded memory and size.

A bundle holds the oldest items not yet acknowledged first (acknowledged ones in their grace
period only fill what room is left), up to a size bound; the rest wait for the next bundle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from keys.age import Writer
from keys.bundle import DEFAULT_MAX_BYTES, BundleItem, ItemInfo, items_within, write_bundle
from keys.signing import SigningKey, VerifyKey

from .blobs import BlobReader
from .store import Store


@dataclass(frozen=True)
class NextBundle:
    items: list[ItemInfo]
    left: int  # items not yet acknowledged that wait for a later bundle


def next_bundle(store: Store, signer: VerifyKey, max_bytes: int) -> NextBundle:
    """The items of the next bundle of at most ``max_bytes``."""
    rows = sorted(store.undelivered_items(), key=lambda row: row[0].acked_day is not None)
    infos = [
        ItemInfo(
            id=item.id,
            source=source.id,
            kind=item.kind,
            day=day.isoformat(),
            size=item.size,
            reply_recipient=source.reply_recipient,
            submission=item.submission_id,
        )
        for item, source, day in rows
    ]
    chosen = items_within(infos, max_bytes, signer)
    unacknowledged = sum(item.acked_day is None for item, _, _ in rows)
    return NextBundle(chosen, max(0, unacknowledged - len(chosen)))


def write_items(
    store: Store, signing_key: SigningKey, items: Sequence[ItemInfo], dst: Writer
) -> list[BundleItem]:
    """Write a signed bundle of ``items`` to ``dst``; returns the signed manifest's items."""
    return write_bundle(dst, signing_key, items, lambda info: BlobReader(store.sessions, info.id))


def export_bundle(
    store: Store, signing_key: SigningKey, dst: Writer, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[list[BundleItem], int]:
    """Write the next bundle to ``dst``; returns its items and how many wait for a later one."""
    bundle = next_bundle(store, signing_key.verify_key, max_bytes)
    return write_items(store, signing_key, bundle.items, dst), bundle.left
