"""How counts are said, in the same words by every command: tips, messages and files; groups.

A count says what it counts and, against a threshold, what is needed, never "2 of 2", which
reads as "all of them". A sign-off names its reviewer by the team's name and says when the
claim's evidence changed after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .ach import EvidenceRow
from .assessment import ClaimView

BEFORE_CHANGE = "before its evidence changed"


class SignedOff(Protocol):
    @property
    def reviewer(self) -> str: ...

    @property
    def current(self) -> bool: ...


def counted(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def tip_kinds(messages: int, files: int) -> str:
    """For example: '2 messages, 1 file'; a tip is a message or a file."""
    found = [
        counted(number, singular, f"{singular}s")
        for number, singular in ((messages, "message"), (files, "file"))
        if number
    ]
    return ", ".join(found) or "no tips"


def tips_with_kinds(messages: int, files: int) -> str:
    """For example: '3 tips (2 messages, 1 file)'."""
    total = counted(messages + files, "tip", "tips")
    return f"{total} ({tip_kinds(messages, files)})" if messages + files else total


def groups_doing(count: int, verb: str) -> str:
    """For example: 'no independent group supports', '3 independent groups support'."""
    if count == 0:
        return f"no independent group {verb}s"
    if count == 1:
        return f"1 independent group {verb}s"
    return f"{count} independent groups {verb}"


def needed(threshold: int) -> str:
    return f"{threshold} {'is' if threshold == 1 else 'are'} needed"


def support(supporting: int, threshold: int) -> str:
    """For example: '3 independent groups support it; 2 are needed'."""
    return f"{groups_doing(supporting, 'support')} it; {needed(threshold)}"


def status_words(claim: ClaimView) -> str:
    """What a claim rests on and still lacks, for example: '2 independent groups support it
    firsthand or by document; 2 are needed; 1 independent group contradicts it.'"""
    firsthand = f"{groups_doing(len(claim.supporting), 'support')} it firsthand or by document"
    parts = [f"{firsthand}; {needed(claim.threshold)}"]
    if claim.contradicting:
        parts.append(f"{groups_doing(len(claim.contradicting), 'contradict')} it")
    weak = len(claim.weak_support) + len(claim.weak_contradiction)
    if weak:
        parts.append(f"{weak} more only secondhand (shown, never counted)")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def signers(sign_offs: Sequence[SignedOff]) -> str:
    """For example: 'Eve, Ben (before its evidence changed)'; empty when nobody signed off."""
    return ", ".join(
        s.reviewer if s.current else f"{s.reviewer} ({BEFORE_CHANGE})" for s in sign_offs
    )


def signed_off(sign_offs: Sequence[SignedOff], status: str) -> str:
    """For example: 'Signed off by Eve.', or 'Not signed off yet.' for a corroborated claim;
    empty for any other claim nobody signed off."""
    if sign_offs:
        return f"Signed off by {signers(sign_offs)}."
    return "Not signed off yet." if status == "corroborated" else ""


def waiting(count: int) -> str:
    """For example: '1 link waits for a tip not imported here yet'."""
    verb = "waits" if count == 1 else "wait"
    return f"{counted(count, 'link', 'links')} {verb} for a tip not imported here yet"


def waiting_link(tip: str, stance: str, basis: str) -> str:
    """For example: 'tip 3f9c: not imported here yet (supports, firsthand)'."""
    return f"tip {tip}: not imported here yet ({stance}, {basis})"


def file_trouble(err: OSError) -> str:
    """A file the reviewer named could not be read or written, for example: 'No such file or
    directory: /media/usb/share.cairn'."""
    where = f": {err.filename}" if err.filename else ""
    return f"{err.strerror or err}{where}"


def ach_notes(row: EvidenceRow) -> str:
    """What to know of a claim's row in the ACH matrix, for example 'not diagnostic; weighs
    nothing: no independent support'; empty when nothing."""
    notes = [] if row.diagnostic else ["not diagnostic"]
    notes += ["sensitive: the ranking changes without it"] if row.sensitive else []
    notes += [] if row.groups else ["weighs nothing: no independent support"]
    return "; ".join(notes)
