"""Codenames, the keys derived from them, and the gate on concurrent derivations."""

from __future__ import annotations

import hashlib
import io
import math
import threading
import time
from collections.abc import Iterator

import pytest
from nacl.pwhash import argon2id

from keys import age
from keys import codename as cn
from keys.age.primitives import hkdf_sha256
from keys.codename import (
    KdfBusyError,
    KdfGate,
    KdfParams,
    SourceKeys,
    derive_source_keys,
    generate_codename,
    new_pepper,
    normalize_codename,
    wordlist,
)

LIGHT = KdfParams(opslimit=argon2id.OPSLIMIT_MIN, memlimit=argon2id.MEMLIMIT_MIN)
PEPPER = bytes(range(32))
CODENAME = "abacus abdomen abdominal zoology zoom yo-yo t-shirt"


def derive(codename: str = CODENAME, pepper: bytes = PEPPER) -> SourceKeys:
    return derive_source_keys(codename, pepper, LIGHT)


def seal_to(recipient: age.X25519Recipient, plaintext: bytes) -> bytes:
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, [recipient])
    return out.getvalue()


def open_with(identity: age.Identity, ciphertext: bytes) -> bytes:
    out = io.BytesIO()
    age.decrypt(io.BytesIO(ciphertext), out, [identity])
    return out.getvalue()


# The word list


def test_the_eff_list_is_the_eff_large_list_unchanged() -> None:
    words = cn.eff_wordlist()
    assert len(words) == cn.EFF_LIST_SIZE == 7776
    assert len(set(words)) == 7776
    assert all(word == word.lower() and word.strip() and " " not in word for word in words)
    assert (words[0], words[-1]) == ("abacus", "zoom")
    digest = hashlib.sha256("".join(w + "\n" for w in words).encode()).hexdigest()
    assert digest == "6d557f0693958fb5e650b68b5bee585eb82cf4da32965505c789e924743bc522"


def test_seven_words_carry_at_least_90_bits() -> None:
    assert cn.MIN_WORDS * math.log2(len(wordlist())) >= 90
    assert cn.MIN_WORDS * math.log2(cn.MIN_WORDLIST_SIZE) >= 90
    assert cn.MIN_WORDS * math.log2(cn.MIN_WORDLIST_SIZE - 1) < 90  # the bound is tight


DENIED = cn._words("denied.txt")


def test_no_offensive_or_distressing_word_can_be_drawn() -> None:
    """Issue 19, item 10: the words of denied.txt are gone from the list codenames come from,
    and from a large sample of generated codenames."""
    assert {"evil", "prison", "poison", "graveyard", "hate", "widow"} <= set(DENIED)
    assert len(DENIED) > 100 and set(DENIED) <= set(cn.eff_wordlist())
    assert not set(DENIED) & set(wordlist())
    assert len(wordlist()) == cn.EFF_LIST_SIZE - len(DENIED)
    drawn = {word for _ in range(3000) for word in generate_codename().split()}
    assert len(drawn) > 7000 and not drawn & set(DENIED)


def test_a_codename_with_a_word_denied_later_still_derives_the_same_keys() -> None:
    """Logging in never looks at the list: an old codename holding a now-denied word works."""
    old = "abacus evil prison zoology zoom yo-yo t-shirt"
    assert derive(old).lookup_id == derive(f"  {old.upper()} ").lookup_id
    assert derive(old).lookup_id != derive(CODENAME).lookup_id


# Generating and normalizing codenames


def test_codename_is_seven_words_from_the_list() -> None:
    known = set(wordlist())
    for _ in range(20):
        words = generate_codename().split(" ")
        assert len(words) == 7
        assert all(word in known for word in words)


def test_codename_may_be_longer_but_never_shorter() -> None:
    assert len(generate_codename(9).split(" ")) == 9
    for words in (0, 1, 6):
        with pytest.raises(ValueError, match="at least 7"):
            generate_codename(words)


def test_codenames_differ_across_calls() -> None:
    # 200 codenames of ~90 bits: a repeat has probability ~2^-76. 1,400 words drawn from 7,776 hit
    # well over 1,000 distinct ones unless the choice is broken (expected ~1,290; a fixed or
    # low-entropy choice gives a handful).
    codenames = [generate_codename() for _ in range(200)]
    assert len(set(codenames)) == 200
    assert len({word for c in codenames for word in c.split(" ")}) > 1000


def test_codenames_are_normalized_already() -> None:
    codename = generate_codename()
    assert normalize_codename(codename) == codename


