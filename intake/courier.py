"""The courier API (/courier/v1/): fetch a bundle, acknowledge items, push replies.

Every request is signed by a registered courier key over method, path, timestamp and body hash
(keys.courier); a signature is accepted once. A reply bundle must also be signed by a review
workspace's key that the operator accepted: a courier carries replies, it cannot write them.
Deployments expose this blueprint only on the client-authorized courier onion service (see
docs/operators.md). Answers are JSON.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import threading
import time
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    RequestEntityTooLarge,
    Unauthorized,
)

from keys import courier as signed
from keys.age.header import VERSION_LINE as AGE_VERSION_LINE
from keys.bundle import BundleError, UnknownSignerError, receive_bundle

from . import state
from .blobs import BlobWriter
from .courier_store import CourierError
from .export import export_bundle
from .models import ReviewerKey

MIB = 1 << 20
MAX_ACK_BYTES = MIB
_QUEUE_BLOCK = 256 * 1024

courier_api = Blueprint("courier", __name__, url_prefix="/courier/v1")


@courier_api.before_request
def _authenticate() -> None:
    headers = {name: request.headers.get(name, "") for name in signed.HEADERS}
    now = int(time.time())
    couriers = state().couriers
    try:
        verified = signed.verify_request(
            headers, request.method, request.path, now, couriers.known_keys()
        )
    except signed.CourierAuthError as err:
        raise Unauthorized(str(err)) from None
    digest = hashlib.sha256(verified.signature).hexdigest()
    if not couriers.remember_signature(digest, now + 2 * signed.WINDOW_SECONDS + 60):
        raise Unauthorized("this request was already used; sign each request anew")
    g.courier = verified


@courier_api.errorhandler(HTTPException)
def _json_error(error: HTTPException) -> ResponseReturnValue:
    return jsonify(error=error.description), error.code or 500


class _HashingBody:
    """The request body, hashed as it is read, so it can be checked against the signed hash."""

    def __init__(self, limit: int) -> None:
        self._stream = request.stream
        self._left = limit
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._left -= len(data)
        if self._left < 0:
            raise RequestEntityTooLarge("the body is larger than this server accepts")
        self.digest.update(data)
        return data

    def check(self) -> None:
        while self.read(64 * 1024):
            pass
        if self.digest.hexdigest() != g.courier.body_sha256:
            raise Unauthorized("the body does not match the signed hash")


@courier_api.get("/bundle")
def fetch() -> ResponseReturnValue:
    """A signed bundle of every undelivered item, streamed in bounded memory."""
    if g.courier.body_sha256 != signed.EMPTY_BODY_SHA256:
        raise BadRequest("a fetch has no body")
    cairn = state()
    return Response(
        _stream(lambda out: export_bundle(cairn.store, cairn.instance.signing_key, out)),
        mimetype="application/x-tar",
        headers={"Content-Disposition": "attachment; filename=bundle.tar"},
    )


@courier_api.post("/ack")
def acknowledge() -> ResponseReturnValue:
    """Items the reviewers imported and verified; they are deleted after the grace period."""
    if (request.content_length or 0) > MAX_ACK_BYTES:
        raise RequestEntityTooLarge("the ack is too large")
    body = _HashingBody(MAX_ACK_BYTES)
    raw = body.read()
    body.check()
    try:
        ack = json.loads(raw)
        items = ack["items"]
        if ack.get("format") != "cairn-ack" or not all(isinstance(i, str) for i in items):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise BadRequest("the ack is not a Cairn ack file") from None
    cairn = state()
    deleted = cairn.couriers.acknowledge(items, cairn.instance.config.ack_grace_days)
    return jsonify(acknowledged=deleted)


@courier_api.post("/replies")
def push_replies() -> ResponseReturnValue:
    """A reply bundle, stored as it streams and made visible only when all of it checks out."""
    cairn = state()
    limit = cairn.instance.config.max_reply_bundle_mib * MIB
    if (request.content_length or 0) > limit:
        raise RequestEntityTooLarge("the reply bundle is larger than this server accepts")
    body = _HashingBody(limit)
    started: list[str] = []
    stored: list[str] = []

    def store_reply(reply_id: str) -> _Sink:
        writer = cairn.couriers.begin_reply(reply_id)
        if writer is None:
            return _Sink(None, lambda: None)
        started.append(reply_id)
        return _Sink(writer, lambda: stored.append(reply_id))

    try:
        signers = cairn.couriers.known_keys(ReviewerKey)
        received = receive_bundle(body, store_reply, kind="replies", signers=signers)
        body.check()
        cairn.couriers.complete_replies(received.items, stored)
    except UnknownSignerError as err:
        cairn.couriers.discard_replies(started)
        raise Forbidden(
            f"the reply bundle is signed by {err.signer}, which this server does not accept; "
            f"its operator accepts a reviewer's key with `intake reviewers add {err.signer} "
            "--name NAME`"
        ) from None
    except (BundleError, CourierError) as err:
        cairn.couriers.discard_replies(started)
        raise BadRequest(str(err)) from None
    except BaseException:
        cairn.couriers.discard_replies(started)
        raise
    return jsonify(stored=len(stored), already_stored=len(received.items) - len(stored))


class _Sink:
    """A received reply: into its blob, or nowhere when it was stored by an earlier push. It must
    at least look like an age file (I7); the server cannot check more without the source's key."""

    def __init__(self, writer: BlobWriter | None, on_close: Callable[[], object]) -> None:
        self._writer = writer
        self._on_close = on_close
        self._start = b""

    def write(self, data: bytes) -> int:
        if len(self._start) < len(AGE_VERSION_LINE):
            self._start += data[: len(AGE_VERSION_LINE)]
        if self._writer is not None:
            self._writer.write(data)
        return len(data)

    def close(self) -> None:
        if not self._start.startswith(AGE_VERSION_LINE):
            raise BundleError("a reply in the bundle is not an age file")
        if self._writer is not None:
            self._writer.close()
        self._on_close()


class _QueueWriter:
    """Hands what a writer thread produces to the response, in blocks, with back-pressure."""

    def __init__(
        self, blocks: queue.Queue[bytes | BaseException | None], stop: threading.Event
    ) -> None:
        self._blocks = blocks
        self._stop = stop
        self._pending = bytearray()

    def write(self, data: bytes) -> int:
        self._pending += data
        if len(self._pending) >= _QUEUE_BLOCK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        self.put(bytes(self._pending))
        self._pending.clear()

    def put(self, block: bytes | BaseException | None) -> None:
        while not self._stop.is_set():
            try:
                self._blocks.put(block, timeout=1)
                return
            except queue.Full:
                continue
        raise ConnectionAbortedError("the courier went away")


def _stream(produce: Callable[[_QueueWriter], object]) -> Iterator[bytes]:
    """Run a writer in a thread and yield what it writes: tarfile pushes, a response pulls."""
    blocks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=8)
    stop = threading.Event()

    def run() -> None:
        out = _QueueWriter(blocks, stop)
        try:
            produce(out)
            out.flush()
            out.put(None)
        except ConnectionAbortedError:
            pass
        except BaseException as err:  # handed to the response, which ends the stream
            with contextlib.suppress(ConnectionAbortedError):
                out.put(err)

    threading.Thread(target=run, daemon=True).start()
    try:
        while (block := blocks.get()) is not None:
            if isinstance(block, BaseException):
                raise block
            yield block
    finally:
        stop.set()
