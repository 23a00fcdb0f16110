"""I1: no plaintext at rest on the server. A unique canary goes in as a message, as the content
of a 20 MiB file and as that file's name, through the real gunicorn server; midway through the
upload no file the server's processes hold open (unlinked spool files included) holds it, and
afterwards no byte of it is found anywhere on disk, while the exported items decrypt back to all
three (I7)."""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from intake.instance import Instance
from intake.sessions import COOKIE_NAME
from keys import age
from tests.support.intake import VENV_BIN, LiveServer
from tests.support.invariants import (
    file_contains,
    open_descriptors,
    server_pids,
    wait_until_consumed,
)

MIB = 1 << 20


BOUNDARY = "cairn-canary-boundary"


def _multipart(parts: list[tuple[str, str | None, str, bytes]]) -> bytes:
    """A multipart/form-data body: (field, file name or None, media type, content) per part."""
    chunks = []
    for name, filename, media_type, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        chunks.append(f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode())
        if media_type:
            chunks.append(f"Content-Type: {media_type}\r\n".encode())
        chunks += [b"\r\n", content, b"\r\n"]
    return b"".join([*chunks, f"--{BOUNDARY}--\r\n".encode()])


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

    needles = [canary.encode(), canary.encode("utf-16-le"), canary[8:].encode()]
    instance = make_instance()
    server = start_server(instance)
    source = server.source()
    source.start()
    source.get("/submit")
    body = _multipart(
        [
            ("csrf_token", None, "", source.csrf.encode()),
            ("website", None, "", b""),
            ("message", None, "", message.encode()),
            ("files", file_name, "application/pdf", content),
        ]
    )
    # Stop mid-body, several MiB into the file, and look while the upload is in flight: a
    # spool file made and unlinked (tempfile.TemporaryFile) is only visible now, through the
    # descriptors of the server's processes.
    paused_at = body.index(content) + 8 * MIB
    with socket.create_connection(("127.0.0.1", server.port), timeout=120) as sock:
        head = (
            "POST /submit HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            f"Cookie: {COOKIE_NAME}={source.http.cookies[COOKIE_NAME]}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        sock.sendall(head.encode() + body[:paused_at])
        wait_until_consumed(sock, server.port)

        pids = server_pids(server.process.pid)
        assert len(pids) >= 2, "no gunicorn worker found"  # the master and a worker at least
        held = open_descriptors(pids)
        assert held, "no open regular file found in the server's processes"
        in_flight = [(fd, target) for _, fd, target in held if file_contains(fd, needles)]
        assert in_flight == [], "plaintext in a file the server holds open mid-upload"
        for place in (server.tmpdir, instance.path):
            assert _files_containing(place, needles) == [], f"plaintext under {place} mid-upload"

        sock.sendall(body[paused_at:])
        response = http.client.HTTPResponse(sock)
        response.begin()
        page = response.read().decode()
    assert response.status == 200, page
    assert "Your tip was received" in page
    server.stop()

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
