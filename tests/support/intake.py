"""The intake server as the tests meet it: instance settings, ``intake serve`` started on
loopback, a scripted source that walks the pages like a browser without JavaScript, and row
counts (what a refused request must leave as it was)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy

from intake.db import make_engine
from intake.instance import Instance
from tests.support.ports import free_port, wait_for_port

VENV_BIN = Path(sys.executable).parent


# Light KDF settings so tests are quick; production defaults are measured in keys/codename.py.
FAST_SETTINGS = {"kdf_opslimit": 1, "kdf_memlimit_mib": 8}


TIP_TABLES = ("sources", "submissions", "items", "chunks")


def table_counts(instance: Instance, tables: Sequence[str] = TIP_TABLES) -> dict[str, int]:
    """Rows in each of ``tables``: what a refused request must leave as it was (I8)."""
    engine = make_engine(instance.database_url)
    try:
        with engine.connect() as connection:
            return {
                name: connection.execute(
                    sqlalchemy.select(sqlalchemy.func.count()).select_from(sqlalchemy.table(name))
                ).scalar_one()
                for name in tables
            }
    finally:
        engine.dispose()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


CODENAME = re.compile(r'class="codename"[^>]*>([^<]+)<')


@dataclass
class SourceSession:
    """A source walking the pages over HTTP, as Tor Browser at Safest would (no JavaScript)."""

    base_url: str
    http: requests.Session = field(default_factory=requests.Session)
    csrf: str = ""
    codename: str = ""

    def _remember_csrf(self, response: requests.Response) -> requests.Response:
        match = CSRF.search(response.text)
        if match:
            self.csrf = match.group(1)
        return response

    def get(self, path: str) -> requests.Response:
        return self._remember_csrf(self.http.get(self.base_url + path, timeout=60))

    def post(self, path: str, data: dict[str, str] | None = None) -> requests.Response:
        form = {"csrf_token": self.csrf, **(data or {})}
        return self._remember_csrf(self.http.post(self.base_url + path, data=form, timeout=60))

    def start(self) -> str:
        self.get("/")
        response = self.post("/start")
        assert response.status_code == 200, response.text
        match = CODENAME.search(response.text)
        assert match
        self.codename = match.group(1)
        # As a browser does: the codename rides back in the form, to be shown again.
        assert self.post("/written", {"codename": self.codename}).status_code == 200
        return self.codename

    def submit(
        self,
        message: str | bytes = "",
        files: list[tuple[str, bytes | io.IOBase, str]] | None = None,
        **extra: str,
    ) -> requests.Response:
        parts: list[tuple[str, tuple[str | None, object] | tuple[str, object, str]]] = [
            ("csrf_token", (None, self.csrf)),
            ("website", (None, extra.pop("website", ""))),
            ("message", (None, message)),
        ]
        parts += [("files", (name, content, media)) for name, content, media in files or []]
        response = self.http.post(self.base_url + "/submit", files=parts, timeout=600)
        return self._remember_csrf(response)

    def login(self, codename: str | None = None) -> requests.Response:
        self.get("/login")
        return self.post("/login", {"codename": codename or self.codename})


@dataclass
class LiveServer:
    base_url: str
    port: int
    instance_path: Path
    log_path: Path
    tmpdir: Path
    process: subprocess.Popen[bytes]

    def source(self) -> SourceSession:
        return SourceSession(self.base_url)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


def serve(
    instance: Instance, root: Path, *extra_args: str, env: dict[str, str] | None = None
) -> LiveServer:
    """``intake serve`` (gunicorn, threads) on a free loopback port; its log and TMPDIR go under
    ``root``. The caller stops it."""
    port = free_port()
    server_tmp = root / f"server-tmp-{port}"
    server_tmp.mkdir()
    log_path = root / f"server-{port}.log"
    process = subprocess.Popen(
        [
            str(VENV_BIN / "intake"),
            *("serve", "--instance", str(instance.path), "--port", str(port)),
            *("--threads", "8"),
            *extra_args,
        ],
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "TMPDIR": str(server_tmp), **(env or {})},
    )
    try:
        wait_for_port(port)
    except TimeoutError:
        process.kill()
        raise AssertionError(log_path.read_text()) from None
    url = f"http://127.0.0.1:{port}"
    return LiveServer(url, port, instance.path, log_path, server_tmp, process)
