"""Keeping a secret held in memory off the swap.

The agent holds the reviewer's identity for as long as the reviewer chose. Swapping its pages out
would write it to disk, as a core file would (keys.core_dumps turns those off). Memory is locked
with ``mlockall``; an unprivileged user's RLIMIT_MEMLOCK may be too small for a Python process,
which the caller reports as a warning.
"""

from __future__ import annotations

import ctypes
import os
import resource

_MCL_CURRENT = 1


def lock_memory() -> str | None:
    """Lock every page this process has now into RAM; None, or why it could not (one line).

    Pages made later are not locked: the caller locks once the secret is in memory.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mlockall(_MCL_CURRENT) == 0:
        return None
    error = ctypes.get_errno()
    soft, _hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    return (
        f"memory not locked ({os.strerror(error)}; RLIMIT_MEMLOCK is {soft} bytes): the key may "
        "be swapped to disk; raise the limit (ulimit -l) or use encrypted swap"
    )
