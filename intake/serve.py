"""Running the app under gunicorn with threads, so slow Tor uploads never block each other.

Bodies are streamed to the app as they arrive (gunicorn never buffers them to disk); there is no
access log, and the error log carries no request content (I1, I5).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any, cast

import gunicorn.glogging
import gunicorn.http.wsgi
import gunicorn.util
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from keys.core_dumps import forbid_core_dumps

from .headers import SECURITY_HEADERS
from .instance import MIB, Config, Instance, load_instance

_default_headers = gunicorn.http.wsgi.Response.default_headers


def _headers_without_banner(self: Any) -> list[str]:
    return [h for h in _default_headers(self) if not h.startswith("Server:")]


_REFUSAL_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<main>
<h1>{title}</h1>
<p class="lead">{text}</p>
<p><a href="/">Back to the start page</a></p>
</main>
</body>
</html>
"""
_REFUSED = _REFUSAL_PAGE.format(
    title="Something in that request did not work",
    text="What was sent could not be read. Nothing was stored. Please go back and try again.",
).encode()
_FAILED = _REFUSAL_PAGE.format(
    title="Something went wrong on our side", text="Please try again later."
).encode()


def _write_error(sock: socket.socket, status: int, *_what_gunicorn_would_say: str) -> None:
    """gunicorn's own refusals (a malformed request line or header, one too long), written
    before the app runs: with the security headers every page carries, and a fixed page in
    place of gunicorn's, which quotes the request (I4, I5, I8). There is no app to ask for the
    source's language, so the page is in English."""
    body = _REFUSED if status < 500 else _FAILED
    head = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Connection: close",
        "Content-Type: text/html; charset=utf-8",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in SECURITY_HEADERS.items()),
    ]
    gunicorn.util.write_nonblock(sock, "\r\n".join(head).encode() + b"\r\n\r\n" + body)


def _patch_gunicorn() -> None:
    """What gunicorn offers no setting for, changed only in the process that serves: importing
    this module changes nothing. No server banner (gunicorn always writes "Server: gunicorn"),
    and its own refusals as ``_write_error`` writes them."""
    gunicorn.http.wsgi.Response.default_headers = _headers_without_banner
    gunicorn.util.write_error = _write_error


class _Logger(gunicorn.glogging.Logger):  # type: ignore[misc]
    """Gunicorn's warning about a malformed request names the client's address and quotes the
    request (a bad header line, say): log only that one was refused (I1, I5)."""

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        if str(msg).startswith("Invalid request from"):
            msg, args = "refused a malformed request", ()
        super().warning(msg, *args, **kwargs)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """gunicorn logs "Error handling request <uri>" with a traceback: keep only the kind."""
        kind = sys.exc_info()[0]
        self.error("failed to handle a request (%s)", kind.__name__ if kind else "unknown")


