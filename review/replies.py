"""Replies to sources: sealed into the outbox, carried out as a signed reply bundle.

A reply is a sealed item of kind "reply" encrypted to the source's reply recipient (from the
bundle's manifest) and to the reviewer's own recipient, so the reviewer can read it back. The
reply bundle is a ``keys.bundle`` of kind "replies", signed by the workspace's own Ed25519 key;
the courier issue decides how the server comes to trust that key. Replies stay in the outbox
until the courier confirms them, so writing the bundle twice loses nothing (their ids are
stable, so the server can drop repeats).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import os
import secrets
from pathlib import Path

from sqlalchemy import select

from keys import age
from keys.bundle import BundleItem, write_bundle
from keys.sealed import open_item, seal_item

from .models import Reply, Source
from .private_files import private_output
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
    seal_item(io.BytesIO(text.encode()), sealed, recipients, "reply", media_type=REPLY_MEDIA_TYPE)
    data = sealed.getvalue()
    reply = Reply(
        id=secrets.token_hex(16),
        source_id=source.id,
        day=datetime.date.today().isoformat(),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    fd = os.open(outbox_path(workspace, reply.id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    workspace.session.add(reply)
    return reply


def reply_text(workspace: Workspace, reply: Reply) -> str:
    """A reply's text, opened with the reviewer's identity."""
    content = io.BytesIO()
    with outbox_path(workspace, reply.id).open("rb") as src:
        open_item(src, content, [workspace.identity])
    return content.getvalue().decode()


def outbox(workspace: Workspace) -> list[Reply]:
    return list(workspace.session.scalars(select(Reply).order_by(Reply.day, Reply.id)))


def write_reply_bundle(workspace: Workspace, out: Path) -> list[Reply]:
    """Write every reply in the outbox into a signed reply bundle at ``out``, all or nothing."""
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
