"""Importing a bundle: verify everything first, then store; a bundle that fails adds nothing.

``verify`` checks the signature by the pinned server key and the manifest (``keys.bundle``), reads
each new item's ciphertext while checking its SHA-256, and decrypts it to check that it is a
well-formed sealed item for this reviewer. Ciphertext waits for ``store`` in memory up to a budget,
beyond it in a staging directory inside the workspace; it is never anything but ciphertext. Of the
plaintext only a sealed summary survives (name, media type, length, a short preview) and, for a
file, a keyed fingerprint of its content for ``review suggest``. ``store`` then writes the age
files into ``tips/``, records them in one transaction, waits for the disk, and only then writes
the ack file that lets the server delete them.

An item already in the workspace is checked against its manifest hash again and acknowledged
again, but not stored twice; one whose id is known with other content refuses the whole bundle.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from sqlalchemy import insert, select

from keys import age
from keys.bundle import Bundle, BundleError, BundleItem, open_bundle
from keys.courier_api import sign_ack
from keys.private_files import private_output
from keys.sealed import open_item

from .models import Import, Source, Tip, TipSubmission
from .pseudonyms import pseudonym_for
from .workspace import Workspace, WorkspaceError

TIP_KINDS = frozenset({"message", "file"})
PREVIEW_CHARS = 80
MEMORY_BUDGET = 64 << 20  # bytes of ciphertext held in memory between verify and store


@dataclass(frozen=True)
class StagedTip:
    item: BundleItem
    details: dict[str, object]
    content_tag: bytes | None
    ciphertext: bytes | None  # None: it waits in the staging directory


@dataclass(frozen=True)
class ImportResult:
    added: tuple[str, ...]
    already: tuple[str, ...]
    ack_path: Path


class _ContentInspector:
    """Receives a tip's plaintext and keeps only its hash and the start of a message."""

    def __init__(self, keep: int) -> None:
        self.digest = hashlib.sha256()
        self.start = bytearray()
        self._keep = keep

    def write(self, data: bytes | memoryview) -> int:
        self.digest.update(data)
        if len(self.start) < self._keep:
            self.start += data[: self._keep - len(self.start)]
        return len(data)


