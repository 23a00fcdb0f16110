"""review/team_state.py: the writes a reviewer's edits make, and which team records the tables
can hold (issue 21). Pure functions over a real ``Replica``."""

from __future__ import annotations

import pytest

from review.team_merge import REMOVED, Change, ChangeError, Replica, Stamp, Value
from review.team_state import check_change, own_writes, placeable

ANA, BEN = bytes(31) + b"\x01", bytes(31) + b"\x02"
LINK = ("link", "tip1/c1")


def replica_with(*writes: tuple[str, str, str, Value]) -> Replica:
    replica = Replica(ANA)
    for kind, record, name, value in writes:
        replica.write(kind, record, name, value)
    return replica


def test_a_record_added_here_is_written_whole_and_an_unchanged_one_not_at_all() -> None:
    replica = replica_with(("claim", "c1", "text", "The minister knew"))
    local = {
        ("claim", "c1"): {"text": "The minister knew"},
        LINK: {"stance": "supports", "basis": "firsthand", "quote": None},
    }
    writes = own_writes(replica.winners(), local, {("claim", "c1")})
    assert writes == [
        (LINK, "basis", "firsthand"),
        (LINK, "quote", None),
        (LINK, "stance", "supports"),
    ]


def test_an_edit_writes_its_field_and_keeps_the_record_against_a_concurrent_removal() -> None:
    replica = replica_with(("claim", "c1", "text", "The minister knew"))
    local = {("claim", "c1"): {"text": "The minister knew in May"}}
    assert own_writes(replica.winners(), local, {("claim", "c1")}) == [
        (("claim", "c1"), REMOVED, False),
        (("claim", "c1"), "text", "The minister knew in May"),
    ]


def test_a_placed_record_gone_from_the_tables_is_removed_but_a_waiting_one_is_not() -> None:
    replica = replica_with(
        ("claim", "c1", "text", "x"),
        ("link", "tip1/c1", "stance", "supports"),
        ("link", "tip2/c1", "stance", "supports"),
    )
    local = {("claim", "c1"): {"text": "x"}}
    placed = {("claim", "c1"), LINK}  # tip2 was never imported here: its link never placed
    assert own_writes(replica.winners(), local, placed) == [(LINK, REMOVED, True)]


def test_a_record_made_again_after_its_removal_is_written_back_to_life() -> None:
    replica = replica_with(("mark", "tip1", "status", "flagged"), ("mark", "tip1", REMOVED, True))
    writes = own_writes(replica.winners(), {("mark", "tip1"): {"status": "flagged"}}, set())
    assert writes == [(("mark", "tip1"), REMOVED, False)]


def test_a_link_waits_for_its_tip_and_is_placed_once_it_arrives() -> None:
    replica = replica_with(
        ("claim", "c1", "text", "x"),
        ("link", "tip1/c1", "stance", "supports"),
        ("link", "tip1/c1", "basis", "firsthand"),
    )
    before = placeable(replica.winners(), tips=set(), sources=set())
    assert LINK in before.waiting and LINK not in before.placed
    after = placeable(replica.winners(), tips={"tip1"}, sources=set())
    assert after.placed[LINK] == {"stance": "supports", "basis": "firsthand"}
    assert not after.waiting


def test_a_removed_claims_links_are_neither_placed_nor_waiting() -> None:
    replica = replica_with(
        ("claim", "c1", "text", "x"),
        ("link", "tip1/c1", "stance", "supports"),
        ("link", "tip1/c1", "basis", "firsthand"),
        ("claim", "c1", REMOVED, True),
    )
    placement = placeable(replica.winners(), tips={"tip1"}, sources=set())
    assert placement.placed == {} and placement.waiting == {}


def test_a_relation_needs_both_sources_in_order() -> None:
    replica = replica_with(("relation", "a/b", "kind", "same-person"))
    assert ("relation", "a/b") in placeable(replica.winners(), set(), {"a", "b"}).placed
    assert ("relation", "a/b") not in placeable(replica.winners(), set(), {"a"}).placed


def change(kind: str, record: str, name: str, value: Value, author: bytes = ANA) -> Change:
    return Change(kind, record, name, value, Stamp(1, author))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (change("link", "tip1/c1", "stance", "maybe"), "cannot take"),
        (change("link", "tip1", "stance", "supports"), "no pair"),
        (change("claim", "c1", "colour", "red"), "unknown field"),
        (change("claim", "c1", "text", 7), "cannot take"),
        (change("credibility", "c1", "credibility", True), "cannot take"),
        (change("credibility", "c1", "credibility", 9), "cannot take"),
        (change("signoff", "c1", BEN.hex(), "evidence"), "cannot take"),
        (change("claim", "c1", REMOVED, "yes"), "cannot take"),
    ],
)
def test_i8_a_change_this_workspace_cannot_hold_is_refused(bad: Change, message: str) -> None:
    """One such change refuses the whole file (review.service.team.merge)."""
    with pytest.raises(ChangeError, match=message):
        check_change(bad)


def test_a_reviewer_signs_off_only_in_their_own_name() -> None:
    check_change(change("signoff", "c1", ANA.hex(), "tip1:supports:firsthand"))
    check_change(change("credibility", "c1", "credibility", 2))
    check_change(change("link", "tip1/c1", "stance", "contradicts"))
