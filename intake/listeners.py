"""Which listener a request came in on: the courier API only on the courier port, the source
pages only elsewhere, so the public source onion cannot reach the courier API at all.

The port is the socket's own (the ``Host`` header could say anything). A request whose socket is
unknown (the test client) is treated as not on the courier port.
"""

from __future__ import annotations

from flask import abort, request


def _listener_port() -> int | None:
    sock = request.environ.get("gunicorn.socket")
    if sock is None:
        return None
    try:
        return int(sock.getsockname()[1])
    except (AttributeError, OSError, IndexError, TypeError, ValueError):
        return None


def route_by_listener(courier_port: int) -> None:
    on_courier_port = _listener_port() == courier_port
    if (request.blueprint == "courier") != on_courier_port:
        abort(404)
