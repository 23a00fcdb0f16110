"""Replies: sealed to the source and to the reviewer, carried out in a signed reply bundle."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from keys import age
from keys.bundle import BundleError, open_bundle
from keys.sealed import open_item
from keys.signing import KeyKind, SigningKey, parse_verify_key
from tests.support.review import Review, Reviewer, TipSpec, make_bundle

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
    with open_bundle(
        bundle_path, parse_verify_key(signer, KeyKind.REVIEWER), kind="replies"
    ) as bundle:
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
    with open_bundle(out, parse_verify_key(signer, KeyKind.REVIEWER), kind="replies") as bundle:
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


def sources_of(review: Review) -> dict[str, dict[str, Any]]:
    sources: Any = review.json("sources")
    return {source["id"]: source for source in sources}


def test_i12_a_bundle_that_changes_a_reply_recipient_is_refused_whole(
    replying: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    """A compromised server rewrites srcA's reply recipient to its own key; the next bundle is
    refused, loudly and by name, and nothing of it is imported: not even a good tip beside it."""
    attacker = age.X25519Identity.generate()
    tips = [
        TipSpec("t3", "srcC", b"A new source, innocently."),
        TipSpec("t4", "srcA", b"Did you get it?", reply_recipient=str(attacker.recipient)),
    ]
    bundle = make_bundle(tmp_path / "next.tar", server, tips, [offline_reviewer.identity.recipient])
    before = sources_of(replying)
    tips_before: Any = replying.json("tips")
    error = replying.fails("import", str(bundle))
    assert f"the source {before['srcA']['pseudonym']} another reply recipient" in error
    assert "nothing was imported" in error
    assert replying.json("tips") == tips_before
    assert sources_of(replying) == before
    assert sorted(p.name for p in (replying.workspace / "tips").iterdir()) == ["t1.age", "t2.age"]
    assert not (tmp_path / "next.ack.json").exists()
    replying("reply", "srcA", input="Still only for you.")
    out = tmp_path / "replies.tar"
    signer = replying("outbox", "--out", str(out)).stdout.strip().split()[-1].rstrip(".")
    (reply,) = replying.json("outbox")
    assert opened(out, signer, reply["id"], SOURCE) == "Still only for you."
    with pytest.raises(age.NoIdentityMatchError):
        opened(out, signer, reply["id"], attacker)


def test_i12_a_reply_recipient_is_pinned_at_first_sight(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    """Two recipients for one new source in one bundle: the first seen is the pin."""
    recipients = [offline_reviewer.identity.recipient]
    other = str(age.X25519Identity.generate().recipient)
    twice = [
        TipSpec("n1", "srcN", b"First.", reply_recipient=str(SOURCE.recipient)),
        TipSpec("n2", "srcN", b"Second.", reply_recipient=other),
    ]
    error = review.fails("import", str(make_bundle(tmp_path / "a.tar", server, twice, recipients)))
    assert "the new source srcN another reply recipient" in error
    assert review.json("tips") == []

    review("import", str(make_bundle(tmp_path / "b.tar", server, twice[:1], recipients)))
    silent = [TipSpec("n3", "srcN", b"No recipient given this time.")]
    review("import", str(make_bundle(tmp_path / "c.tar", server, silent, recipients)))
    assert sources_of(review)["srcN"]["can_reply"]  # a bundle that names none keeps the pin
    same = [TipSpec("n4", "srcN", b"Same key again.", reply_recipient=str(SOURCE.recipient))]
    review("import", str(make_bundle(tmp_path / "d.tar", server, same, recipients)))
    assert len(review.json("tips")) == 3


def test_i12_a_reply_recipient_that_is_not_an_age_recipient_is_refused(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> None:
    tips = [TipSpec("x1", "srcX", b"Hello.", reply_recipient="age1-not-a-key\x1b[2J")]
    bundle = make_bundle(tmp_path / "x.tar", server, tips, [offline_reviewer.identity.recipient])
    error = review.fails("import", str(bundle))
    assert "item x1 gives its source a reply recipient that is not an age recipient" in error
    assert review.json("tips") == []
