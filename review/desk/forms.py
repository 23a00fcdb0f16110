"""Reading the desk's forms: a missing or malformed field is a one-line error for the page."""

from __future__ import annotations

from flask import request

from ..workspace import WorkspaceError


def required(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value:
        raise WorkspaceError(f"the form left {name.replace('_', ' ')} empty; fill it in")
    return value


def text_or_none(name: str) -> str | None:
    """A free text the reviewer may leave empty (a quote, a relation's note)."""
    value = request.form.get(name, "").strip()
    return value or None


def optional_int(value: str | None, what: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise WorkspaceError(f"{what} must be a number, not {value!r}") from None


def required_int(name: str) -> int:
    value = required(name)
    try:
        return int(value)
    except ValueError:
        raise WorkspaceError(f"{name.replace('_', ' ')} must be a number, not {value!r}") from None
