"""Files written all or nothing, readable by their owner only.

A file appears under its name only once it is complete; on any failure nothing is left behind,
not even the partial temporary file beside it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def private_output(path: Path, *, overwrite: bool = True) -> Iterator[BinaryIO]:
    """Write ``path`` through the yielded file; without ``overwrite`` an existing one is kept."""
    if not path.parent.is_dir():
        raise FileNotFoundError(f"the directory {path.parent} does not exist; make it first")
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} already exists; it is never overwritten")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_private_file(path: Path, data: bytes) -> None:
    with private_output(path) as out:
        out.write(data)
