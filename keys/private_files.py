"""Files readable by their owner only: made new, or written all or nothing.

Both wings write keys, bundles and sealed files this way. A file written through
``private_output`` appears under its name only once it is complete; on any failure nothing is
left behind, not even the partial temporary file beside it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


def open_new(path: str | os.PathLike[str], mode: int = 0o600) -> BinaryIO:
    """A new file open for writing, readable by its owner only unless ``mode`` says otherwise;
    ``FileExistsError`` if the name is taken (it is never overwritten, not even by a race)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    return os.fdopen(fd, "wb")


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
            _name_new(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _name_new(tmp: str, path: Path) -> None:
    """Give the finished file its name unless that name is taken. A hard link refuses at once
    if it is; on a filesystem without hard links (FAT, as on most USB sticks) a check just
    before the rename has to do."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{path} already exists; it is never overwritten") from None
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.EOPNOTSUPP):
            raise
        if path.exists():
            raise FileExistsError(f"{path} already exists; it is never overwritten") from None
        os.rename(tmp, path)


def write_private_file(path: Path, data: bytes) -> None:
    with private_output(path) as out:
        out.write(data)