def preview(start: bytes) -> str:
    """A one-line preview of a message from its first bytes."""
    text = " ".join(start.decode("utf-8", errors="ignore").split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


class BundleImport:
    """One import: ``verify()`` (a generator, one step per item), then ``store()``."""

    def __init__(self, workspace: Workspace, path: Path, ack_path: Path) -> None:
        server_key = workspace.server_key()
        self._workspace = workspace
        self._path = path
        self._server_key = server_key
        self._bundle: Bundle = open_bundle(path, server_key)
        self.items = self._bundle.items
        self._ack_path = ack_path
        try:
            self._check_ack_path()
            self._staging = Path(tempfile.mkdtemp(prefix=".import-", dir=workspace.tips_dir))
        except BaseException:
            self._bundle.close()
            raise
        self._staged: list[StagedTip] = []
        self._already: list[str] = []
        self._memory_left = MEMORY_BUDGET

    def __enter__(self) -> BundleImport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bundle.close()
        shutil.rmtree(self._staging, ignore_errors=True)

    def verify(self) -> Iterator[BundleItem]:
        """Check every item; raises at the first that fails, having stored nothing."""
        self._check_reply_recipients()
        known = self._known_hashes()
        for item in self.items:
            if item.kind not in TIP_KINDS:
                raise BundleError(f"item {item.id} has the kind {item.kind!r}, not a tip's")
            if item.id in known:
                if known[item.id] != item.sha256:
                    raise WorkspaceError(
                        f"tip {item.id} is already in the workspace with other content; "
                        "ask the operator why the server reused its id"
                    )
                self._bundle.check_item(item)
                self._already.append(item.id)
            else:
                self._staged.append(self._stage(item))
            yield item

    def _check_reply_recipients(self) -> None:
        """Refuse a bundle that gives a source another reply recipient than the pinned one (I12).

        A reply recipient derives from the source's codename, so it never legitimately changes:
        the first one seen is pinned, and a server that offers another wants to read the replies.
        """
        rows = self._workspace.session.execute(
            select(Source.id, Source.pseudonym, Source.reply_recipient)
        ).all()
        names = {source: f"the source {pseudonym}" for source, pseudonym, _ in rows}
        pinned = {source: recipient for source, _, recipient in rows if recipient}
        for item in self.items:
            if not item.reply_recipient:
                continue
            try:
                age.parse_recipient(item.reply_recipient)
            except ValueError:
                raise BundleError(
                    f"item {item.id} gives its source a reply recipient that is not an age "
                    "recipient"
                ) from None
            if pinned.setdefault(item.source, item.reply_recipient) != item.reply_recipient:
                who = names.get(item.source, f"the new source {item.source}")
                raise WorkspaceError(
                    f"the bundle gives {who} another reply recipient than the one first seen; "
                    "it never changes, so the server may be trying to read your replies: do not "
                    "import this bundle, and tell the operator the server may be compromised"
                )

    def _known_hashes(self) -> dict[str, str]:
        ids = [item.id for item in self.items]
        known: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            rows = self._workspace.session.execute(
                select(Tip.id, Tip.sha256).where(Tip.id.in_(ids[start : start + 500]))
            )
            known.update({tip_id: sha256 for tip_id, sha256 in rows})
        return known

    def _stage(self, item: BundleItem) -> StagedTip:
        if item.size <= self._memory_left:
            self._memory_left -= item.size
            buffer = io.BytesIO()
            self._bundle.copy_item(item, buffer)
            buffer.seek(0)
            return self._open(item, buffer, ciphertext=buffer.getvalue())
        staged = self._staging / f"{item.id}.age"
        with staged.open("xb") as out:
            self._bundle.copy_item(item, out)
        with staged.open("rb") as src:
            return self._open(item, src, ciphertext=None)

    def _open(self, item: BundleItem, src: age.Reader, ciphertext: bytes | None) -> StagedTip:
        """Decrypt one item, keeping only its summary and fingerprint."""
        inspector = _ContentInspector(keep=PREVIEW_CHARS * 4 if item.kind == "message" else 0)
        try:
            header = open_item(src, inspector, [self._workspace.identity])
        except age.NoIdentityMatchError:
            raise WorkspaceError(
                f"item {item.id} is not encrypted to your identity "
                f"({self._workspace.identity.recipient}); the bundle was made for another "
                "reviewer, so ask the operator to add your recipient"
            ) from None
        except age.DecryptError as err:
            raise WorkspaceError(f"item {item.id} does not open: {err}") from None
        if header.kind != item.kind:
            raise BundleError(f"item {item.id} is listed as a {item.kind}, but is a {header.kind}")
        details: dict[str, object] = {
            "name": header.name,
            "type": header.media_type,
            "length": header.length,
            "preview": preview(bytes(inspector.start)),
        }
        content_tag = None
        if item.kind == "file":
            content_tag = self._workspace.key.fingerprint("file", inspector.digest.digest())
        return StagedTip(item, details, content_tag, ciphertext)

    def store(self) -> ImportResult:
        """Write the verified tips into the workspace, commit, sync, and write the ack file."""
        workspace = self._workspace
        self._add_sources()
        if self._staged:
            summaries = {staged.item.id: staged.details for staged in self._staged}
            record = Import(bundle=self._path.name, summaries=workspace.seal(json.dumps(summaries)))
            workspace.session.add(record)
            workspace.session.flush()
            rows = [self._row(staged, record.id) for staged in self._staged]
            workspace.session.execute(insert(Tip), rows)
            submissions = [
                {"tip_id": staged.item.id, "submission": staged.item.submission}
                for staged in self._staged
                if staged.item.submission is not None
            ]
            if submissions:
                workspace.session.execute(insert(TipSubmission), submissions)
        written: list[Path] = []
        try:
            for staged in self._staged:
                target = workspace.tips_dir / f"{staged.item.id}.age"
                if staged.ciphertext is None:
                    os.replace(self._staging / target.name, target)
                else:
                    _write_new(target, staged.ciphertext)
                written.append(target)
            workspace.session.commit()
        except BaseException:
            workspace.session.rollback()
            for path in written:
                path.unlink(missing_ok=True)
            raise
        os.sync()  # the ack lets the server delete these tips: they must be on disk first
        added = tuple(staged.item.id for staged in self._staged)
        return ImportResult(added, tuple(self._already), self._write_ack(added))

    @staticmethod
    def _row(staged: StagedTip, import_id: int) -> dict[str, object]:
        item = staged.item
        return {
            "id": item.id,
            "source_id": item.source,
            "kind": item.kind,
            "day": item.day,
            "size": item.size,
            "sha256": item.sha256,
            "status": "new",
            "import_id": import_id,
            "content_tag": staged.content_tag,
        }

    def _add_sources(self) -> None:
        session = self._workspace.session
        sources = {s.id: s for s in session.scalars(select(Source))}
        taken = {s.pseudonym for s in sources.values()}
        for staged in self._staged:
            item = staged.item
            source = sources.get(item.source)
            if source is None:
                name = pseudonym_for(self._workspace.key, item.source, taken)
                taken.add(name)
                source = sources[item.source] = Source(id=item.source, pseudonym=name)
                session.add(source)
            if not source.reply_recipient:  # pinned at first sight (I12)
                source.reply_recipient = item.reply_recipient
        session.flush()

    def _write_ack(self, added: tuple[str, ...]) -> Path:
        """List every item of the bundle that is now verified and kept in the workspace, signed
        by the workspace's key: the server honours acks only from workspaces it accepted."""
        ack = sign_ack(self._workspace.signing_key, self._server_key, (*added, *self._already))
        if not _holds(self._ack_path, ack):  # importing again writes the same ack again
            with private_output(self._ack_path, overwrite=False) as out:
                out.write(ack)
        return self._ack_path

    def _check_ack_path(self) -> None:
        """Refuse, before anything is imported, an ack path that cannot take this bundle's ack.

        An import acknowledges every item of its bundle, and a signature by the workspace's key
        is deterministic, so an existing file there is either that very ack or something else,
        which is never overwritten.
        """
        path = self._ack_path
        if not path.parent.is_dir():
            raise WorkspaceError(f"the directory {path.parent} for the ack does not exist")
        if path.exists():
            items = (item.id for item in self.items)
            if not _holds(path, sign_ack(self._workspace.signing_key, self._server_key, items)):
                raise WorkspaceError(
                    f"{path} already exists and is not this bundle's ack; move it or give "
                    "--ack-out another path"
                )


def _holds(path: Path, data: bytes) -> bool:
    """Whether the file at ``path`` exists and holds exactly ``data``."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except FileNotFoundError:
        return False


def _write_new(path: Path, data: bytes) -> None:
    """Write a tip's age file, readable by its owner only (an orphan of a crash is replaced)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
