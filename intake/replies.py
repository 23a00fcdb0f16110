"""Replies as a source reads them: opened during the check-back request with the identity derived
from the codename that request carried, and never kept (I3: nothing stored opens a reply)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

from keys import age
from keys.sealed import open_item

from .courier_store import CourierStore


@dataclass(frozen=True)
class SourceReply:
    id: str
    day: dt.date  # the day it reached this server
    text: str | None  # None: it did not open with this codename's key


def open_replies(
    couriers: CourierStore, source_id: str, identity: age.X25519Identity
) -> list[SourceReply]:
    replies = []
    for reply_id, day in couriers.replies_for(source_id):
        plaintext = io.BytesIO()
        try:
            header = open_item(couriers.reply_reader(reply_id), plaintext, [identity])
            text = (
                plaintext.getvalue().decode("utf-8", "replace") if header.kind == "reply" else None
            )
        except age.DecryptError:
            text = None
        replies.append(SourceReply(reply_id, day, text))
    return replies
