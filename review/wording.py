"""How counts are said, in the same words by every command: tips, messages and files; groups.

A count says what it counts and, against a threshold, what is needed, never "2 of 2", which
reads as "all of them".
"""

from __future__ import annotations


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


def support(supporting: int, threshold: int) -> str:
    """For example: '3 independent groups support it; 2 are needed'."""
    if supporting == 0:
        groups = "no independent group supports it"
    elif supporting == 1:
        groups = "1 independent group supports it"
    else:
        groups = f"{supporting} independent groups support it"
    return f"{groups}; {threshold} {'is' if threshold == 1 else 'are'} needed"
