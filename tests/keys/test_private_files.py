"""Files both wings write (keys, bundles, sealed files, exports): owner-only, all or nothing,
never overwriting unless asked (I9); also on a filesystem without hard links, such as a USB
stick's FAT, which cannot be mounted here, so a failing ``os.link`` stands in for it."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from keys.private_files import open_new, private_output


def write(path: Path, data: bytes, overwrite: bool = False) -> None:
    with private_output(path, overwrite=overwrite) as out:
        out.write(data)


@pytest.fixture(params=["hard links", "no hard links"])
def filesystem(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "no hard links":

        def refuse(*_: object) -> None:
            raise PermissionError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "link", refuse)
    return str(request.param)


def test_i9_a_new_file_is_owner_only_and_never_overwritten(tmp_path: Path, filesystem: str) -> None:
    path = tmp_path / "report.md"
    write(path, b"first")
    assert path.read_bytes() == b"first"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError, match="never overwritten"):
        write(path, b"second")
    assert path.read_bytes() == b"first"
    write(path, b"second", overwrite=True)
    assert path.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]  # no partial file left


def test_i9_a_failed_write_leaves_nothing(tmp_path: Path, filesystem: str) -> None:
    path = tmp_path / "report.md"
    with pytest.raises(RuntimeError), private_output(path, overwrite=False) as out:
        out.write(b"half")
        raise RuntimeError("the report failed halfway")
    assert list(tmp_path.iterdir()) == []


def test_open_new_is_owner_only_and_never_overwrites(tmp_path: Path) -> None:
    """I9: a new key file is readable by its owner only, and an existing one is never replaced."""
    path = tmp_path / "secret.key"
    with open_new(path) as out:
        out.write(b"first")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        open_new(path)
    assert path.read_bytes() == b"first"
    public = tmp_path / "public.key"
    open_new(public, 0o644).close()
    assert stat.S_IMODE(public.stat().st_mode) == 0o644 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
