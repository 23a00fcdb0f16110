"""Replies to sources: sealing them into the outbox, writing the reply bundle, and reading
the server's delivery confirmation that empties the outbox of what it delivered."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from keys import courier_api as wire

from ..replies import (
    check_can_reply,
    mark_delivered,
    outbox,
    reply_text,
    seal_reply,
    write_reply_bundle,
)
from ..workspace import Workspace, WorkspaceError


@dataclass(frozen=True)
class SealedReply:
    id: str
    source: str  # pseudonym


@dataclass(frozen=True)
class OutboxReply:
    id: str
    source: str  # pseudonym
    day: str
    text: str


@dataclass(frozen=True)
class DeliveredReply:
    id: str
    source: str  # pseudonym
    day: str  # written
    delivered: str  # the day its confirmation was read


@dataclass(frozen=True)
class Confirmed:
    delivered: tuple[str, ...]  # the reply ids newly marked delivered
    waiting: int  # replies still in the outbox


@dataclass(frozen=True)
class ReplyBundle:
    path: Path
    replies: tuple[str, ...]  # their ids
    signed_by: str  # the workspace's verify key, which the server's operator must accept


class Replies:
    workspace: Workspace

    def check_can_reply(self, source: str) -> str:
        """Refuse a source a reply cannot reach, before the reviewer writes it; its pseudonym."""
        found = self.workspace.source(source)
        check_can_reply(found)
        return found.pseudonym

    def reply(self, source: str, text: str) -> SealedReply:
        """Seal ``text`` into the outbox for ``source``."""
        found = self.workspace.source(source)
        return SealedReply(seal_reply(self.workspace, found, text).id, found.pseudonym)

    def outbox(self) -> list[OutboxReply]:
        """The replies waiting for the courier, with their text, oldest first."""
        return [
            OutboxReply(
                reply.id, reply.source.pseudonym, reply.day, reply_text(self.workspace, reply)
            )
            for reply in outbox(self.workspace)
        ]

    def write_reply_bundle(self, out: Path) -> ReplyBundle:
        """Write the whole outbox into a signed reply bundle at ``out``; replies stay in it."""
        written = write_reply_bundle(self.workspace, out)
        key = str(self.workspace.signing_key.verify_key)
        return ReplyBundle(out, tuple(reply.id for reply in written), key)

    def delivered_replies(self) -> list[DeliveredReply]:
        """The replies the server confirmed it received, oldest first; their text has left."""
        return [
            DeliveredReply(reply.id, reply.source.pseudonym, reply.day, reply.delivery.day)
            for reply in outbox(self.workspace, delivered=True)
            if reply.delivery is not None
        ]

    def confirm_delivery(self, confirmation: Path) -> Confirmed:
        """Read a delivery confirmation from ``review push``: the replies it names, signed by the
        pinned server key, leave the outbox."""
        server = self.workspace.server_key()
        try:
            replies = wire.parse_delivery(confirmation.read_bytes(), server)
        except OSError as err:
            raise WorkspaceError(f"cannot read {confirmation}: {err.strerror or err}") from None
        except wire.CourierFormatError as err:
            raise WorkspaceError(f"{confirmation}: {err}; no reply was marked") from None
        marked = mark_delivered(self.workspace, replies)
        return Confirmed(tuple(reply.id for reply in marked), len(outbox(self.workspace)))
