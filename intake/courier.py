"""The courier API (its wire contract is keys.courier_api): fetch a bundle, acknowledge items,
push replies.

Every request is signed by a registered courier key over method, path and query, timestamp and
body hash (keys.courier); a signature is accepted once. A reply bundle and an ack must also be
signed by a review workspace's key that the operator accepted: a courier carries them, it cannot
write them. A reply bundle is read whole (bounded by its limit) and verified before any of it is
stored.
Deployments expose this blueprint only on the client-authorized courier onion service (see
docs/operators.md). Answers are JSON.
"""

from __future__ import annotations

import contextlib
import hashlib
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
    TooManyRequests,
    Unauthorized,
)

from keys import courier as signed
from keys import courier_api as wire
from keys.bundle import BundleError, UnknownSignerError, receive_bundle
from keys.signing import VerifyKey

from . import state
from .courier_store import CourierError
from .export import next_bundle, write_items
from .instance import MIB
from .models import ReviewerKey

_QUEUE_BLOCK = 256 * 1024

courier_api = Blueprint("courier", __name__, url_prefix=wire.PREFIX)


@courier_api.before_request
def _authenticate() -> None:
    headers = {name: request.headers.get(name, "") for name in signed.HEADERS}
    now = int(time.time())
    couriers = state().couriers
    try:
        path = wire.signed_path(request.path, request.query_string.decode("latin-1"))
        verified = signed.verify_request(headers, request.method, path, now, couriers.known_keys())
    except signed.CourierAuthError as err:
        raise Unauthorized(str(err)) from None
    digest = hashlib.sha256(verified.signature).hexdigest()
    if not couriers.remember_signature(digest, now + 2 * signed.WINDOW_SECONDS + 60):
        raise Unauthorized("this request was already used; sign each request anew")
    g.courier = verified


@courier_api.errorhandler(HTTPException)
def _json_error(error: HTTPException) -> ResponseReturnValue:
    return jsonify(wire.error_answer(error.description or "")), error.code or 500


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


@courier_api.get(wire.BUNDLE)
def fetch() -> ResponseReturnValue:
    """A signed bundle of the oldest undelivered items, up to the size asked for, streamed in
    bounded memory; the rest come in the next bundle."""
    if g.courier.body_sha256 != signed.EMPTY_BODY_SHA256:
        raise BadRequest("a fetch has no body")
    try:
        max_bytes = wire.parse_max_bytes(request.args.get(wire.MAX_BYTES_PARAM))
    except wire.CourierFormatError as err:
        raise BadRequest(str(err)) from None
    cairn = state()
    key = cairn.instance.signing_key
    bundle = next_bundle(cairn.store, key.verify_key, max_bytes)
    return Response(
        _stream(lambda out: write_items(cairn.store, key, bundle.items, out)),
        mimetype="application/x-tar",
        headers={
            "Content-Disposition": "attachment; filename=bundle.tar",
            wire.ITEMS_HEADER: str(len(bundle.items)),
            wire.ITEMS_LEFT_HEADER: str(bundle.left),
        },
    )


@courier_api.post(wire.ACK)
def acknowledge() -> ResponseReturnValue:
    """Items a review workspace the operator accepted imported and verified; they are deleted
    after the grace period."""
    if (request.content_length or 0) > wire.MAX_ACK_BYTES:
        raise RequestEntityTooLarge("the ack is too large")
    body = _HashingBody(wire.MAX_ACK_BYTES)
    raw = body.read()
    body.check()
    try:
        ack = wire.parse_ack(raw)
    except wire.CourierFormatError as err:
        raise BadRequest(str(err)) from None
    cairn = state()
    if ack.server != cairn.instance.signing_key.verify_key:
        raise BadRequest(
            f"the ack is for the server {ack.server}, not this one; send it to the server whose "
            "bundle it acknowledges"
        )
    if ack.signer not in cairn.couriers.known_keys(ReviewerKey):
        raise _not_accepted("ack", ack.signer)
    acked = cairn.couriers.acknowledge(ack.items, cairn.instance.config.ack_grace_days)
    return jsonify(wire.AckAnswer(acknowledged=acked).to_json())


def _not_accepted(what: str, signer: VerifyKey) -> Forbidden:
    return Forbidden(
        f"the {what} is signed by {signer}, which this server does not accept; its operator "
        f"accepts a reviewer's key with `intake reviewers add {signer} --name NAME`"
    )


# Reply bundles wait whole in memory until verified: this many at once in each process.
_RECEIVING = threading.BoundedSemaphore(2)


@courier_api.post(wire.REPLIES)
def push_replies() -> ResponseReturnValue:
    """A reply bundle, read whole and verified before anything of it is stored."""
    cairn = state()
    limit = cairn.instance.config.max_reply_bundle_mib * MIB
    if (request.content_length or 0) > limit:
        raise RequestEntityTooLarge("the reply bundle is larger than this server accepts")
    if not _RECEIVING.acquire(blocking=False):
        raise TooManyRequests("other reply bundles are being received; push again in a minute")
    try:
        body = _HashingBody(limit)
        signers = cairn.couriers.known_keys(ReviewerKey)
        max_bytes = min(limit, request.content_length or limit)
        try:
            received = receive_bundle(body, "replies", signers, max_bytes)
            body.check()
        except UnknownSignerError as err:
            raise _not_accepted("reply bundle", err.signer) from None
        except BundleError as err:
            raise BadRequest(str(err)) from None
        try:
            stored = cairn.couriers.store_replies(received.items, received.contents)
        except CourierError as err:
            raise BadRequest(str(err)) from None
    finally:
        _RECEIVING.release()
    answer = wire.PushAnswer(stored=stored, already_stored=len(received.items) - stored)
    delivery = wire.sign_delivery(cairn.instance.signing_key, (item.id for item in received.items))
    return jsonify({**answer.to_json(), wire.DELIVERY_FIELD: delivery})


class _QueueWriter:
    """Hands what a writer thread produces to the response, in blocks, with back-pressure."""

    def __init__(
        self, blocks: queue.Queue[bytes | BaseException | None], stop: threading.Event
    ) -> None:
        self._blocks = blocks
        self._stop = stop
        self._pending = bytearray()

    def write(self, data: bytes | memoryview) -> int:
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
