"""Fixtures every folder may use: real services started on loopback only (PostgreSQL, Redis),
the reviewer's identity, intake instances on SQLite or PostgreSQL with real gunicorn servers and
exports, and a courier registered on such a server with the reviewer's offline machine.

A service whose binaries are absent makes its tests skip, loudly, naming what to install
(.ci/run installs everything).
"""

from __future__ import annotations

import glob
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from intake.db import migrate
from intake.instance import Instance, init_instance, load_instance
from keys import age
from keys.bundle import open_bundle
from keys.sealed import ItemHeader, open_item
from keys.signing import KeyKind, parse_signing_key
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.courier import REVIEWER, Courier, Reviewer, intake, run
from tests.support.intake import FAST_SETTINGS, VENV_BIN, LiveServer, serve
from tests.support.ports import free_port, wait_for_port
from tests.support.review import make_reviewer


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; CI runs as root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1; yields a URL without a database name."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL is NOT installed (apt-get install postgresql); .ci/run installs it")
    bin_dir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="cairn-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    port = free_port()
    subprocess.run(
        _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    subprocess.run(
        _as_postgres(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "start",
                "-l",
                str(root / "log"),
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


_databases = iter(range(1, 1_000_000))


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database for one test."""
    import psycopg

    name = f"cairn_test_{next(_databases)}"
    admin = postgres_server.replace("postgresql+psycopg", "postgresql") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throwaway redis-server on 127.0.0.1 with persistence off."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is NOT installed (apt-get install redis-server); .ci/run does")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def reviewer(tmp_path_factory: pytest.TempPathFactory) -> tuple[age.X25519Identity, Path, Path]:
    """A reviewer identity, its passphrase-protected file (light scrypt) and passphrase file."""
    made = make_reviewer(tmp_path_factory.mktemp("reviewer"))
    return made.identity, made.identity_file, made.passphrase_file


# Intake instances and servers


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
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start ``intake serve`` (gunicorn, threads) on loopback for an instance; all are stopped
    at the end of the test."""
    servers: list[LiveServer] = []

    def start(
        instance: Instance, *extra_args: str, env: dict[str, str] | None = None
    ) -> LiveServer:
        servers.append(serve(instance, tmp_path, *extra_args, env=env))
        return servers[-1]

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


# A courier and the reviewer's offline machine


@pytest.fixture
def courier(instance: Instance, start_server: Callable[..., LiveServer], tmp_path: Path) -> Courier:
    key_file = tmp_path / "networked" / "courier.key"
    made = run("review", "courier", "new", "--out", key_file)
    run(
        "intake",
        "couriers",
        "add",
        made.stdout.strip(),
        "--name",
        "alice",
        "--instance",
        instance.path,
    )
    key = parse_signing_key(key_file.read_text(), KeyKind.COURIER)
    return Courier(start_server(instance), instance, key_file, key)


@pytest.fixture
def submitted(courier: Courier) -> Courier:
    """A courier's server holding one tip, with REVIEWER's workspace key accepted."""
    source = courier.server.source()
    source.start()
    assert source.submit("a tip").status_code == 200
    intake("reviewers", "add", REVIEWER.verify_key, "--name", "desk", instance=courier.instance)
    return courier


@pytest.fixture
def offline(reviewer: tuple[age.X25519Identity, Path, Path], tmp_path: Path) -> Reviewer:
    """The reviewer's offline machine: a workspace unlocked by the identity file."""
    identity, identity_file, passphrase_file = reviewer
    env = {
        "CAIRN_WORKSPACE": str(tmp_path / "offline" / "workspace"),
        "CAIRN_IDENTITY": str(identity_file),
        "CAIRN_PASSPHRASE_FILE": str(passphrase_file),
    }
    return Reviewer(env, identity)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    """Playwright for the session, driving Debian's Chromium: browser downloads are blocked
    here, so it launches /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it).
    Without it every browser test skips, loudly."""
    if not CHROMIUM.exists():
        message = (
            f"CHROMIUM IS NOT INSTALLED at {CHROMIUM}: the browser, screenshot and accessibility "
            "tests are SKIPPED. Install it with `apt-get install chromium` (.ci/run does)."
        )
        warnings.warn(message, stacklevel=1)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as found:
        yield found


@pytest.fixture(scope="session")
def chromium(playwright: Any) -> Iterator[Any]:
    """One headless Chromium for the session; each test opens a context of its own."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()
