"""Running the app under gunicorn with threads, so slow Tor uploads never block each other.

Bodies are streamed to the app as they arrive (gunicorn never buffers them to disk); there is no
access log, and the error log carries no request content (I1, I5).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import gunicorn.http.wsgi
from gunicorn.app.base import BaseApplication

from .instance import load_instance

_default_headers = gunicorn.http.wsgi.Response.default_headers


def _headers_without_banner(self: Any) -> list[str]:
    return [h for h in _default_headers(self) if not h.startswith("Server:")]


# No server banner: gunicorn always writes "Server: gunicorn", and offers no setting to drop it.
gunicorn.http.wsgi.Response.default_headers = _headers_without_banner  # type: ignore[method-assign]


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
    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 120,
        "graceful_timeout": 30,
        "keepalive": 5,
        "when_ready": _announce,
        "proxy_protocol": "v1" if proxy_protocol else "off",
        "proxy_allow_ips": "127.0.0.1,::1",
    }
    IntakeServer(instance_path, options).run()