@pytest.mark.parametrize(
    "typed",
    [
        "Abacus Abdomen abdominal zoology zoom yo-yo t-shirt",
        "  abacus   abdomen abdominal zoology zoom yo-yo t-shirt  ",
        "ABACUS\tabdomen\nabdominal zoology  zoom yo-yo T-SHIRT\n",
        "abacus\u00a0abdomen abdominal zoology zoom yo-yo t-shirt",
    ],
)
def test_normalization_forgives_case_and_spacing(typed: str) -> None:
    assert normalize_codename(typed) == CODENAME
    assert derive(typed).lookup_id == derive().lookup_id


def test_normalization_does_not_check_membership() -> None:
    assert normalize_codename("Not  In The List") == "not in the list"


# Deriving the source's keys


def test_derivation_is_deterministic() -> None:
    first, second = derive(), derive()
    assert first.lookup_id == second.lookup_id
    assert str(first.reply_identity) == str(second.reply_identity)
    assert first.reply_identity.recipient == second.reply_identity.recipient


def test_derivation_matches_its_construction() -> None:
    """Pinned: changing the derivation would lock every existing source out."""
    salt = hashlib.blake2b(PEPPER, digest_size=16, person=b"cairn-kdf-salt").digest()
    stretched = argon2id.kdf(
        32, CODENAME.encode(), salt, opslimit=LIGHT.opslimit, memlimit=LIGHT.memlimit
    )
    keys = derive()
    assert keys.lookup_id == hkdf_sha256(stretched, PEPPER, b"cairn/v1/source-lookup-id").hex()
    secret = hkdf_sha256(stretched, PEPPER, b"cairn/v1/source-reply-identity")
    assert str(keys.reply_identity) == str(age.X25519Identity(secret))
    assert keys.lookup_id == "f9f8a0a41a68e75ccbf6221bb2f6b046a324ad153165c3c725fdddd32f93e614"
    assert str(keys.reply_identity.recipient) == (
        "age1pqpua6jsnj4c9ww5dcegygnatl57ezfftqq7tgstjtj8xg4qdpgqv7e2m7"
    )


def test_default_params_are_memory_hard() -> None:
    assert cn.DEFAULT_PARAMS.memlimit == 64 * 1024 * 1024
    assert cn.DEFAULT_PARAMS.opslimit >= argon2id.OPSLIMIT_INTERACTIVE


def test_a_different_pepper_gives_different_keys() -> None:
    base, other = derive(), derive(pepper=bytes(range(1, 33)))
    assert other.lookup_id != base.lookup_id
    assert other.reply_identity.recipient != base.reply_identity.recipient


def test_a_different_codename_gives_different_keys() -> None:
    base, other = derive(), derive(CODENAME.replace("zoom", "zoology"))
    assert other.lookup_id != base.lookup_id
    assert other.reply_identity.recipient != base.reply_identity.recipient


def test_lookup_id_and_recipient_are_independent() -> None:
    """I3: the lookup id says nothing about the reply key, and neither is the codename."""
    keys = derive()
    lookup = bytes.fromhex(keys.lookup_id)
    public = keys.reply_identity.recipient.public_key
    secret = age.X25519Identity(lookup)
    assert len(lookup) == 32
    assert lookup != public
    assert keys.lookup_id not in str(keys.reply_identity.recipient)
    assert keys.lookup_id != public.hex()
    assert lookup not in {hashlib.sha256(public).digest(), hashlib.blake2b(public).digest()[:32]}
    assert secret.recipient != keys.reply_identity.recipient
    stored = keys.lookup_id + str(keys.reply_identity.recipient)
    assert not any(word in stored for word in CODENAME.split(" ") if len(word) > 4)


def test_reply_identity_opens_a_reply_sealed_to_its_recipient() -> None:
    """I3: a reply sealed to the stored recipient opens with the codename-derived identity."""
    stored_recipient = age.parse_recipient(str(derive().reply_identity.recipient))
    reply = seal_to(stored_recipient, b"we read your tip; can you say more?")
    assert open_with(derive("  " + CODENAME.upper()).reply_identity, reply) == (
        b"we read your tip; can you say more?"
    )


def test_what_the_server_stores_cannot_open_a_reply() -> None:
    """I3: neither the lookup id nor another pepper's identity decrypts a reply."""
    keys = derive()
    reply = seal_to(keys.reply_identity.recipient, b"reply")
    for wrong in (
        age.X25519Identity(bytes.fromhex(keys.lookup_id)),
        derive(pepper=bytes(range(1, 33))).reply_identity,
        derive(CODENAME + " zoom").reply_identity,
    ):
        with pytest.raises(age.NoIdentityMatchError):
            open_with(wrong, reply)