class _Worker(ThreadWorker):  # type: ignore[misc]
    """gthread, with limits on slow clients that gunicorn lacks; without them a few stalled or
    trickling connections would hold every thread.

    - A connection that sends (or takes) nothing for ``idle_timeout_seconds`` is closed. The
      kernel enforces it on each read and write (SO_RCVTIMEO, SO_SNDTIMEO); the read then fails
      as a broken connection.
    - A request's line and headers must all be in within that time too, and then its body at
      ``min_upload_kib_per_second`` on average: a client sending a byte now and then would
      pass the first limit. The worker's loop cuts off a request that is late.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadlines: dict[Any, float] = {}  # connection -> when its request must be in
        self._lock = threading.Lock()

    @property
    def _config(self) -> Config:
        return cast(Config, self.app.instance.config)

    def enqueue_req(self, conn: Any) -> None:
        if not conn.initialized:
            limit = struct.pack("ll", self._config.idle_timeout_seconds, 0)
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        self._set_deadline(conn, self._config.idle_timeout_seconds)
        try:
            return super().handle(conn)
        finally:
            with self._lock:
                self._deadlines.pop(conn, None)

    def handle_request(self, req: Any, conn: Any) -> Any:
        """The head is in: the body has the idle time plus its size at the slowest rate."""
        headers = dict(req.headers)  # (gunicorn has checked them: one length, and a number)
        if "CONTENT-LENGTH" in headers:
            length = int(headers["CONTENT-LENGTH"])
        else:  # chunked: as long as the largest upload may take
            length = self._config.max_upload_mib * MIB if "TRANSFER-ENCODING" in headers else 0
        rate = self._config.min_upload_kib_per_second * 1024
        self._set_deadline(conn, self._config.idle_timeout_seconds + length / rate)
        return super().handle_request(req, conn)

    def _set_deadline(self, conn: Any, seconds: float) -> None:
        with self._lock:
            self._deadlines[conn] = time.monotonic() + seconds

    def murder_pending(self) -> None:
        """Called about once a second by the worker's loop: cut off requests that are late."""
        super().murder_pending()
        now = time.monotonic()
        with self._lock:  # (shutdown does not block; under the lock no request moves on meanwhile)
            for conn, deadline in self._deadlines.items():
                if deadline < now:
                    with contextlib.suppress(OSError):
                        conn.sock.shutdown(socket.SHUT_RDWR)  # its blocked read returns


class IntakeServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, instance: Instance, options: dict[str, Any]) -> None:
        self.instance = instance
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        return create_app(self.instance, threads=self.options["threads"])


def _announce(server: Any) -> None:
    for listener in server.LISTENERS:
        print(f"Cairn intake is listening on {listener}", file=sys.stderr, flush=True)


def serve(
    instance_path: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    threads: int = 16,
    proxy_protocol: bool = False,
) -> None:
    forbid_core_dumps()
    instance = load_instance(instance_path)
    _patch_gunicorn()
    courier_port = instance.config.courier_port
    if courier_port == port:
        raise SystemExit(
            f"intake serve: --port {port} is also the courier port (courier_port); the courier "
            "API needs a port of its own, or courier_port 0 to share the main one"
        )
    # Several intake processes (intake@PORT) share the one courier port, and only that one.
    listeners = [_listen(host, port, shared=False)]
    if courier_port:
        listeners.append(_listen(host, courier_port, shared=True))
    options: dict[str, Any] = {
        # gunicorn takes the descriptors over (and closes them): detached, so no socket object
        # here closes them again.
        "bind": [f"fd://{listener.detach()}" for listener in listeners],
        "workers": workers,
        "threads": threads,
        "worker_class": _Worker,
        "accesslog": None,
        "errorlog": "-",
        "logger_class": _Logger,
        "loglevel": "warning",
        "timeout": 120,
        "graceful_timeout": 30,
        # gunicorn's threaded worker reads the PROXY line only on a connection's first request;
        # a kept-alive connection's later requests would carry no circuit id and escape the
        # per-circuit budget (I6). Closing after each response makes Tor open a new stream,
        # which starts with a new PROXY line.
        "keepalive": 0 if proxy_protocol else 5,
        "when_ready": _announce,
        "proxy_protocol": "v1" if proxy_protocol else "off",
        # gunicorn trusts forwarding headers (SCRIPT_NAME, the forwarded scheme, ...) from
        # 127.0.0.1 by default, and behind an onion service every source connects from there:
        # nothing in front of Cairn forwards anything, so no one may set them.
        "forwarded_allow_ips": "",
        "proxy_allow_ips": instance.config.proxy_allow_ips,
    }
    IntakeServer(instance, options).run()


def _listen(host: str, port: int, shared: bool) -> socket.socket:
    """A listening socket made before gunicorn starts, so that only a shared port gets
    SO_REUSEPORT (gunicorn sets it on every port or none): a second server on a source port
    is then an error at once, not two servers taking turns with the sources."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        listener.bind((host, port))
    except OSError as err:
        listener.close()
        raise SystemExit(
            f"intake serve: cannot listen on {host}:{port} ({err.strerror}); "
            "is another server using that port?"
        ) from None
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener
