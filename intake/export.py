"""Exporting undelivered items as a signed bundle (keys.bundle), in bounded memory."""

from __future__ import annotations

from keys.age.stream import Writer
from keys.bundle import BundleItem, ItemInfo, write_bundle
from keys.signing import SigningKey

from .blobs import BlobReader
from .store import Store


def export_bundle(store: Store, signing_key: SigningKey, dst: Writer) -> list[BundleItem]:
    """Write every complete, undelivered item to ``dst``; returns the signed manifest's items."""
    infos = [
        ItemInfo(
            id=item.id,
            source=source.id,
            kind=item.kind,
            day=day.isoformat(),
            size=item.size,
            reply_recipient=source.reply_recipient,
        )
        for item, source, day in store.undelivered_items()
    ]
    return write_bundle(dst, signing_key, infos, lambda info: BlobReader(store.sessions, info.id))
