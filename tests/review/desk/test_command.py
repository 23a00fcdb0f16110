"""``review desk`` as a reviewer starts it: the passphrase once, an address with a one-time
token on 127.0.0.1, and Ctrl-C closing it."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.desk import Bench
from tests.support.review import one_line_error

REVIEW = Path(sys.executable).parent / "review"


def _env(bench: Bench) -> dict[str, str]:
    return os.environ | bench.review.env


def test_i9_the_desk_serves_its_address_once_and_closes_on_ctrl_c(bench: Bench) -> None:
    desk = subprocess.Popen(
        [str(REVIEW), "desk", "--no-browser"],
        env=_env(bench),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert desk.stdout is not None
        desk.stdout.readline()  # what the address is for
        address = urlsplit(desk.stdout.readline().strip())
        assert address.scheme == "http" and address.hostname == "127.0.0.1"
        assert address.path == "/launch" and address.query.startswith("token=")
        connection = http.client.HTTPConnection("127.0.0.1", address.port, timeout=10)
        connection.request("GET", f"{address.path}?{address.query}")
        launched = connection.getresponse()
        launched.read()
        assert launched.status == 303
        cookie = launched.getheader("Set-Cookie", "").split(";")[0]
        connection.request("GET", "/claims/", headers={"Cookie": cookie})
        page = connection.getresponse()
        assert page.status == 200 and b"<h1>Claims</h1>" in page.read()
        connection.close()
        desk.send_signal(signal.SIGINT)
        out, err = desk.communicate(timeout=20)
    finally:
        if desk.poll() is None:
            desk.kill()
            desk.communicate()
    assert desk.returncode == 0, err
    assert "The desk is closed; the key is forgotten." in out
    assert address.query not in err  # no request is logged, so neither is the token


def test_a_desk_that_cannot_open_its_workspace_says_so_in_one_line(
    bench: Bench, tmp_path: Path
) -> None:
    (tmp_path / "not-a-workspace").mkdir()
    (tmp_path / "not-a-workspace" / "stray.txt").write_text("x")
    result = bench.review.run(
        "desk", "--no-browser", "--workspace", str(tmp_path / "not-a-workspace")
    )
    assert "is not empty and is not a workspace" in one_line_error(result, ("desk",))


def test_a_workspace_that_cannot_be_made_is_not_blamed_on_the_port(
    bench: Bench, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("x")
    result = bench.review.run(
        "desk", "--no-browser", "--workspace", str(tmp_path / "a-file" / "ws")
    )
    error = one_line_error(result, ("desk",))
    assert "a-file" in error and "cannot serve" not in error


def test_i9_an_idle_desk_locks_and_exits_by_itself(bench: Bench) -> None:
    result = subprocess.run(
        [str(REVIEW), "desk", "--no-browser", "--idle-minutes", "0.01"],
        env=_env(bench),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("The desk is closed; the key is forgotten.")
