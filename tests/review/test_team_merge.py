"""review/team_merge.py: a team's changes merge the same whatever the order, duplicates or
omissions of the exchanges; the newest write of a field wins, and writes made without seeing
each other are kept as a conflict until a reviewer settles them (issue 21)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import age
from keys.exchange import open_exchange, seal_exchange
from keys.signing import KeyKind, SigningKey
from review.team_merge import (
    REMOVED,
    Change,
    ChangeError,
    Replica,
    Stamp,
    Value,
    changes_signed_by,
)
from tests.support.canary import canary, readable

AUTHORS = [bytes([n]) * 32 for n in (1, 2, 3)]
RECORDS = [("claim", "c1"), ("claim", "c2"), ("link", "l1"), ("relation", "r1"), ("mark", "m1")]
FIELDS = ["text", "status"]


@dataclass(frozen=True)
class Write:
    replica: int
    record: tuple[str, str]
    name: str
    value: Value


@dataclass(frozen=True)
class Send:
    src: int
    dst: int
    keep: list[bool]  # an omission: the changes whose bit is False are left out


writes = st.builds(
    Write,
    st.integers(0, 2),
    st.sampled_from(RECORDS),
    st.sampled_from([*FIELDS, REMOVED]),
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["a", "b", "é"])),
)
sends = st.builds(Send, st.integers(0, 2), st.integers(0, 2), st.lists(st.booleans(), max_size=40))


def _over_the_wire(changes: list[Change]) -> list[Change]:
    return [Change.from_json(change.to_json()) for change in changes]


@settings(max_examples=300, deadline=None)
@given(steps=st.lists(st.one_of(writes, sends), max_size=40), seed=st.integers(0, 2**32))
def test_three_replicas_converge_whatever_the_order_duplicates_and_omissions(
    steps: list[Write | Send], seed: int
) -> None:
    replicas = [Replica(author) for author in AUTHORS]
    for step in steps:
        if isinstance(step, Write):
            replicas[step.replica].write(*step.record, step.name, step.value)
        else:
            sent = list(replicas[step.src].changes.values())
            partial = [c for n, c in enumerate(sent) if n >= len(step.keep) or step.keep[n]]
            replicas[step.dst].merge(_over_the_wire(partial + partial[:2]))
    everything = [c for replica in replicas for c in replica.changes.values()]
    rng = random.Random(seed)
    for replica in replicas:  # the repair: everyone's changes, shuffled and duplicated
        resent = everything + everything[: len(everything) // 2]
        rng.shuffle(resent)
        replica.merge(_over_the_wire(resent))
    first = replicas[0]
    for other in replicas[1:]:
        assert other.changes == first.changes
        assert other.records() == first.records()
        assert other.conflicts() == first.conflicts()
    for key, live in first.fields().items():  # last writer wins: the newest stamp is shown
        newest = max((c for c in everything if c.key == key), key=lambda c: c.stamp)
        assert live[0] == newest
    settled = first.records()
    for conflict in first.conflicts():  # a reviewer settles each conflict on the newest value
        first.write(*conflict.key, conflict.changes[0].value)
    _exchange(*replicas)
    for replica in replicas:
        assert replica.conflicts() == [] and replica.records() == settled


def _exchange(*replicas: Replica) -> None:
    for dst in replicas:
        for src in replicas:
            dst.merge(src.changes.values())


def test_a_write_made_after_seeing_another_supersedes_it_without_conflict() -> None:
    alice, bob = Replica(AUTHORS[0]), Replica(AUTHORS[1])
    alice.write("claim", "c1", "text", "first")
    _exchange(alice, bob)
    bob.write("claim", "c1", "text", "second")
    _exchange(alice, bob)
    for replica in (alice, bob):
        assert replica.records() == {("claim", "c1"): {"text": "second"}}
        assert replica.conflicts() == []


def test_writes_made_without_seeing_each_other_are_a_conflict_until_settled() -> None:
    alice, bob, carol = (Replica(author) for author in AUTHORS)
    alice.write("claim", "c1", "text", "from alice")
    bob.write("claim", "c1", "text", "from bob")
    _exchange(alice, bob, carol)
    for replica in (alice, bob, carol):
        (conflict,) = replica.conflicts()
        assert conflict.key == ("claim", "c1", "text")
        assert [(c.value, c.stamp.author) for c in conflict.changes] == [
            ("from bob", AUTHORS[1]),  # same clock: the larger author key is newest
            ("from alice", AUTHORS[0]),
        ]
        assert replica.records()[("claim", "c1")]["text"] == "from bob"
    carol.write("claim", "c1", "text", "from alice")  # a reviewer settles it
    _exchange(alice, bob, carol)
    for replica in (alice, bob, carol):
        assert replica.conflicts() == []
        assert replica.records()[("claim", "c1")]["text"] == "from alice"


def test_a_later_clock_alone_does_not_hide_a_concurrent_write() -> None:
    alice, bob = Replica(AUTHORS[0]), Replica(AUTHORS[1])
    for n in range(5):
        alice.write("claim", "c2", "status", f"draft {n}")
    bob.write("claim", "c1", "status", "open")
    _exchange(alice, bob)
    assert alice.conflicts() == []  # different records never conflict
    bob.write("claim", "c2", "status", "checked")  # bob has seen alice's, so it supersedes
    carol = Replica(AUTHORS[2])
    carol.write("claim", "c2", "status", "disputed")  # clock 1, saw nothing: concurrent
    _exchange(alice, bob, carol)
    (conflict,) = alice.conflicts()
    assert {c.value for c in conflict.changes} == {"checked", "disputed"}


def test_concurrent_writes_of_the_same_value_are_no_conflict() -> None:
    alice, bob = Replica(AUTHORS[0]), Replica(AUTHORS[1])
    alice.write("claim", "c1", "status", "checked")
    bob.write("claim", "c1", "status", "checked")
    _exchange(alice, bob)
    assert alice.conflicts() == [] and alice.records() == {("claim", "c1"): {"status": "checked"}}


def test_removal_is_a_tombstone_that_a_later_write_can_undo() -> None:
    alice, bob = Replica(AUTHORS[0]), Replica(AUTHORS[1])
    alice.write("link", "l1", "text", "kept")
    _exchange(alice, bob)
    bob.remove("link", "l1")
    alice.write("link", "l1", "text", "edited meanwhile")
    _exchange(alice, bob)
    for replica in (alice, bob):
        assert replica.records() == {}  # an edit to another field does not bring it back
    alice.write("link", "l1", REMOVED, False)
    _exchange(alice, bob)
    assert bob.records() == {("link", "l1"): {"text": "edited meanwhile"}}


def test_two_changes_claiming_one_stamp_settle_the_same_way_everywhere() -> None:
    stamp = Stamp(1, AUTHORS[0])
    one, two = (Change("claim", "c1", "text", value, stamp) for value in ("one", "two"))
    first, second = Replica(AUTHORS[1]), Replica(AUTHORS[2])
    first.merge([one, two])
    second.merge([two, one])
    assert first.changes == second.changes


def test_a_change_round_trips_through_json() -> None:
    alice = Replica(AUTHORS[0])
    alice.write("claim", "c1", "text", "x")
    change = alice.write("claim", "c1", "text", "y")
    assert change.seen == ((AUTHORS[0], 1),)
    assert Change.from_json(change.to_json()) == change


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"kind": "tip"}, "unknown kind of record 'tip'"),
        ({"record": ""}, "no record id or field"),
        ({"value": [1]}, "value is not text"),
        ({"value": 1.5}, "value is not text"),
        ({"clock": 0}, "clock is not well formed"),
        ({"clock": True}, "clock is not well formed"),
        ({"seen": {"00": 1}}, "clock is not well formed"),
        ({"clock": 2**62}, "clock is not well formed"),
        ({"seen": {"01" * 32: 2}}, "clock is not well formed"),  # it has seen its own future
        ({"author": "00"}, "author is not a workspace key"),
        ({"author": "zz"}, "not well formed"),
        ({"seen": []}, "not well formed"),
    ],
)
def test_a_malformed_change_is_refused_in_one_line(edit: dict[str, object], message: str) -> None:
    fields = Replica(AUTHORS[0]).write("claim", "c1", "text", "x").to_json() | edit
    with pytest.raises(ChangeError, match=message) as refused:
        Change.from_json(fields)
    assert "\n" not in str(refused.value)


def test_missing_fields_are_refused() -> None:
    with pytest.raises(ChangeError, match="not well formed"):
        Change.from_json({"kind": "claim"})


def _share(replica: Replica, signer: SigningKey, to: age.X25519Identity) -> bytes:
    return seal_exchange([c.to_json() for c in replica.own_changes()], signer, [to.recipient])


def test_changes_travel_between_workspaces_in_exchange_files_i9() -> None:
    alice_key, bob_key = (SigningKey.generate(KeyKind.REVIEWER) for _ in range(2))
    alice_box, bob_box = age.X25519Identity.generate(), age.X25519Identity.generate()
    alice, bob = Replica(alice_key.verify_key.raw), Replica(bob_key.verify_key.raw)
    signed, denied = canary("claim"), canary("note")
    alice.write("claim", "c1", "text", signed)
    bob.write("claim", "c1", "text", denied)
    to_bob, to_alice = _share(alice, alice_key, bob_box), _share(bob, bob_key, alice_box)
    assert not readable(to_bob, signed) and not readable(to_alice, denied)
    for data, box, replica, sender in (
        (to_bob, bob_box, bob, alice_key),
        (to_alice, alice_box, alice, bob_key),
    ):
        opened = open_exchange(data, box, [sender.verify_key])
        replica.merge(changes_signed_by(opened.changes, opened.signer.raw))
    assert alice.conflicts() == bob.conflicts() and len(alice.conflicts()) == 1
    assert alice.records() == bob.records()


def test_a_file_carrying_another_authors_changes_is_refused_whole() -> None:
    alice, mallory = Replica(AUTHORS[0]), Replica(AUTHORS[1])
    mallory.write("claim", "c1", "text", "mine")
    forged = mallory.write("claim", "c1", "status", "checked").to_json() | {
        "author": AUTHORS[0].hex()
    }
    genuine = mallory.own_changes()[0].to_json()
    with pytest.raises(ChangeError, match="someone other than its signer"):
        alice.merge(changes_signed_by([genuine, forged], AUTHORS[1]))
    assert alice.changes == {}  # not even the genuine change was taken
    alice.merge(changes_signed_by([genuine], AUTHORS[1]))
    assert alice.records() == {("claim", "c1"): {"text": "mine"}}
