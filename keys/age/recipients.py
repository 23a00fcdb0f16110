"""What a recipient and an identity are: the whole interface between the format and its keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .header import Stanza

FILE_KEY_SIZE = 16


class Recipient(Protocol):
    """Wraps a file key into stanzas that only the matching identity can unwrap."""

    def wrap(self, file_key: bytes) -> list[Stanza]: ...


class Identity(Protocol):
    """Unwraps the file key from a header's stanzas.

    Returns None when no stanza is meant for this identity; raises ``HeaderError`` when a stanza
    of its own type is malformed.
    """

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None: ...
