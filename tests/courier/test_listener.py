"""With a courier port configured, the courier API answers only there and the source pages only
on the main port: the public source onion cannot reach the courier API at all."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import requests

from intake.instance import Instance
from keys.courier import EMPTY_BODY_SHA256, CourierRequest, sign_request
from keys.signing import KeyKind, parse_signing_key
from tests.support.courier import run
from tests.support.intake import LiveServer
from tests.support.ports import free_port, wait_for_port


def test_courier_api_only_on_its_own_listener(
    make_instance: Callable[..., Instance],
    start_server: Callable[..., LiveServer],
    tmp_path: Path,
) -> None:
    courier_port = free_port()
    instance = make_instance(courier_port=courier_port)
    key_file = tmp_path / "courier.key"
    public = run("review", "courier", "new", "--out", key_file).stdout.strip()
    run("intake", "couriers", "add", public, "--name", "carol", "--instance", instance.path)
    key = parse_signing_key(key_file.read_text(), KeyKind.COURIER)
    server = start_server(instance)
    wait_for_port(courier_port)

    def fetch(port: int) -> requests.Response:
        path = "/courier/v1/bundle"
        signed = CourierRequest("GET", path, int(time.time()), EMPTY_BODY_SHA256)
        return requests.get(
            f"http://127.0.0.1:{port}{path}", headers=sign_request(key, signed), timeout=60
        )

    assert fetch(courier_port).status_code == 200
    assert fetch(server.port).status_code == 404  # the source port does not serve it
    assert requests.get(f"http://127.0.0.1:{courier_port}/", timeout=60).status_code == 404
    # The Host header cannot move a request to the other listener.
    spoofed = requests.get(
        f"{server.base_url}/courier/v1/bundle",
        headers={"Host": f"127.0.0.1:{courier_port}"},
        timeout=60,
    )
    assert spoofed.status_code == 404
    assert requests.get(server.base_url + "/", timeout=60).status_code == 200
