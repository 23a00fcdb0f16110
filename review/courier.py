"""The courier's side of the courier API: signed HTTP requests from the networked machine.

This machine holds only the courier's signing key and ciphertext; it never holds a key that
decrypts a tip. ``proxy`` sends everything through Tor (``socks5h://127.0.0.1:9050``).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from keys.courier import EMPTY_BODY_SHA256, CourierRequest, sign_request
from keys.signing import SigningKey

from .private_files import private_output

API = "/courier/v1"
TIMEOUT = (60, 600)  # connect, read: onion services are slow to reach
_BLOCK = 1 << 20


class CourierFailed(Exception):
    """The server refused or could not be reached; the message says which and why."""


class Courier:
    def __init__(self, server: str, key: SigningKey, proxy: str | None = None) -> None:
        self._base = server.rstrip("/")
        self._key = key
        self._http = requests.Session()
        if proxy:
            self._http.proxies = {"http": proxy, "https": proxy}

    def _call(self, method: str, endpoint: str, body_sha256: str, **kwargs: Any) -> Any:
        url = self._base + API + endpoint
        signed = CourierRequest(method, urlsplit(url).path, int(time.time()), body_sha256)
        try:
            response = self._http.request(
                method, url, headers=sign_request(self._key, signed), timeout=TIMEOUT, **kwargs
            )
        except requests.RequestException as err:
            raise CourierFailed(f"cannot reach {self._base} ({type(err).__name__})") from None
        if response.status_code != 200:
            raise CourierFailed(f"the server refused ({response.status_code}): {_reason(response)}")
        return response

    def fetch(self, out: Path) -> int:
        """Download the bundle of undelivered items to ``out``; returns its size in bytes.

        ``out`` appears only once the whole bundle has arrived; an earlier file there is kept
        until then.
        """
        size = 0
        try:
            with (
                private_output(out) as dst,
                self._call("GET", "/bundle", EMPTY_BODY_SHA256, stream=True) as response,
            ):
                for block in response.iter_content(_BLOCK):
                    dst.write(block)
                    size += len(block)
        except requests.RequestException as err:
            raise CourierFailed(
                f"the download was interrupted ({type(err).__name__}); run fetch again"
            ) from None
        except OSError as err:
            raise CourierFailed(f"cannot write {out}: {err.strerror or err}") from None
        return size

    def push(self, reply_bundle: Path) -> dict[str, int]:
        digest = _file_sha256(reply_bundle)
        with reply_bundle.open("rb") as body:
            response = self._call("POST", "/replies", digest, data=body)
        return _answer(response, "stored", "already_stored")

    def ack(self, ack_file: Path) -> dict[str, int]:
        body = ack_file.read_bytes()
        digest = hashlib.sha256(body).hexdigest()
        return _answer(self._call("POST", "/ack", digest, data=body), "acknowledged")


def _answer(response: requests.Response, *counts: str) -> dict[str, int]:
    """The counts a successful courier call answers with; anything else is not Cairn's API."""
    with contextlib.suppress(ValueError, KeyError, TypeError):
        answer = response.json()
        found = {name: answer[name] for name in counts}
        if all(type(number) is int for number in found.values()):
            return found
    raise CourierFailed("the server's answer is not Cairn's courier API; check --server")


def _reason(response: requests.Response) -> str:
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        return response.reason or "no reason given"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
