"""I1: no plaintext at rest on the server. A unique canary goes in as a message, as the content
of a 20 MiB file and as that file's name, through the real gunicorn server; afterwards no byte
of it is found anywhere on disk, while the exported items decrypt back to all three (I7)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from intake.instance import Instance
from keys import age
from tests.intake.conftest import VENV_BIN, LiveServer

MIB = 1 << 20


def _files_containing(root: Path, needles: list[bytes], since: float = 0.0) -> list[str]:
    """Every file under ``root`` (modified after ``since``) that contains any needle."""
    hits = []
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            try:
                if not path.is_file() or path.stat().st_mtime < since:
                    continue
                with path.open("rb") as f:
                    tail = b""
                    while block := f.read(4 * MIB):
                        window = tail + block
                        if any(needle in window for needle in needles):
                            hits.append(str(path))
                            break
                        tail = block[-256:]
            except OSError:
                continue
    return hits


@pytest.mark.slow
def test_i1_canary_never_reaches_disk_but_decrypts(
    make_instance: Callable[..., Instance],
    start_server: Callable[..., LiveServer],
    export_and_open: Callable[[Instance], list],
    tmp_path: Path,
) -> None:
    started = time.time()
    canary = f"CANARY-{secrets.token_hex(12)}"
    message = f"The minister signed it. {canary} End of message."
    file_name = f"{canary}.pdf"
    pattern = f"{canary}\n".encode()
    content = pattern * (20 * MIB // len(pattern) + 1)

    instance = make_instance()
    server = start_server(instance)
    source = server.source()
    source.start()
    response = source.submit(message, [(file_name, content, "application/pdf")])
    assert response.status_code == 200, response.text
    assert "Your tip was received" in response.text
    server.stop()

    needles = [canary.encode(), canary.encode("utf-16-le"), canary[8:].encode()]
    places = [instance.path, server.tmpdir, tmp_path]
    if tmp := os.environ.get("TMPDIR"):
        places.append(Path(tmp))
    for place in places:
        assert _files_containing(place, needles) == [], f"plaintext found under {place}"
    assert _files_containing(Path("/tmp"), needles, since=started) == []
    assert canary not in server.log_path.read_text(errors="replace")

    opened = {header.kind: (header, data) for header, data in export_and_open(instance)}
    _, message_bytes = opened["message"]
    assert message_bytes.decode() == message
    file_header, file_bytes = opened["file"]
    assert file_header.name == file_name
    assert file_header.media_type == "application/pdf"
    assert file_bytes == content


@pytest.mark.skipif(shutil.which("age") is None, reason="the age CLI is NOT installed")
def test_i7_exported_items_open_with_the_age_cli(
    instance: Instance,
    start_server: Callable[..., LiveServer],
    reviewer: tuple[age.X25519Identity, Path, Path],
    tmp_path: Path,
) -> None:
    """A reviewer can always recover tips with the standard age tool, even without Cairn."""
    server = start_server(instance)
    source = server.source()
    source.start()
    files = [("../../secret memo.txt", b"memo body\n", "text/plain")]
    assert source.submit("hello from a source", files).status_code == 200
    bundle = tmp_path / "bundle.tar"
    subprocess.run(
        [VENV_BIN / "intake", "export", "--instance", instance.path, "--out", bundle],
        check=True,
    )
    key_file = tmp_path / "key.txt"
    key_file.write_text(f"{reviewer[0]}\n")
    with tarfile.open(bundle) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    plaintexts = [
        subprocess.run(
            ["age", "-d", "-i", str(key_file), str(item)], check=True, capture_output=True
        ).stdout
        for item in sorted((tmp_path / "x" / "items").iterdir())
    ]
    joined = b"".join(plaintexts)
    assert b"hello from a source" in joined
    assert b'"name":"secret memo.txt"' in joined
    assert b"memo body" in joined