def test_repr_hides_the_secret() -> None:
    """I3: logging a SourceKeys by accident leaks neither the reply secret nor the lookup id."""
    keys = derive()
    secret = str(keys.reply_identity)
    for text in (repr(keys), str(keys), f"{keys!r}"):
        assert secret not in text
        assert secret.lower() not in text.lower()
        assert keys.lookup_id not in text
        assert str(keys.reply_identity.recipient) in text


def test_pepper_must_be_at_least_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        derive_source_keys(CODENAME, bytes(31), LIGHT)
    derive_source_keys(CODENAME, bytes(64), LIGHT)


def test_new_pepper_is_32_random_bytes() -> None:
    peppers = {new_pepper() for _ in range(8)}
    assert len(peppers) == 8
    assert all(len(p) == 32 for p in peppers)


@pytest.mark.parametrize("empty", ["", "   ", "\n\t"])
def test_empty_codename_is_refused(empty: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        derive(empty)


# The gate


@pytest.fixture
def in_flight(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts derivations running at once; each one lingers so that overlaps become visible."""
    counts = {"now": 0, "max": 0, "done": 0}
    lock = threading.Lock()
    real = cn.derive_source_keys

    def counting(codename: str, pepper: bytes, params: KdfParams = LIGHT) -> SourceKeys:
        with lock:
            counts["now"] += 1
            counts["max"] = max(counts["max"], counts["now"])
        try:
            time.sleep(0.1)
            return real(codename, pepper, params)
        finally:
            with lock:
                counts["now"] -= 1
                counts["done"] += 1

    monkeypatch.setattr(cn, "derive_source_keys", counting)
    yield counts


def run_together(gate: KdfGate, threads: int) -> list[BaseException]:
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work() -> None:
        start.wait()
        try:
            gate.derive(CODENAME, PEPPER)
        except BaseException as err:
            errors.append(err)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    return errors


def test_gate_bounds_concurrent_derivations(in_flight: dict[str, int]) -> None:
    gate = KdfGate(slots=2, timeout=30, params=LIGHT)
    assert run_together(gate, 8) == []
    assert in_flight["done"] == 8
    assert in_flight["max"] == 2


def test_without_a_tight_gate_the_counter_sees_more(in_flight: dict[str, int]) -> None:
    """Control: the harness above would notice a gate that let more through."""
    gate = KdfGate(slots=8, timeout=30, params=LIGHT)
    assert run_together(gate, 8) == []
    assert in_flight["max"] > 2


def test_gate_returns_the_same_keys_as_a_direct_derivation() -> None:
    keys = KdfGate(slots=1, params=LIGHT).derive(CODENAME, PEPPER)
    assert keys.lookup_id == derive().lookup_id


def test_gate_raises_busy_when_no_slot_frees_up(monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()
    real = cn.derive_source_keys

    def stuck(codename: str, pepper: bytes, params: KdfParams = LIGHT) -> SourceKeys:
        entered.set()
        release.wait(timeout=30)
        return real(codename, pepper, params)

    monkeypatch.setattr(cn, "derive_source_keys", stuck)
    gate = KdfGate(slots=1, timeout=0.05, params=LIGHT)
    holder = threading.Thread(target=gate.derive, args=(CODENAME, PEPPER))
    holder.start()
    try:
        assert entered.wait(timeout=30)
        started = time.monotonic()
        with pytest.raises(KdfBusyError):
            gate.derive(CODENAME, PEPPER)
        assert time.monotonic() - started < 5
    finally:
        release.set()
        holder.join(timeout=30)
    assert gate.derive(CODENAME, PEPPER).lookup_id == derive().lookup_id


def test_gate_frees_its_slot_when_derivation_fails() -> None:
    gate = KdfGate(slots=1, timeout=0.05, params=LIGHT)
    for _ in range(3):
        with pytest.raises(ValueError):
            gate.derive(CODENAME, b"short")
    assert gate.derive(CODENAME, PEPPER).lookup_id == derive().lookup_id


def test_gate_needs_a_slot_and_a_sane_timeout() -> None:
    with pytest.raises(ValueError):
        KdfGate(slots=0)
    with pytest.raises(ValueError):
        KdfGate(timeout=-1)
