"""`intake serve` as a process: what it changes in gunicorn, and only where it serves."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Callable

from intake.instance import Instance
from tests.support.intake import LiveServer
from tests.support.invariants import core_size_limit, server_pids

IMPORT_AND_COMPARE = """
import gunicorn.http.wsgi, gunicorn.util
before = (gunicorn.util.write_error, gunicorn.http.wsgi.Response.default_headers)
import intake.serve
after = (gunicorn.util.write_error, gunicorn.http.wsgi.Response.default_headers)
print(before == after)
"""


def test_importing_the_server_module_leaves_gunicorn_as_it_is() -> None:
    """gunicorn is changed (no banner, Cairn's own refusal pages) by ``serve`` in the process
    that serves, not by an import: the CLI, tests and tools that import the module get gunicorn
    as it is. The changes themselves are tested through a real server (test_headers.py,
    test_bad_input.py)."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_AND_COMPARE], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True", result.stderr


def test_i1_a_serving_process_and_its_workers_never_dump_core(
    instance: Instance, start_server: Callable[..., LiveServer]
) -> None:
    """A worker's memory holds tips in plaintext while they are sealed: a core dump would put
    them on disk. Started with cores allowed, the server and each worker have the limit at 0."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))  # what the server inherits
    try:
        server = start_server(instance, "--workers", "2")
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))
    assert server.source().get("/").status_code == 200
    deadline = time.monotonic() + 30
    while len(pids := server_pids(server.process.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pids) == 3, pids  # the master and its two workers
    assert {pid: core_size_limit(pid) for pid in pids} == dict.fromkeys(pids, ("0", "0"))


NOT_DUMPABLE = """
import ctypes
from keys.core_dumps import forbid_core_dumps
forbid_core_dumps()
print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))  # PR_GET_DUMPABLE
"""


def test_i1_forbidding_core_dumps_makes_a_process_not_dumpable() -> None:
    """The limit alone is ignored when the kernel pipes cores to a helper (systemd-coredump,
    apport): the process is made not dumpable too (Linux), as serve and each worker do."""
    result = subprocess.run(
        [sys.executable, "-c", NOT_DUMPABLE], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "0", result.stderr
