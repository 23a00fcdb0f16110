"""The review agent: the reviewer's identity kept in memory for a while, as ssh-agent keeps keys.

``review unlock`` asks the passphrase once and starts the agent, a process of its own that holds
the identity until ``review lock`` or its timeout. Every command then asks the agent instead of
the passphrase. The agent never hands the identity out: a command sends it the stanzas of an
age file's header and gets back that file's key (``AgentIdentity``), which is all an identity
does. So what a command, or anything else running as the reviewer, takes from the agent opens
the files it asked about, and nothing once the agent has gone; the identity itself is in one
process only, with core dumps off (``keys.core_dumps``) and its memory locked (``process_memory``).

Only the reviewer's own processes reach it: the socket is made owner-only (0600) in an
owner-only directory (0700) under ``$XDG_RUNTIME_DIR`` (or the temporary directory), and the
agent checks each peer's user id with SO_PEERCRED. A client, in turn, refuses a socket or a
directory that is not the user's own and owner-only: someone else's "agent" could lie about the
recipient that replies are sealed to.

One request per connection, one JSON line each way:
``{"op": "recipient"}``, ``{"op": "unwrap", "stanzas": [...]}``, ``{"op": "lock"}``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from keys import age
from keys.core_dumps import forbid_core_dumps

from .process_memory import lock_memory

DEFAULT_MINUTES = 30
_MAX_MESSAGE = 1 << 20
_PEER_TIMEOUT = 5.0  # seconds a connected client has to send its request


class AgentError(Exception):
    """The agent cannot be used or started; the message is one actionable line."""


def socket_dir() -> Path:
    """Where agents listen: ``$XDG_RUNTIME_DIR/cairn``, else ``/tmp/cairn-UID``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "cairn"
    return Path(tempfile.gettempdir()) / f"cairn-{os.getuid()}"


def socket_path(identity_path: Path) -> Path:
    """The socket of the agent holding the identity in ``identity_path`` (one per identity)."""
    name = str(identity_path.expanduser().absolute()).encode()
    return socket_dir() / f"agent-{hashlib.sha256(name).hexdigest()[:16]}.sock"


