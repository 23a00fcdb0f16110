"""The scaled profile for real, without Docker: two `intake serve` (gunicorn) processes on one
PostgreSQL and one Redis on loopback, configured as docker-compose.yml configures intake-a and
intake-b (URLs from secret files). A source moves between them freely, submissions through
both land in one export, and a global budget holds across both."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from intake.instance import Instance, InstanceError, load_instance
from keys.sealed import ItemHeader
from tests.support.intake import VENV_BIN, LiveServer

GLOBAL_POSTS = 2  # per endpoint: two POSTs to /start, to /written and to /submit
LIMITER_DB = 9  # a Redis database of its own, emptied first: counters from other tests stay out


def secret_file(directory: Path, name: str, value: str) -> Path:
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / name
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


@pytest.mark.slow
def test_two_intake_servers_share_one_postgresql_and_one_redis(
    make_instance: Callable[..., Instance],
    start_server: Callable[..., LiveServer],
    export_and_open: Callable[[Instance], list[tuple[ItemHeader, bytes]]],
    postgres_url: str,
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limiter_url = f"{redis_url.rsplit('/', 1)[0]}/{LIMITER_DB}"
    redis.Redis.from_url(limiter_url).flushdb()
    # The instance says SQLite, as `intake init` wrote it; the replicas' environment points
    # them at PostgreSQL and Redis through files, as docker-compose's secrets do.
    instance = make_instance()
    secrets = tmp_path / "secrets"
    monkeypatch.setenv("CAIRN_DATABASE_URL_FILE", str(secret_file(secrets, "db", postgres_url)))
    monkeypatch.setenv(
        "CAIRN_LIMITER_STORAGE_URI_FILE", str(secret_file(secrets, "limiter", limiter_url))
    )
    monkeypatch.setenv("CAIRN_GLOBAL_POST_LIMIT", f"{GLOBAL_POSTS}/hour")
    assert load_instance(instance.path).database_url == postgres_url
    intake = str(VENV_BIN / "intake")
    migrated = subprocess.run(
        [intake, "migrate", "--instance", str(instance.path)], capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stderr
    checked = subprocess.run(
        [intake, "check", "--instance", str(instance.path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr

    a, b = start_server(instance), start_server(instance)

    # Each source starts on one replica and submits through the other (2 + 1 POSTs each): the
    # session, its CSRF token and the source live in PostgreSQL, not in either process.
    first = a.source()
    first.start()
    first.base_url = b.base_url
    assert first.submit("sent through intake-b").status_code == 200
    second = b.source()
    second.start()
    second.base_url = a.base_url
    assert second.submit("sent through intake-a").status_code == 200

    # Each endpoint's global budget of two POSTs is spent, one on each process: only a counter
    # shared in Redis knows it. The next source is refused on both.
    for server in (a, b):
        late = server.source()
        assert late.get("/").status_code == 200  # pages are not POSTs
        assert late.post("/start").status_code == 429

    messages = sorted(content for _, content in export_and_open(instance))
    assert messages == [b"sent through intake-a", b"sent through intake-b"]
    for server in (a, b):
        assert server.process.poll() is None
        assert "Traceback" not in server.log_path.read_text()


def test_a_setting_from_an_unreadable_file_is_a_clear_error(
    make_instance: Callable[..., Instance], tmp_path: Path
) -> None:
    instance = make_instance()
    env = {"CAIRN_DATABASE_URL_FILE": str(tmp_path / "missing")}
    with pytest.raises(InstanceError, match="cannot read CAIRN_DATABASE_URL_FILE"):
        load_instance(instance.path, env=env)
    result = subprocess.run(
        [str(VENV_BIN / "intake"), "check", "--instance", str(instance.path)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
    )
    assert result.returncode == 1
    assert "cannot read CAIRN_DATABASE_URL_FILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_setting_in_the_environment_wins_over_its_file(
    make_instance: Callable[..., Instance], tmp_path: Path
) -> None:
    instance = make_instance()
    path = secret_file(tmp_path / "secrets", "limit", "5/minute")
    config = load_instance(
        instance.path,
        env={
            "CAIRN_CIRCUIT_LIMIT_FILE": str(path),
            "CAIRN_SESSION_LIMIT_FILE": str(path),
            "CAIRN_SESSION_LIMIT": "7/minute",
        },
    ).config
    assert (config.circuit_limit, config.session_limit) == ("5/minute", "7/minute")
