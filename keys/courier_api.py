"""The courier API's wire contract: its paths, the ack file, and what the server answers.

The server (intake/) and the courier (review/) meet only through this module: each side builds
and parses these formats here, so neither can drift from the other. How a request is signed is
``keys.courier``'s concern; the bundles the API carries are ``keys.bundle``'s. Parsing refuses
anything malformed with a ``CourierFormatError`` whose message is one line a person can act on.

A fetch may ask for a bundle of at most ``MAX_BYTES_PARAM`` bytes (``bundle.DEFAULT_MAX_BYTES``
if it does not); the answer's ``ITEMS_HEADER`` says how many items it carries and its
``ITEMS_LEFT_HEADER`` how many wait for a later one.
An ack is signed by the review workspace that wrote it (``sign_ack``). The answer to a push
carries a delivery confirmation signed by the server's bundle key (``sign_delivery``): the
courier writes it to a file for the offline workspace, which has that key pinned, so a courier
cannot claim a delivery the server did not make.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Self

from .bundle import DEFAULT_MAX_BYTES, ITEM_ID
from .signing import (
    KeyKind,
    SignatureError,
    SigningKey,
    VerifyKey,
    canonical_json,
    parse_verify_key,
)

PREFIX = "/courier/v1"
BUNDLE = "/bundle"
ACK = "/ack"
REPLIES = "/replies"

MAX_BYTES_PARAM = "max_bytes"
ITEMS_HEADER = "Cairn-Items"
ITEMS_LEFT_HEADER = "Cairn-Items-Left"
_MOST_BYTES = 1 << 40

ACK_FORMAT = "cairn-ack"
ACK_VERSION = 2  # 1 was unsigned
ACK_CONTEXT = "courier-ack"
MAX_ACK_BYTES = 1 << 20

DELIVERY_FORMAT = "cairn-delivery"
DELIVERY_VERSION = 1
DELIVERY_CONTEXT = "courier-delivery"
DELIVERY_FIELD = "delivery"  # of a push's answer


class CourierFormatError(ValueError):
    """An ack file or a server's answer that is not what the courier API says it is."""


def path(endpoint: str) -> str:
    """The URL path of an endpoint (``BUNDLE``, ``ACK``, ``REPLIES``)."""
    return PREFIX + endpoint


def signed_path(path: str, query: str) -> str:
    """What a request's signature covers of its URL: the path and the query, if any."""
    return f"{path}?{query}" if query else path


def _count(text: str | None, default: int, most: int, what: str) -> int:
    """A whole number from a query parameter or a header; ``default`` when there is none."""
    if text is None:
        return default
    if not (text.isascii() and text.isdigit() and len(text) <= 15 and int(text) <= most):
        raise CourierFormatError(f"{what} is not a whole number up to {most}")
    return int(text)


def parse_max_bytes(text: str | None) -> int:
    size = _count(text, DEFAULT_MAX_BYTES, _MOST_BYTES, MAX_BYTES_PARAM)
    if size < 1:
        raise CourierFormatError(f"{MAX_BYTES_PARAM} must be at least 1")
    return size


def parse_items_left(text: str | None) -> int:
    return _count(text, 0, _MOST_BYTES, ITEMS_LEFT_HEADER)


def parse_items(text: str | None) -> int | None:
    """How many items a bundle carries; ``None`` from a server that does not say."""
    return None if text is None else _count(text, 0, _MOST_BYTES, ITEMS_HEADER)


def _json_object(raw: bytes, refusal: str) -> dict[str, object]:
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):  # (RecursionError: JSON nested too deeply)
        parsed = None
    if not isinstance(parsed, dict):
        raise CourierFormatError(refusal)
    return parsed


@dataclass(frozen=True)
class Ack:
    """The items of a bundle from ``server`` that the review workspace ``signer`` verified and
    keeps: the server may delete them, if it accepts that workspace's key."""

    server: VerifyKey
    items: tuple[str, ...]
    signer: VerifyKey


def _signed_part(server: str, items: list[str], signer: str) -> dict[str, object]:
    """What an ack's signature covers; the keys as the file writes them, whatever their form."""
    return {
        "format": ACK_FORMAT,
        "version": ACK_VERSION,
        "server": server,
        "signer": signer,
        "items": items,
    }


def sign_ack(key: SigningKey, server: VerifyKey, items: Iterable[str]) -> bytes:
    """An ack file for ``items`` of a bundle from ``server``, signed by a workspace's ``key``."""
    fields = _signed_part(str(server), sorted(items), str(key.verify_key))
    signature = key.sign(ACK_CONTEXT, canonical_json(fields))
    ack = {**fields, "signature": base64.b64encode(signature).decode()}
    return (json.dumps(ack, indent=2) + "\n").encode()


def _key(value: object, kind: KeyKind, what: str) -> tuple[str, VerifyKey]:
    """The key a file names, as written and as parsed."""
    text = value if isinstance(value, str) else ""
    try:
        return text, parse_verify_key(text, kind)
    except ValueError as err:
        raise CourierFormatError(f"{what} is not a valid key ({err})") from None


