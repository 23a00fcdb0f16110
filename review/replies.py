"""Replies to sources: sealed into the outbox, carried out as a signed reply bundle.

A reply is a sealed item of kind "reply" encrypted to the source's reply recipient (from the
bundle's manifest) and to the reviewer's own recipient, so the reviewer can read it back. The
reply bundle is a ``keys.bundle`` of kind "replies", signed by the workspace's own Ed25519 key;
the server's operator accepts that key (`intake reviewers add`). Replies stay in the outbox
until the server's signed delivery confirmation, carried back by the courier, names them, so
writing the bundle twice loses nothing (their ids are stable, so the server drops repeats).
A delivered reply keeps its row; its sealed file leaves the outbox.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import secrets
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select

from keys import age
from keys.bundle import BundleItem, write_bundle
from keys.private_files import open_new, private_output
from keys.sealed import ItemWriter, open_item

from .models import Delivery, Reply, Source
from .workspace import Workspace, WorkspaceError

REPLY_MEDIA_TYPE = "text/plain; charset=utf-8"


def outbox_path(workspace: Workspace, reply_id: str) -> Path:
    return workspace.outbox_dir / f"{reply_id}.age"


def check_can_reply(source: Source) -> None:
    """Refuse a reply that could not reach ``source``, before the reviewer writes it."""
    if not source.reply_recipient:
        raise WorkspaceError(
            f"the server gave no reply recipient for {source.pseudonym}, so a reply cannot reach "
            "them; import a newer bundle with a tip from them"
        )


def seal_reply(workspace: Workspace, source: Source, text: str) -> Reply:
    """Seal ``text`` into the outbox for ``source``."""
    check_can_reply(source)
    recipients = [age.parse_recipient(source.reply_recipient), workspace.identity.recipient]
    sealed = io.BytesIO()
    ItemWriter(sealed, recipients, "reply", media_type=REPLY_MEDIA_TYPE).seal_all(
        io.BytesIO(text.encode())
    )
    data = sealed.getvalue()
    reply = Reply(
        id=secrets.token_hex(16),
        source_id=source.id,
        day=datetime.date.today().isoformat(),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    with open_new(outbox_path(workspace, reply.id)) as out:
        out.write(data)
    workspace.session.add(reply)
    return reply


def reply_text(workspace: Workspace, reply: Reply) -> str:
    """A reply's text, opened with the reviewer's identity."""
    content = io.BytesIO()
    with outbox_path(workspace, reply.id).open("rb") as src:
        open_item(src, content, [workspace.identity])
    return content.getvalue().decode()


def outbox(workspace: Workspace, *, delivered: bool = False) -> list[Reply]:
    """The replies waiting for the courier (or, with ``delivered``, those delivered)."""
    is_delivered = Reply.delivery.has() if delivered else ~Reply.delivery.has()
    query = select(Reply).where(is_delivered).order_by(Reply.day, Reply.id)
    return list(workspace.session.scalars(query))


def mark_delivered(workspace: Workspace, reply_ids: Iterable[str]) -> list[Reply]:
    """Mark the waiting replies among ``reply_ids`` delivered and remove their sealed files;
    the replies newly marked."""
    ids = set(reply_ids)
    marked = [reply for reply in outbox(workspace) if reply.id in ids]
    today = datetime.date.today().isoformat()
    for reply in marked:
        workspace.session.add(Delivery(reply_id=reply.id, day=today))
    workspace.session.commit()  # first: a reply must never be waiting without its file
    for reply in marked:
        outbox_path(workspace, reply.id).unlink(missing_ok=True)
    return marked


def write_reply_bundle(workspace: Workspace, out: Path) -> list[Reply]:
    """Write every waiting reply into a signed reply bundle at ``out``, all or nothing."""
    replies = outbox(workspace)
    if not replies:
        raise WorkspaceError("the outbox is empty; write a reply with `review reply SOURCE`")
    items = [
        BundleItem(
            id=reply.id,
            source=reply.source_id,
            kind="reply",
            day=reply.day,
            size=reply.size,
            sha256=reply.sha256,
            reply_recipient=reply.source.reply_recipient,
        )
        for reply in replies
    ]
    with private_output(out) as dst, contextlib.ExitStack() as files:
        write_bundle(
            dst,
            workspace.signing_key,
            items,
            lambda item: files.enter_context(outbox_path(workspace, item.id).open("rb")),
            kind="replies",
        )
    return replies
