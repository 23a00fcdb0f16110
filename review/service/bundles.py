"""What arrives from the server: pinning its bundle key and importing its bundles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from keys.bundle import BundleError
from keys.signing import KeyKind, parse_verify_key

from ..importer import BundleImport, ImportResult
from ..workspace import Workspace, WorkspaceError

Progress = Callable[[int, int], None]  # (items verified, items in the bundle)


def default_ack_path(bundle: Path) -> Path:
    return bundle.with_name(f"{bundle.name.removesuffix('.tar')}.ack.json")


@dataclass(frozen=True)
class Imported(ImportResult):
    messages: int  # of the new tips
    files: int


class Bundles:
    workspace: Workspace

    def sync_team(self) -> None:
        """Place the team's records that waited for new tips (review.service.team)."""
        raise NotImplementedError

    def trust(self, server_key: str, *, replace: bool = False) -> str:
        """Pin the server's bundle key; replacing another pinned key needs ``replace``."""
        try:
            key = parse_verify_key(server_key, KeyKind.SERVER)
        except ValueError as err:
            raise WorkspaceError(str(err)) from None
        pinned = self.workspace.pinned_server_key()
        if pinned is not None and pinned != key and not replace:
            raise WorkspaceError(
                f"this workspace already trusts {pinned}; check the new key with the operator, "
                "then pass --replace"
            )
        self.workspace.pin_server_key(key)
        return str(key)

    def import_bundle(
        self, bundle: Path, progress: Progress | None = None, ack_out: Path | None = None
    ) -> Imported:
        """Verify a bundle completely, then store its tips and write the ack; all or nothing.

        The ack goes to ``ack_out``, by default beside the bundle (``bundle.tar`` ->
        ``bundle.ack.json``), where the reviewer carries it back to the courier.
        """
        try:
            with BundleImport(self.workspace, bundle, ack_out or default_ack_path(bundle)) as job:
                total = len(job.items)
                for done, _ in enumerate(job.verify(), 1):
                    if progress is not None:
                        progress(done, total)
                result = job.store()
                kind = {item.id: item.kind for item in job.items}
        except (BundleError, WorkspaceError) as err:
            raise WorkspaceError(f"{err}; nothing was imported") from None
        if result.added:
            self.sync_team()
        messages = sum(kind[tip] == "message" for tip in result.added)
        files = len(result.added) - messages
        return Imported(result.added, result.already, result.ack_path, messages, files)
