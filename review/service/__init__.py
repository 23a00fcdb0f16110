"""Everything a reviewer can do, as one Python API over an unlocked workspace.

The CLI is a thin face on it and the desk another: commands call a verb and print what it
returns. Verbs return plain frozen dataclasses (no terminal, no markup) and raise
``WorkspaceError`` with one actionable line; a verb's changes are committed when the workspace's
``open`` block ends without error.
"""

from __future__ import annotations

from ..workspace import Workspace
from .bundles import Bundles
from .claims import Claims
from .hypotheses import Hypotheses
from .plaintexts import Plaintexts
from .replies import Replies
from .sources import Sources
from .team import Team
from .triage import Triage
from .what_if import WhatIfs


class Review(Team, Triage, Claims, Hypotheses, Sources, Replies, Bundles, WhatIfs):
    """The reviewer's verbs on ``workspace``."""

    def __init__(self, workspace: Workspace, plaintexts: Plaintexts | None = None) -> None:
        """``plaintexts``: what the caller holds decrypted in memory, if it outlives one verb."""
        self.workspace = workspace
        self.plaintexts = Plaintexts() if plaintexts is None else plaintexts

    def warm(self) -> int:
        """Decrypt every tip into memory and work out the suggestions, so that the first search
        and suggestions need not; returns how many tips are held."""
        self.suggestions()
        return len(self.plaintexts)
