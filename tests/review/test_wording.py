"""Issue 19 item 6: counts say what they count, in the same words in every command."""

from __future__ import annotations

from review.wording import support, tip_kinds, tips_with_kinds


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
