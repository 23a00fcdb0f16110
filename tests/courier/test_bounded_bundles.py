"""A backlog never has to travel as one tar (issue 16, item 7): `intake export`, the courier
fetch endpoint and `review fetch` write bundles of at most --max-bytes, the oldest items not yet
acknowledged first; the rest come in the next bundle."""

from __future__ import annotations

import io
import json
import random
import secrets
import time
from pathlib import Path

import pytest
import requests

from keys.bundle import ItemInfo, items_within, open_bundle, write_bundle
from keys.courier import EMPTY_BODY_SHA256, CourierRequest, sign_request
from keys.signing import SigningKey
from tests.support.courier import Courier, Reviewer, refused, run

SIGNER = SigningKey.generate()


def _written_size(items: list[ItemInfo]) -> int:
    out = io.BytesIO()
    write_bundle(out, SIGNER, items, lambda item: io.BytesIO(bytes(item.size)))
    return len(out.getvalue())


@pytest.mark.parametrize("seed", range(5))
def test_items_within_fills_a_bundle_to_its_bound_and_no_further(seed: int) -> None:
    rng = random.Random(seed)
    items = [
        ItemInfo(
            id=secrets.token_hex(16),
            source=secrets.token_hex(16),
            kind=rng.choice(["message", "file"]),
            day="2026-12-06",
            size=rng.choice([0, 1, 511, 512, rng.randrange(200_000)]),
            reply_recipient=rng.choice(["", "age1" + "q" * 58]),
            submission=rng.choice([None, secrets.token_hex(16)]),  # older bundles list none
        )
        for _ in range(30)
    ]
    for max_bytes in (1, 50_000, 200_000, 700_000, 1 << 20, 8 << 20):
        chosen = items_within(items, max_bytes, SIGNER.verify_key)
        assert chosen == items[: len(chosen)] and chosen  # the oldest first, at least one
        if len(chosen) > 1:
            assert _written_size(chosen) <= max_bytes
        if len(chosen) < len(items):
            assert _written_size(items[: len(chosen) + 1]) > max_bytes


def _submit_files(courier: Courier, count: int, size: int) -> None:
    for number in range(count):
        source = courier.server.source()
        source.start()
        files = [(f"scan{number}.bin", secrets.token_bytes(size), "application/octet-stream")]
        assert source.submit(f"tip {number}", files).status_code == 200


def test_a_backlog_travels_in_bundles_of_at_most_max_bytes(
    courier: Courier, offline: Reviewer, tmp_path: Path
) -> None:
    _submit_files(courier, count=4, size=300_000)  # 8 items: 4 messages, 4 files
    bound = 500_000  # one file and a few messages
    offline.review("trust", str(courier.instance.signing_key.verify_key))
    seen: set[str] = set()
    for trip in range(1, 10):
        bundle = tmp_path / f"bundle{trip}.tar"
        said = courier.review("fetch", "--out", bundle, "--max-bytes", bound).stdout
        with open_bundle(bundle, courier.instance.signing_key.verify_key) as fetched:
            ids = [item.id for item in fetched.items]
        assert bundle.stat().st_size <= bound or len(ids) == 1
        # The rest first: tips not carried before, then acknowledged ones in the room left.
        new = [item_id for item_id in ids if item_id not in seen]
        assert new and ids[: len(new)] == new
        seen |= set(ids)
        ack = Path(offline.review("import", bundle).stdout.strip().splitlines()[-1])
        if trip == 1:
            assert "more tips wait on the server" in said
            workspace_key = json.loads(ack.read_text())["signer"]
            add = ("reviewers", "add", workspace_key, "--name", "desk")
            run("intake", *add, "--instance", courier.instance.path)
        courier.review("ack", ack)
        if "more tips wait" not in said:
            break
    assert trip > 2 and len(seen) == 8


def test_intake_export_is_bounded_and_says_what_is_left(courier: Courier, tmp_path: Path) -> None:
    _submit_files(courier, count=3, size=300_000)
    out = tmp_path / "export.tar"
    said = run(
        "intake", "export", "--instance", courier.instance.path, "--out", out,
        "--max-bytes", 400_000,
    ).stdout  # fmt: skip
    assert out.stat().st_size <= 400_000
    with open_bundle(out, courier.instance.signing_key.verify_key) as exported:
        assert 0 < len(exported.items) < 6
        assert f"{6 - len(exported.items)} more items wait for the next bundle" in said


def _fetch(courier: Courier, query: str, signed_query: str | None = None) -> requests.Response:
    path = "/courier/v1/bundle"
    signed_path = f"{path}?{query if signed_query is None else signed_query}"
    request = CourierRequest("GET", signed_path, int(time.time()), EMPTY_BODY_SHA256)
    return requests.get(
        f"{courier.server.base_url}{path}?{query}",
        headers=sign_request(courier.key, request),
        timeout=60,
    )


def test_i8_the_fetch_bound_is_signed_and_checked(courier: Courier) -> None:
    refused(_fetch(courier, "max_bytes=1", signed_query="max_bytes=999"), 401, "does not verify")
    for bad in ("max_bytes=-1", "max_bytes=0", "max_bytes=lots", "max_bytes=" + "9" * 30):
        response = _fetch(courier, bad)
        assert response.status_code == 400, (bad, response.text)
        assert "max_bytes" in response.json()["error"]
    fine = _fetch(courier, "max_bytes=1")
    assert fine.status_code == 200 and fine.headers["Cairn-Items-Left"] == "0"
