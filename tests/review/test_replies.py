"""Replies: sealed to the source and to the reviewer, carried out in a signed reply bundle."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from keys import age
from keys.bundle import BundleError, open_bundle
from keys.sealed import open_item
from keys.signing import SigningKey, parse_verify_key

from .conftest import Review, Reviewer, TipSpec, make_bundle

SOURCE = age.X25519Identity.generate()  # stands in for the key the server derives from a codename


@pytest.fixture
def replying(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> Review:
    tips = [
        TipSpec("t1", "srcA", b"Can you hear me?", reply_recipient=str(SOURCE.recipient)),
        TipSpec("t2", "srcB", b"No way back to me."),
    ]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    return review


def opened(bundle_path: Path, signer: str, item_id: str, identity: age.X25519Identity) -> str:
    with open_bundle(bundle_path, parse_verify_key(signer), kind="replies") as bundle:
        (item,) = [item for item in bundle.items if item.id == item_id]
        sealed = io.BytesIO()
        bundle.copy_item(item, sealed)
    content = io.BytesIO()
    header = open_item(io.BytesIO(sealed.getvalue()), content, [identity])
    assert header.kind == "reply"
    return content.getvalue().decode()


def test_a_reply_reaches_the_source_and_stays_readable_by_the_reviewer(
    replying: Review, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    replying("reply", "srcA", input="Yes. Please send the memo.\n")
    message = tmp_path / "reply.txt"
    message.write_text("A second reply, from a file.")
    replying("reply", "srcA", "--file", str(message))
    outbox: Any = replying.json("outbox")
    assert sorted(r["text"] for r in outbox) == [
        "A second reply, from a file.",
        "Yes. Please send the memo.",
    ]

    out = tmp_path / "replies.tar"
    result = replying("outbox", "--out", str(out))
    signer = result.stdout.strip().split()[-1].rstrip(".")
    assert "Wrote 2 replies" in result.stderr
    for reply in outbox:
        assert opened(out, signer, reply["id"], SOURCE) == reply["text"]
        assert opened(out, signer, reply["id"], offline_reviewer.identity) == reply["text"]
    with pytest.raises(BundleError, match="signature does not verify"):
        open_bundle(out, SigningKey.generate().verify_key, kind="replies")
    with open_bundle(out, parse_verify_key(signer), kind="replies") as bundle:
        assert {item.source for item in bundle.items} == {"srcA"}
        assert {item.reply_recipient for item in bundle.items} == {str(SOURCE.recipient)}

    again = tmp_path / "again.tar"
    assert replying("outbox", "--out", str(again)).stdout.strip().endswith(f"{signer}.")
    assert len(replying.json("outbox")) == 2  # kept until confirmed


def test_no_reply_without_a_reply_recipient(replying: Review) -> None:
    assert "gave no reply recipient" in replying.fails("reply", "srcB", input="hello")
    assert "the reply is empty" in replying.fails("reply", "srcA", input=" \n")


def test_i8_a_reply_that_cannot_reach_its_source_is_refused_before_it_is_written(
    replying: Review,
) -> None:
    # The recipient is checked first: were the reply read first, this one would be "empty".
    assert "gave no reply recipient" in replying.fails("reply", "srcB", input="")
    assert replying.json("outbox") == []


def test_an_empty_outbox_writes_nothing(replying: Review, tmp_path: Path) -> None:
    out = tmp_path / "replies.tar"
    assert "the outbox is empty" in replying.fails("outbox", "--out", str(out))
    assert not out.exists()
