"""A server with a registered courier, and the commands of the networked and offline machines,
run as the people using them would: ``intake`` and ``review`` in subprocesses."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from intake.instance import Instance
from intake.models import Item, Reply, ReplyChunk, Source
from keys import age
from keys.bundle import ItemInfo, write_bundle
from keys.courier import CourierRequest, sign_request
from keys.sealed import ItemWriter
from keys.signing import KeyKind, SigningKey
from tests.support.intake import VENV_BIN, LiveServer


def run(
    command: str,
    *args: object,
    env: dict[str, str] | None = None,
    ok: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(VENV_BIN / command), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        input=stdin,
    )
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@dataclass
class Courier:
    server: LiveServer
    instance: Instance
    key_file: Path
    key: SigningKey

    def review(self, *args: object, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return run(
            "review", *args, "--server", self.server.base_url, "--courier-key", self.key_file, ok=ok
        )


def intake(*args: object, instance: Instance, ok: bool = True) -> str:
    result = run("intake", *args, "--instance", instance.path, ok=ok)
    return result.stdout + result.stderr


# The review workspace whose reply bundles and acks the server accepts (`intake reviewers add`).
REVIEWER = SigningKey.generate(KeyKind.REVIEWER)


@dataclass
class Reviewer:
    env: dict[str, str]
    identity: age.X25519Identity

    def review(
        self, *args: object, ok: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run("review", *args, env=self.env, ok=ok, stdin=stdin)


def state(url: str) -> tuple[int, ...]:
    """Rows of tips and replies on the server: what a refused request must leave as it was."""
    with Session(create_engine(url)) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Item, Reply, ReplyChunk)
        )


def call(
    courier: Courier,
    method: str,
    endpoint: str,
    body: bytes = b"",
    key: SigningKey | None = None,
    timestamp: int | None = None,
    signed_body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """A courier request, signed by ``key`` (the courier's by default) unless ``headers`` are
    given; ``signed_body`` signs other bytes than those sent."""
    path = "/courier/v1" + endpoint
    digest = hashlib.sha256(body if signed_body is None else signed_body).hexdigest()
    request = CourierRequest(method, path, timestamp or int(time.time()), digest)
    signed = headers or sign_request(key or courier.key, request)
    return requests.request(
        method, courier.server.base_url + path, data=body, headers=signed, timeout=60
    )


def refused(response: requests.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def reply_bundle(items: list[tuple[str, str, bytes]], signer: SigningKey | None = None) -> bytes:
    blobs = {item_id: data for item_id, _, data in items}
    infos = [
        ItemInfo(id=item_id, source=source, kind="reply", day="2026-11-26", size=len(data))
        for item_id, source, data in items
    ]
    out = io.BytesIO()
    write_bundle(
        out,
        signer or REVIEWER,
        infos,
        lambda info: io.BytesIO(blobs[info.id]),
        kind="replies",
    )
    return out.getvalue()


def sealed_reply(recipient: age.Recipient) -> bytes:
    out = io.BytesIO()
    ItemWriter(out, [recipient], "reply").seal_all(io.BytesIO(b"a reply"))
    return out.getvalue()


def only_source_id(url: str) -> str:
    """The id of the one source on the server."""
    with Session(create_engine(url)) as session:
        return session.scalars(select(Source.id)).one()