def check_owner_only(path: Path, kind: str) -> None:
    """Refuse ``path`` unless it is a ``kind`` ("directory" or "socket") of this user's that
    no one else may use (no symbolic link followed)."""
    found = os.lstat(path)
    is_kind = stat.S_ISDIR if kind == "directory" else stat.S_ISSOCK
    if not is_kind(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        raise AgentError(
            f"{path} is not an owner-only {kind} of yours, so the agent there is not trusted; "
            "remove it and run `review unlock` again"
        )


# The agent's side.


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _read_line(conn: socket.socket) -> bytes:
    data = bytearray()
    while not data.endswith(b"\n") and len(data) <= _MAX_MESSAGE:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _stanza(fields: dict[str, Any]) -> age.Stanza:
    return age.Stanza(
        str(fields["type"]),
        tuple(str(arg) for arg in fields["args"]),
        base64.b64decode(fields["body"], validate=True),
    )


def _answer(request: dict[str, Any], identity: age.X25519Identity) -> dict[str, Any]:
    op = request.get("op")
    if op == "recipient":
        return {"recipient": str(identity.recipient)}
    if op == "lock":
        return {"locked": True}
    if op == "unwrap":
        try:
            file_key = identity.unwrap([_stanza(fields) for fields in request["stanzas"]])
        except age.HeaderError as err:
            return {"error": str(err)}
        return {"file_key": None if file_key is None else base64.b64encode(file_key).decode()}
    return {"error": "not a request the agent knows"}


def _serve_one(conn: socket.socket, identity: age.X25519Identity, path: Path) -> bool:
    """Answer one client of this user's; whether it asked the agent to lock (then the socket
    is gone before the answer, so no command finds it after `review lock`)."""
    if _peer_uid(conn) != os.getuid():
        return False  # another user: no answer at all
    conn.settimeout(_PEER_TIMEOUT)
    try:
        request = json.loads(_read_line(conn))
        answer = _answer(request, identity) if isinstance(request, dict) else {}
    except (ValueError, KeyError, TypeError, OSError):
        answer = {"error": "a malformed request"}
    locked = answer.get("locked") is True
    if locked:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # the client went away; the agent carries on
        conn.sendall(json.dumps(answer).encode() + b"\n")
    return locked


def serve(path: Path, identity: age.X25519Identity, seconds: float) -> None:
    """Answer this user's commands at ``path`` until locked or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        previous = os.umask(0o177)
        try:
            listener.bind(str(path))
        finally:
            os.umask(previous)
        try:
            listener.listen()
            while (left := deadline - time.monotonic()) > 0:
                listener.settimeout(left)
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    break
                with conn:
                    if _serve_one(conn, identity, path):
                        break
        finally:
            path.unlink(missing_ok=True)


def _main(path: str, seconds: str) -> None:
    """The agent process: the identity comes on standard input, never on the command line."""
    forbid_core_dumps()  # before the identity is read: no dump or ptrace ever sees it
    identity = age.parse_identity(sys.stdin.readline().strip())
    sys.stdin.close()
    warning = lock_memory()
    sys.stdout.write(f"ready {warning or ''}\n")
    sys.stdout.close()
    os.close(1)
    serve(Path(path), identity, float(seconds))


# The commands' side.


def _ask(path: Path, request: dict[str, Any]) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(_PEER_TIMEOUT)
        conn.connect(str(path))
        conn.sendall(json.dumps(request).encode() + b"\n")
        reply = _read_line(conn)
    try:
        answer = json.loads(reply)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise AgentError(f"the agent at {path} gave no answer; run `review unlock` again")
    return answer


class AgentIdentity:
    """The reviewer's identity as the agent holds it: unwrapping is done there, not here."""

    def __init__(self, path: Path, recipient: age.X25519Recipient) -> None:
        self._path = path
        self.recipient = recipient

    def unwrap(self, stanzas: Sequence[age.Stanza]) -> bytes | None:
        fields = [
            {"type": s.type, "args": list(s.args), "body": base64.b64encode(s.body).decode()}
            for s in stanzas
        ]
        try:
            answer = _ask(self._path, {"op": "unwrap", "stanzas": fields})
        except OSError as err:
            raise AgentError(
                f"the agent stopped ({err.strerror or err}); run `review unlock` again"
            ) from None
        if "error" in answer:
            raise age.HeaderError(str(answer["error"]))
        file_key = answer.get("file_key")
        return None if file_key is None else base64.b64decode(file_key)


def _running(path: Path) -> bool:
    if not os.path.lexists(path):
        return False
    check_owner_only(path.parent, "directory")
    check_owner_only(path, "socket")
    return True


def connect(identity_path: Path) -> AgentIdentity | None:
    """The identity as the running agent holds it, or None when no agent holds it."""
    path = socket_path(identity_path)
    if not _running(path):
        return None
    try:
        answer = _ask(path, {"op": "recipient"})
    except (ConnectionRefusedError, FileNotFoundError):
        return None  # an agent that is gone left its socket behind
    except OSError as err:
        raise AgentError(f"cannot reach the agent at {path} ({err.strerror or err})") from None
    try:
        return AgentIdentity(path, age.parse_recipient(str(answer.get("recipient"))))
    except ValueError:
        raise AgentError(f"the agent at {path} names no recipient; run `review lock`") from None


def lock(identity_path: Path) -> bool:
    """Ask the agent holding this identity to forget it and exit; whether one was running."""
    path = socket_path(identity_path)
    if not _running(path):
        return False
    try:
        _ask(path, {"op": "lock"})
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)
        return False
    return True


def start(identity: age.X25519Identity, identity_path: Path, seconds: float) -> str | None:
    """Start an agent holding ``identity`` for ``seconds``, replacing one that held it; returns
    a warning line when its memory could not be locked."""
    directory = socket_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    check_owner_only(directory, "directory")
    lock(identity_path)
    path = socket_path(identity_path)
    path.unlink(missing_ok=True)  # a socket its agent left behind (killed)
    agent = subprocess.Popen(  # noqa: S603 -- this interpreter, this module, no shell
        [sys.executable, "-m", "review.agent", str(path), str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd="/",  # holds no directory (a removable disk) busy
        start_new_session=True,  # outlives the command that started it, and its terminal
    )
    assert agent.stdin is not None and agent.stdout is not None  # noqa: S101 -- PIPE given
    with agent.stdin:
        agent.stdin.write(f"{identity}\n".encode())
    with agent.stdout:
        ready = agent.stdout.readline().decode()
    if not ready.startswith("ready"):
        raise AgentError("the agent did not start; run `review unlock` again")
    while not os.path.exists(path):  # it binds right after saying ready
        if agent.poll() is not None:
            raise AgentError("the agent stopped as it started; run `review unlock` again")
        time.sleep(0.01)
    return ready.removeprefix("ready").strip() or None


if __name__ == "__main__":
    _main(*sys.argv[1:3])
