"""Fixtures for the intake server: instances on SQLite or PostgreSQL, the Flask app, a real
gunicorn server, and a scripted source that walks the pages like a browser without JavaScript."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy
from flask import Flask
from flask.testing import FlaskClient

from intake import create_app
from intake.db import make_engine, migrate
from intake.instance import Instance, init_instance, load_instance
from keys import age
from keys.bundle import open_bundle
from keys.sealed import ItemHeader, open_item
from tests.conftest import free_port, wait_for_port

VENV_BIN = Path(sys.executable).parent
# Light KDF settings so tests are quick; production defaults are measured in keys/codename.py.
FAST_SETTINGS = {"kdf_opslimit": 1, "kdf_memlimit_mib": 8}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each storage test runs on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def make_instance(
    tmp_path: Path, reviewer: tuple[age.X25519Identity, Path, Path]
) -> Callable[..., Instance]:
    def make(database_url: str = "", **settings: object) -> Instance:
        path = tmp_path / "instance"
        init_instance(
            path, [str(reviewer[0].recipient)], database_url, **{**FAST_SETTINGS, **settings}
        )
        instance = load_instance(path, env={})
        migrate(instance.database_url)
        return instance

    return make


@pytest.fixture
def instance(make_instance: Callable[..., Instance]) -> Instance:
    return make_instance()


@pytest.fixture
def app(instance: Instance) -> Flask:
    return create_app(instance)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


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
        assert self.post("/written").status_code == 200
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


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start ``intake serve`` (gunicorn, threads) on loopback for an instance."""
    servers: list[LiveServer] = []

    def start(
        instance: Instance, *extra_args: str, env: dict[str, str] | None = None
    ) -> LiveServer:
        port = free_port()
        server_tmp = tmp_path / f"server-tmp-{port}"
        server_tmp.mkdir()
        log_path = tmp_path / f"server-{port}.log"
        environment = {**os.environ, "TMPDIR": str(server_tmp), **(env or {})}
        process = subprocess.Popen(
            [
                str(VENV_BIN / "intake"),
                "serve",
                "--instance",
                str(instance.path),
                "--port",
                str(port),
                "--threads",
                "8",
                *extra_args,
            ],
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
            env=environment,
        )
        try:
            wait_for_port(port)
        except TimeoutError:
            process.kill()
            raise AssertionError(log_path.read_text()) from None
        server = LiveServer(
            f"http://127.0.0.1:{port}", port, instance.path, log_path, server_tmp, process
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def export_and_open(
    reviewer: tuple[age.X25519Identity, Path, Path], tmp_path: Path
) -> Callable[[Instance], list[tuple[ItemHeader, bytes]]]:
    """Run `intake export`, verify the bundle, and open every item with the reviewer's key."""

    def export(instance: Instance) -> list[tuple[ItemHeader, bytes]]:
        out = tmp_path / f"bundle-{time.monotonic_ns()}.tar"
        subprocess.run(
            [
                str(VENV_BIN / "intake"),
                "export",
                "--instance",
                str(instance.path),
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        opened = []
        with open_bundle(out, instance.signing_key.verify_key) as bundle:
            for item in bundle.items:
                ciphertext = io.BytesIO()
                bundle.copy_item(item, ciphertext)
                ciphertext.seek(0)
                content = io.BytesIO()
                header = open_item(ciphertext, content, [reviewer[0]])
                opened.append((header, content.getvalue()))
        with tarfile.open(out) as tar:
            assert all(not m.name.startswith(("/", "..")) for m in tar.getmembers())
        return opened

    return export
