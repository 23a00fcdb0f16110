"""The one check every verb taking a word from a fixed set makes (a stance, a status...)."""

from __future__ import annotations

from ..workspace import WorkspaceError


def one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    """``value`` if it is in ``allowed``; otherwise a one-line error naming the choices."""
    if value not in allowed:
        raise WorkspaceError(f"{value!r} is not a {what}; use one of {', '.join(allowed)}")
    return value
