"""A claim's status in plain words: what it rests on, and what it still lacks."""

from __future__ import annotations

from ..assessment import ClaimView


def _groups(count: int) -> str:
    return "1 independent group" if count == 1 else f"{count} independent groups"


def status_words(claim: ClaimView) -> str:
    """For example: '2 independent groups support it firsthand or by document; 2 are needed.'"""
    supporting, against = len(claim.supporting), len(claim.contradicting)
    needed = f"{claim.threshold} {'is' if claim.threshold == 1 else 'are'} needed"
    parts = []
    if supporting:
        verb = "supports" if supporting == 1 else "support"
        parts.append(f"{_groups(supporting)} {verb} it firsthand or by document; {needed}")
    else:
        parts.append(f"no independent group supports it firsthand or by document; {needed}")
    if against:
        verb = "contradicts" if against == 1 else "contradict"
        parts.append(f"{_groups(against)} {verb} it")
    weak = len(claim.weak_support) + len(claim.weak_contradiction)
    if weak:
        parts.append(f"{weak} more only secondhand (shown, never counted)")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]