def parse_ack(raw: bytes) -> Ack:
    """An ack whose signature verifies under the workspace key it names; whether that key is
    accepted is the caller's to check."""
    if len(raw) > MAX_ACK_BYTES:
        raise CourierFormatError("the ack is larger than any ack Cairn writes")
    ack = _json_object(raw, "the ack is not JSON")
    if ack.get("format") != ACK_FORMAT:
        raise CourierFormatError("the ack is not a Cairn ack file")
    if ack.get("version") == 1:
        raise CourierFormatError(
            "the ack is not signed; re-run `review import` with this version to write a signed ack"
        )
    if ack.get("version") != ACK_VERSION:
        raise CourierFormatError(
            "the ack's version is not one this server reads; write it with this version of review"
        )
    server_text, server = _key(ack.get("server"), KeyKind.SERVER, "the ack's server")
    signer_text, signer = _key(ack.get("signer"), KeyKind.REVIEWER, "the ack's signer")
    items = _item_ids(ack.get("items"), "the ack's items are not a list of item ids")
    signed = _signed_part(server_text, items, signer_text)
    _verify(signer, ACK_CONTEXT, signed, ack.get("signature"), "the ack's signature")
    return Ack(server, tuple(items), signer)


def _item_ids(value: object, refusal: str) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(item, str) and ITEM_ID.match(item) for item in value
    ):
        raise CourierFormatError(refusal)
    return value


def _verify(
    key: VerifyKey, context: str, fields: dict[str, object], signature: object, what: str
) -> None:
    try:
        key.verify(context, canonical_json(fields), base64.b64decode(str(signature), validate=True))
    except (binascii.Error, SignatureError):
        raise CourierFormatError(f"{what} does not verify; it was modified") from None


def _signed_delivery(server: str, replies: list[str]) -> dict[str, object]:
    return {
        "format": DELIVERY_FORMAT,
        "version": DELIVERY_VERSION,
        "server": server,
        "replies": replies,
    }


def sign_delivery(key: SigningKey, replies: Iterable[str]) -> dict[str, object]:
    """The server's confirmation that it holds ``replies`` (or held them until their source
    deleted them), signed by its bundle key ``key``."""
    fields = _signed_delivery(str(key.verify_key), sorted(replies))
    signature = key.sign(DELIVERY_CONTEXT, canonical_json(fields))
    return {**fields, "signature": base64.b64encode(signature).decode()}


def delivery_file(answer: bytes) -> bytes:
    """The delivery confirmation a push's answer carries, as the file the courier writes."""
    delivery = _json_object(answer, "the server's answer is not Cairn's courier API").get(
        DELIVERY_FIELD
    )
    if not isinstance(delivery, dict):
        raise CourierFormatError("the server's answer carries no delivery confirmation")
    return (json.dumps(delivery, indent=2) + "\n").encode()


def parse_delivery(raw: bytes, server: VerifyKey) -> tuple[str, ...]:
    """The reply ids a delivery confirmation names, once it verifies under ``server`` (the
    pinned bundle key)."""
    if len(raw) > MAX_ACK_BYTES:
        raise CourierFormatError("the file is larger than any delivery confirmation Cairn writes")
    delivery = _json_object(raw, "the file is not a delivery confirmation (not JSON)")
    if delivery.get("format") != DELIVERY_FORMAT:
        raise CourierFormatError("the file is not a Cairn delivery confirmation")
    if delivery.get("version") != DELIVERY_VERSION:
        raise CourierFormatError("the confirmation's version is not one this workspace reads")
    server_text, named = _key(delivery.get("server"), KeyKind.SERVER, "the confirmation's server")
    if named != server:
        raise CourierFormatError(
            f"the confirmation comes from {named}, not from the server this workspace trusts"
        )
    replies = _item_ids(
        delivery.get("replies"), "the confirmation's replies are not a list of reply ids"
    )
    signed = _signed_delivery(server_text, replies)
    _verify(
        server, DELIVERY_CONTEXT, signed, delivery.get("signature"), "the confirmation's signature"
    )
    return tuple(replies)


@dataclass(frozen=True)
class _Counts:
    """An answer of counts: a JSON object of non-negative integers, one per field."""

    @classmethod
    def parse(cls, raw: bytes) -> Self:
        refusal = "the server's answer is not Cairn's courier API"
        answer = _json_object(raw, refusal)
        names = [field.name for field in fields(cls)]
        counts = {name: answer.get(name) for name in names}
        if not all(type(count) is int and count >= 0 for count in counts.values()):
            raise CourierFormatError(refusal)
        return cls(**counts)

    def to_json(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class AckAnswer(_Counts):
    acknowledged: int


@dataclass(frozen=True)
class PushAnswer(_Counts):
    stored: int
    already_stored: int


def error_answer(message: str) -> dict[str, str]:
    """The JSON body of a refusal."""
    return {"error": message}


def parse_error(raw: bytes) -> str | None:
    """The reason a refusal gives, if it is one of Cairn's."""
    try:
        error = _json_object(raw, "not a refusal of Cairn's").get("error")
    except CourierFormatError:
        return None
    return error if isinstance(error, str) else None
