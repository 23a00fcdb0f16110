"""Every listing prints a table for people and, with --json, JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keys import age
from keys.signing import SigningKey
from tests.support.review import Review, Reviewer, TipSpec, make_bundle

LISTINGS = [("tips",), ("sources",), ("claims",), ("suggest",), ("outbox",), ("show", "m1")]


@pytest.fixture
def busy(review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path) -> Review:
    source = age.X25519Identity.generate().recipient
    tips = [
        TipSpec(
            "m1", "srcA", b"The same words here, copied from one memo.", reply_recipient=str(source)
        ),
        TipSpec("m2", "srcB", b"The same words here, copied from one memo."),
        TipSpec("f1", "srcB", b"\x89PNG...", kind="file", name="photo.png", media_type="image/png"),
    ]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    review("claim", "add", "A claim")
    review("link", "m1", "1", "--supports", "--basis", "firsthand", "--quote", "copied")
    review("relate", "srcA", "srcB", "--shared-origin", "--note", "same memo")
    review("unrelate", "srcA", "srcB")
    review("note", "m1", "a note")
    review("reply", "srcA", input="Thank you.")
    return review


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda args: " ".join(args))
def test_a_listing_prints_a_table_and_json(busy: Review, listing: tuple[str, ...]) -> None:
    table = busy(*listing).stdout
    assert table.strip() and "Traceback" not in table
    parsed = json.loads(busy(*listing, "--json").stdout)
    assert parsed, f"review {' '.join(listing)} --json is empty"
