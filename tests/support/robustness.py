"""Helpers shared by the robustness tests: killing a server hard, counting what is stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import psutil

from intake.instance import Instance
from tests.support.intake import LiveServer
from tests.support.intake import table_counts as intake_table_counts

# Every table a request could change, tip data and its bookkeeping alike.
STORED_TABLES = (
    "sources",
    "submissions",
    "items",
    "chunks",
    "replies",
    "reply_chunks",
    "deleted_replies",
    "couriers",
    "reviewer_keys",
    "seen_signatures",
)


def worker_processes(server: LiveServer) -> list[psutil.Process]:
    """gunicorn's workers: the children of the master, which is the ``intake serve`` process."""
    return psutil.Process(server.process.pid).children(recursive=True)


def kill_9(server: LiveServer, still: Callable[[], bool] = lambda: True) -> bool:
    """SIGKILL the gunicorn master and all its workers, as a crash or the OOM killer would.

    All are frozen first (SIGSTOP), so none reacts to another's death (a gunicorn worker whose
    master dies exits on its own, cleanly), then each gets SIGKILL: nothing runs a finaliser.
    ``still`` is asked again once they are frozen: if the moment to kill has passed meanwhile
    (an upload committed between the caller's check and the freeze), they are thawed and
    nothing is killed (False).
    """
    master = psutil.Process(server.process.pid)
    processes = [master, *master.children(recursive=True)]
    for process in processes:
        process.suspend()
    if not still():
        for process in processes:
            process.resume()
        return False
    for process in processes:
        process.kill()
    server.process.wait(10)
    _, alive = psutil.wait_procs(processes, timeout=10)
    assert not alive, alive
    return True


def table_counts(instance: Instance, tables: Sequence[str] = STORED_TABLES) -> dict[str, int]:
    return intake_table_counts(instance, tables)
