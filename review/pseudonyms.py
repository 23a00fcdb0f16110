"""Two-word pseudonyms for sources: easy to say, stable in this workspace, opaque outside it.

A pseudonym is drawn from the server's source id under the workspace key (a keyed fingerprint,
keys.workspace_key), never from a codename, so nobody can compute it from the server's records:
a report that names "amber-heron" says nothing about which source that is to someone holding
only the server. The workspace database, though, keeps each pseudonym beside its server source id
unsealed (models.Source), so whoever holds the workspace's disk can match the two without any key.
256 adjectives x 256 nouns; when a name is taken the next candidate is drawn, and each source
keeps the name it was first given.
"""

from __future__ import annotations

import itertools
from collections.abc import Container, Iterator
from importlib.resources import files

from keys.workspace_key import WorkspaceKey

PLAIN_ATTEMPTS = 16  # after this many taken names, a number is added so a free one always exists


def _words(name: str) -> tuple[str, ...]:
    return tuple(files(__package__).joinpath(name).read_text(encoding="utf-8").split())


ADJECTIVES = _words("adjectives.txt")
NOUNS = _words("nouns.txt")


def candidates(key: WorkspaceKey, source_id: str) -> Iterator[str]:
    """The pseudonyms ``source_id`` may take, best first."""
    for attempt in itertools.count():
        digest = key.fingerprint("pseudonym", f"{source_id}\n{attempt}".encode())
        name = f"{ADJECTIVES[digest[0]]}-{NOUNS[digest[1]]}"
        yield name if attempt < PLAIN_ATTEMPTS else f"{name}-{attempt}"


def pseudonym_for(key: WorkspaceKey, source_id: str, taken: Container[str]) -> str:
    """The first of ``source_id``'s candidates that is not ``taken``."""
    return next(name for name in candidates(key, source_id) if name not in taken)
