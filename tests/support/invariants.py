"""Helpers for the invariant tests that must see past the obvious: every key-like thing in an
instance directory tried as an age identity (I2), and every file a running server holds open,
unlinked ones included, read through /proc (I1)."""

from __future__ import annotations

import base64
import binascii
import fcntl
import io
import re
import socket
import struct
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from keys import age, bech32
from keys.age import Header, parse_header

MIB = 1 << 20

# Anything that might encode 32 bytes: bech32 strings (any HRP, AGE-SECRET-KEY-1... included),
# hex and base64 / base64url.
_BECH32 = re.compile(rb"[!-~]{1,83}1[02-9ac-hj-np-zAC-HJ-NP-Z]{6,}")
_HEX = re.compile(rb"(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])")
_BASE64 = re.compile(rb"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{43}=?(?![A-Za-z0-9+/_-])")


def candidate_scalars(data: bytes) -> Iterator[bytes]:
    """Every 32-byte value a file could hold as a key: the raw file if it is 32 bytes (or 32
    bytes and a newline), and each bech32, hex or base64 string in it that decodes to 32 bytes."""
    if len(data.rstrip(b"\n")) == 32:
        yield data.rstrip(b"\n")
    if len(data) == 32:
        yield data
    for match in _BECH32.finditer(data):
        text = match.group().decode("ascii")
        # The HRP ends at the last "1": try every split the regex may have glued on in front.
        for start in range(len(text)):
            try:
                _, decoded = bech32.decode(text[start:])
            except (bech32.Bech32Error, ValueError):
                continue
            if len(decoded) == 32:
                yield decoded
            break
    for match in _HEX.finditer(data):
        yield binascii.unhexlify(match.group())
    for match in _BASE64.finditer(data):
        raw = match.group().rstrip(b"=")
        try:
            decoded = base64.urlsafe_b64decode(raw.replace(b"+", b"-").replace(b"/", b"_") + b"=")
        except (binascii.Error, ValueError):
            continue
        if len(decoded) == 32:
            yield decoded


def identities_in(directory: Path) -> dict[str, list[age.X25519Identity]]:
    """File name -> every X25519 identity that file's contents could be taken as."""
    found: dict[str, list[age.X25519Identity]] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            found[str(path.relative_to(directory))] = [
                age.X25519Identity(scalar)
                for scalar in dict.fromkeys(candidate_scalars(path.read_bytes()))
            ]
    return found


def age_header(ciphertext: bytes) -> Header:
    return parse_header(io.BytesIO(ciphertext))


def open_descriptors(pids: list[int]) -> list[tuple[int, str, str]]:
    """(pid, /proc fd path, readlink target) of every regular file the processes hold open."""
    found = []
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            entries = list(fd_dir.iterdir())
        except OSError:
            continue
        for entry in entries:
            try:
                target = str(entry.readlink())
                if not entry.is_file():  # follows the link: sockets, pipes and devices are not
                    continue
            except OSError:
                continue
            found.append((pid, str(entry), target))
    return found


def server_pids(master: int) -> list[int]:
    """The gunicorn master and all its children (workers)."""
    try:
        process = psutil.Process(master)
        return [master, *(child.pid for child in process.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


def file_contains(path: str | Path, needles: list[bytes]) -> bool:
    """Whether the file (a /proc fd path works too, deleted or not) holds any needle."""
    try:
        with open(path, "rb") as f:
            tail = b""
            while block := f.read(4 * MIB):
                window = tail + block
                if any(needle in window for needle in needles):
                    return True
                tail = block[-256:]
    except OSError:
        return False
    return False


def _tcp_queues(local_port: int, remote_port: int) -> tuple[int, int] | None:
    """(tx_queue, rx_queue) of the loopback TCP socket local_port -> remote_port, if any."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, queues = fields[1], fields[2], fields[4]
            if (
                int(local.rsplit(":", 1)[1], 16) == local_port
                and int(remote.rsplit(":", 1)[1], 16) == remote_port
            ):
                tx, rx = queues.split(":")
                return int(tx, 16), int(rx, 16)
    return None


def wait_until_consumed(sock: socket.socket, server_port: int, timeout: float = 60.0) -> None:
    """Until everything sent on ``sock`` has been read by the server process: nothing left in
    our send queue nor in the server socket's receive queue (so it sits in the app, or on disk
    if the app spools it)."""
    client_port = sock.getsockname()[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        unsent = struct.unpack("i", fcntl.ioctl(sock, termios.TIOCOUTQ, b"\0" * 4))[0]
        server_side = _tcp_queues(server_port, client_port)
        if unsent == 0 and server_side is not None and server_side[1] == 0:
            time.sleep(0.3)  # let the worker finish handling the last chunk it read
            return
        time.sleep(0.05)
    raise TimeoutError("the server did not read the upload's first part")


def core_size_limit(pid: int) -> tuple[str, str]:
    """The soft and hard core file size limits of a process, as the kernel shows them."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            soft, hard = line.split()[4:6]
            return soft, hard
    raise AssertionError(f"no core size limit for process {pid}")
