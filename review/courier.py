"""The courier's side of the courier API: signed HTTP requests from the networked machine.

This machine holds only the courier's signing key and ciphertext; it never holds a key that
decrypts a tip. ``proxy`` sends everything through Tor (``socks5h://127.0.0.1:9050``).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlencode, urlsplit

import requests

from keys import courier_api as wire
from keys.courier import EMPTY_BODY_SHA256, CourierRequest, sign_request
from keys.private_files import private_output
from keys.signing import SigningKey

from .printable import one_line

TIMEOUT = (60, 600)  # connect, read: onion services are slow to reach
_BLOCK = 1 << 20
T = TypeVar("T")


class CourierFailed(Exception):
    """The server refused or could not be reached; the message says which and why."""


Transferred = Callable[[int], None]  # told the bytes moved so far


@dataclass(frozen=True)
class Fetched:
    size: int  # bytes
    items: int | None  # in the bundle: the tips it carries, if the server says
    left: int  # items that wait on the server for a later bundle


class _CountingReader:
    """A file read as a request body, telling ``progress`` how much has gone."""

    def __init__(self, file: BinaryIO, size: int, progress: Transferred) -> None:
        self._file, self._size, self._progress, self._sent = file, size, progress, 0

    def __len__(self) -> int:
        return self._size

    def read(self, size: int = -1) -> bytes:
        block = self._file.read(size)
        self._sent += len(block)
        self._progress(self._sent)
        return block


class Courier:
    def __init__(self, server: str, key: SigningKey, proxy: str | None = None) -> None:
        self._base = server.rstrip("/")
        self._key = key
        self._http = requests.Session()
        if proxy:
            self._http.proxies = {"http": proxy, "https": proxy}

    def _call(self, method: str, endpoint: str, body_sha256: str, **kwargs: Any) -> Any:
        url = self._base + wire.path(endpoint)
        parts = urlsplit(url)
        path = wire.signed_path(parts.path, parts.query)
        signed = CourierRequest(method, path, int(time.time()), body_sha256)
        try:
            response = self._http.request(
                method, url, headers=sign_request(self._key, signed), timeout=TIMEOUT, **kwargs
            )
        except requests.RequestException as err:
            raise CourierFailed(f"cannot reach {self._base} ({type(err).__name__})") from None
        if response.status_code != 200:
            raise CourierFailed(f"the server refused ({response.status_code}): {_reason(response)}")
        return response

    def fetch(self, out: Path, max_bytes: int, progress: Transferred | None = None) -> Fetched:
        """Download a bundle of the oldest undelivered items, at most ``max_bytes``, to ``out``.

        ``out`` appears only once the whole bundle has arrived; an earlier file there is kept
        until then.
        """
        size = 0
        endpoint = f"{wire.BUNDLE}?{urlencode({wire.MAX_BYTES_PARAM: max_bytes})}"
        try:
            with (
                private_output(out) as dst,
                self._call("GET", endpoint, EMPTY_BODY_SHA256, stream=True) as response,
            ):
                try:
                    items = wire.parse_items(response.headers.get(wire.ITEMS_HEADER))
                    left = wire.parse_items_left(response.headers.get(wire.ITEMS_LEFT_HEADER))
                except wire.CourierFormatError as err:
                    raise CourierFailed(f"{err}; check --server") from None
                for block in response.iter_content(_BLOCK):
                    dst.write(block)
                    size += len(block)
                    if progress is not None:
                        progress(size)
        except requests.RequestException as err:
            raise CourierFailed(
                f"the download was interrupted ({type(err).__name__}); run fetch again"
            ) from None
        except OSError as err:
            raise CourierFailed(f"cannot write {out}: {err.strerror or err}") from None
        return Fetched(size, items, left)

    def push(
        self, reply_bundle: Path, confirmation_out: Path, progress: Transferred | None = None
    ) -> wire.PushAnswer:
        """Upload a reply bundle; the server's signed delivery confirmation goes to
        ``confirmation_out``, for the offline machine."""
        digest = _file_sha256(reply_bundle)
        with reply_bundle.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            body = file if progress is None else _CountingReader(file, size, progress)
            response = self._call("POST", wire.REPLIES, digest, data=body)
        answer = _answer(wire.PushAnswer.parse, response)
        confirmation = _answer(wire.delivery_file, response)
        try:
            with private_output(confirmation_out) as dst:
                dst.write(confirmation)
        except OSError as err:
            raise CourierFailed(
                f"cannot write {confirmation_out}: {err.strerror or err}; push again"
            ) from None
        return answer

    def ack(self, ack_file: Path) -> wire.AckAnswer:
        body = ack_file.read_bytes()
        try:
            wire.parse_ack(body)  # refused here already, without a round trip, if malformed
        except wire.CourierFormatError as err:
            raise CourierFailed(f"{ack_file}: {err}") from None
        digest = hashlib.sha256(body).hexdigest()
        return _answer(wire.AckAnswer.parse, self._call("POST", wire.ACK, digest, data=body))


def _answer(parse: Callable[[bytes], T], response: requests.Response) -> T:
    """What a successful courier call answers; anything else is not Cairn's API."""
    try:
        return parse(response.content)
    except wire.CourierFormatError as err:
        raise CourierFailed(f"{err}; check --server") from None


def _reason(response: requests.Response) -> str:
    """The server's words for a refusal, as one line that cannot act on a terminal (I11)."""
    return one_line(wire.parse_error(response.content) or response.reason or "no reason given")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
