"""Serving the desk on 127.0.0.1 with werkzeug's threaded server, until Ctrl-C or the lock.

Request bodies are read from the socket into memory (the desk takes no uploads, and refuses
multipart bodies, the only kind werkzeug spools to a temporary file). No request is logged:
a logged address could carry the launch token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import Desk

HOST = "127.0.0.1"
IDLE_CHECK_SECONDS = 5.0


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Nothing: see the module's docstring."""


def listen(app: Flask, port: int = 0) -> BaseWSGIServer:
    """The desk's server bound to 127.0.0.1:``port`` (any free port for 0), not yet serving."""
    server = make_server(HOST, port, app, threaded=True, request_handler=_QuietHandler)
    desk: Desk = app.extensions["desk"]
    desk.gate.host = f"{HOST}:{server.server_port}"
    return server


def serve(app: Flask, server: BaseWSGIServer, announce: Callable[[str], None]) -> None:
    """Serve ``app`` on ``server`` until Ctrl-C or until the desk locks itself; the key is
    dropped either way. Meanwhile every tip is decrypted into memory, for search."""
    desk: Desk = app.extensions["desk"]
    keyring = desk.keyring

    def close_when_locked() -> None:
        while not keyring.locked_event.wait(IDLE_CHECK_SECONDS):
            keyring.check_idle()
        server.shutdown()

    watcher = threading.Thread(target=close_when_locked, name="desk-lock", daemon=True)
    watcher.start()
    keyring.warm_in_background()
    announce(desk.gate.launch_address())
    try:
        server.serve_forever()
    finally:
        keyring.lock()
        server.server_close()
