"""No core dumps from a process whose memory holds plaintext: the intake server while it seals
tips (I1), the review tool while it opens them (I9). A core file would put that memory on disk.

Both the core size limit (0) and, on Linux, the process's "dumpable" flag are cleared: the limit
alone is not enforced when the kernel pipes cores to a helper (``core_pattern`` starting with
``|``, as systemd-coredump and apport do), and a non-dumpable process cannot be read through
/proc or ptrace by other processes of the same user. Where prctl does not exist (not Linux), only
the limit applies.
"""

from __future__ import annotations

import ctypes
import resource
import sys

_PR_SET_DUMPABLE = 4


def forbid_core_dumps() -> None:
    """For this process and every process it forks afterwards (gunicorn's workers inherit both
    settings)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, "prctl(PR_SET_DUMPABLE, 0) failed")
