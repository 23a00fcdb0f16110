"""Running the app under gunicorn with threads, so slow Tor uploads never block each other.

Bodies are streamed to the app as they arrive (gunicorn never buffers them to disk); there is no
access log, and the error log carries no request content (I1, I5).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import gunicorn.glogging
import gunicorn.http.wsgi
from gunicorn.app.base import BaseApplication

from .instance import load_instance

_default_headers = gunicorn.http.wsgi.Response.default_headers


def _headers_without_banner(self: Any) -> list[str]:
    return [h for h in _default_headers(self) if not h.startswith("Server:")]


# No server banner: gunicorn always writes "Server: gunicorn", and offers no setting to drop it.
gunicorn.http.wsgi.Response.default_headers = _headers_without_banner  # type: ignore[method-assign]


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


class IntakeServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, instance_path: Path, options: dict[str, Any]) -> None:
        self.instance_path = instance_path
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from . import create_app

        return create_app(load_instance(self.instance_path))


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
    courier_port = load_instance(instance_path).config.courier_port
    ports = [port, courier_port] if courier_port else [port]
    options: dict[str, Any] = {
        "bind": [f"[{host}]:{p}" if ":" in host else f"{host}:{p}" for p in ports],
        # Several intake processes (intake@PORT) can then share the one courier port.
        "reuse_port": bool(courier_port),
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
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
        "proxy_allow_ips": load_instance(instance_path).config.proxy_allow_ips,
    }
    IntakeServer(instance_path, options).run()
