"""Issue 19 item 6: counts say what they count, in the same words in every command."""

from __future__ import annotations

from dataclasses import dataclass

from review.wording import signed_off, signers, support, tip_kinds, tips_with_kinds, waiting


def test_support_says_how_many_groups_and_how_many_are_needed() -> None:
    assert support(2, 2) == "2 independent groups support it; 2 are needed"
    assert support(3, 2) == "3 independent groups support it; 2 are needed"
    assert support(1, 1) == "1 independent group supports it; 1 is needed"
    assert support(0, 2) == "no independent group supports it; 2 are needed"


def test_tips_are_counted_as_messages_and_files() -> None:
    assert tip_kinds(2, 1) == "2 messages, 1 file"
    assert tip_kinds(1, 0) == "1 message"
    assert tip_kinds(0, 3) == "3 files"
    assert tips_with_kinds(1, 1) == "2 tips (1 message, 1 file)"
    assert tips_with_kinds(1, 0) == "1 tip (1 message)"
    assert tips_with_kinds(0, 0) == "0 tips"


@dataclass(frozen=True)
class SignOff:
    reviewer: str
    current: bool


def test_sign_offs_name_the_reviewer_and_say_when_the_evidence_changed_since() -> None:
    both = [SignOff("Eve", True), SignOff("Ben", False)]
    assert signers(both) == "Eve, Ben (before its evidence changed)"
    assert signed_off(both, "disputed") == "Signed off by Eve, Ben (before its evidence changed)."
    assert signed_off([], "corroborated") == "Not signed off yet."
    assert signed_off([], "single-source") == ""


def test_links_waiting_for_a_tip_are_counted() -> None:
    assert waiting(1) == "1 link waits for a tip not imported here yet"
    assert waiting(3) == "3 links wait for a tip not imported here yet"
