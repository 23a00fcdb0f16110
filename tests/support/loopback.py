"""A stand-in courier server on the loopback interface that answers as a test tells it to, and
the courier's ``review`` commands run in-process against it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from click.testing import CliRunner, Result

from review.cli import main

Answer = Callable[[BaseHTTPRequestHandler], None]


class Loopback:
    """A server on 127.0.0.1 that gives every request ``answer``; ``paths`` records them."""

    def __init__(self, answer: Answer) -> None:
        self.paths: list[str] = []
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                loopback.paths.append(self.path)
                answer(self)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.do_GET()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()


def courier(server: Loopback, key: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--server", server.url, "--courier-key", str(key)])
