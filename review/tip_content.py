"""Reading a tip in memory: its sealed summary, or a message's text, never written anywhere."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from keys.sealed import open_item

from .models import Import, Tip
from .workspace import Workspace


@dataclass(frozen=True)
class TipSummary:
    """What the import kept of a tip's header: the source's own name and type for it."""

    name: str
    media_type: str
    length: int
    preview: str


class Summaries:
    """Tip summaries, each import's unsealed once however many of its tips are shown."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._by_import: dict[int, dict[str, TipSummary]] = {}

    def of(self, tip: Tip) -> TipSummary:
        if tip.import_id not in self._by_import:
            self._by_import[tip.import_id] = self._unseal(tip.imported)
        return self._by_import[tip.import_id][tip.id]

    def _unseal(self, record: Import) -> dict[str, TipSummary]:
        table = json.loads(self._workspace.unseal(record.summaries))
        return {
            tip_id: TipSummary(fields["name"], fields["type"], fields["length"], fields["preview"])
            for tip_id, fields in table.items()
        }


def message_text(workspace: Workspace, tip: Tip) -> str:
    """A message tip's text, decrypted from its age file into memory."""
    content = io.BytesIO()
    with workspace.tip_path(tip).open("rb") as src:
        open_item(src, content, [workspace.identity])
    return content.getvalue().decode("utf-8", errors="replace")
