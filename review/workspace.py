"""The reviewer's workspace: tips as the age files that arrived, and a database of sealed work (I9).

    workspace-key.age       the workspace key, age-encrypted to the reviewer's identity
    workspace.db            SQLite (models.py); every free text in it is sealed
    tips/<id>.age           each tip exactly as it arrived
    outbox/<id>.age         replies waiting for the courier

The directory is made on first use, readable by its owner only. One passphrase opens it all: the
identity file opens the workspace key, and the workspace key opens everything the reviewer wrote.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import platformdirs
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from keys import age
from keys.private_files import write_private_file
from keys.signing import KeyKind, SigningKey, VerifyKey, parse_signing_key, parse_verify_key
from keys.workspace_key import WorkspaceKey

from .models import SCHEMA_VERSION, Base, Claim, Setting, Source, Tip


class ReviewerIdentity(age.Identity, Protocol):
    """The reviewer's identity: read from its file, or held by the agent (``review.agent``)."""

    @property
    def recipient(self) -> age.X25519Recipient: ...


KEY_FILE = "workspace-key.age"
DATABASE_FILE = "workspace.db"


class WorkspaceError(Exception):
    """Something the reviewer can put right; the message says how."""


def default_workspace_path() -> Path:
    return platformdirs.user_data_path("cairn") / "workspace"


def _engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(connection: sqlite3.Connection, _record: object) -> None:
        cursor = connection.cursor()
        for pragma in ("secure_delete=ON", "foreign_keys=ON", "journal_mode=WAL", "temp_store=2"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    return engine


class Workspace:
    """An unlocked workspace; use ``Workspace.open``."""

    def __init__(
        self, root: Path, identity: ReviewerIdentity, key: WorkspaceKey, session: Session
    ) -> None:
        self.root = root
        self.identity = identity
        self.key = key
        self.session = session
        self.tips_dir = root / "tips"
        self.outbox_dir = root / "outbox"

    @classmethod
    @contextlib.contextmanager
    def open(cls, root: Path, identity: ReviewerIdentity) -> Iterator[Workspace]:
        """Unlock the workspace at ``root`` (making it if new); commits when the block succeeds."""
        root = root.expanduser().absolute()
        key = _unlock(root, identity)
        engine = _engine(root / DATABASE_FILE)
        try:
            _create_schema(engine)
            with Session(engine) as session:
                workspace = cls(root, identity, key, session)
                workspace._check_schema()
                yield workspace
                session.commit()
        except DatabaseError as err:
            if not _damaged(err):
                raise
            raise WorkspaceError(
                f"the workspace database at {root / DATABASE_FILE} is damaged or not a Cairn "
                "workspace; restore it from a backup"
            ) from None
        finally:
            engine.dispose()

    def _check_schema(self) -> None:
        version = self.session.get(Setting, "schema")
        if version is None:
            self.session.add(Setting(name="schema", value=SCHEMA_VERSION.encode()))
            self.session.add(
                Setting(
                    name="signing_key", value=self.seal(str(SigningKey.generate(KeyKind.REVIEWER)))
                )
            )
            self.session.flush()
        elif version.value.decode() != SCHEMA_VERSION:
            raise WorkspaceError(
                f"{self.root} was made by another version of Cairn (schema "
                f"{version.value.decode()}); use that version"
            )

    def seal(self, text: str) -> bytes:
        return self.key.seal(text)

    def unseal(self, sealed: bytes) -> str:
        return self.key.open(sealed)

    def unseal_optional(self, sealed: bytes | None) -> str:
        return "" if sealed is None else self.unseal(sealed)

    def delete(self, row: Base) -> None:
        """Delete ``row`` now, so that a later lookup in this session finds it gone."""
        self.session.delete(row)
        self.session.flush()

    def pinned_server_key(self) -> VerifyKey | None:
        setting = self.session.get(Setting, "server_key")
        return None if setting is None else parse_verify_key(setting.value.decode(), KeyKind.SERVER)

    def server_key(self) -> VerifyKey:
        """The pinned server key, which everything from the server must be signed by."""
        key = self.pinned_server_key()
        if key is None:
            raise WorkspaceError(
                "no server key is pinned; pin the one the operator gave you with "
                "`review trust cairnserver1...`"
            )
        return key

    def pin_server_key(self, key: VerifyKey) -> None:
        self.session.merge(Setting(name="server_key", value=str(key).encode()))

    @functools.cached_property
    def signing_key(self) -> SigningKey:
        """The workspace's own Ed25519 key, which signs acks, reply bundles and exchange files;
        opened once (it is written only when the workspace is made)."""
        setting = self.session.get_one(Setting, "signing_key")
        return parse_signing_key(self.unseal(setting.value), KeyKind.REVIEWER)

    def tip_path(self, tip: Tip) -> Path:
        return self.tips_dir / f"{tip.id}.age"

    def tip(self, ref: str) -> Tip:
        """The tip whose id is ``ref`` or starts with it."""
        exact = self.session.get(Tip, ref)
        if exact is not None:
            return exact
        found = self.session.scalars(
            select(Tip).where(func.substr(Tip.id, 1, len(ref)) == ref).limit(2)
        ).all()
        if len(found) == 1:
            return found[0]
        if found:
            raise WorkspaceError(f"more than one tip id starts with {ref!r}; give more of it")
        raise WorkspaceError(f"no tip {ref!r} in this workspace; `review tips` lists them")

    def source(self, ref: str) -> Source:
        """The source with pseudonym ``ref`` (any case, hyphen or space) or server id ``ref``."""
        pseudonym = "-".join(ref.lower().replace("-", " ").split())
        found = self.session.scalars(
            select(Source).where((Source.pseudonym == pseudonym) | (Source.id == ref))
        ).first()
        if found is None:
            raise WorkspaceError(
                f"no source {ref!r} in this workspace; `review sources` lists them"
            )
        return found

    def claim(self, claim_id: int) -> Claim:
        found = self.session.get(Claim, claim_id)
        if found is None:
            raise WorkspaceError(f"no claim {claim_id}; `review claims` lists them")
        return found

    def check_outside(self, path: Path) -> None:
        """Refuse to write plaintext into the workspace, which must hold none (I9)."""
        resolved = path.expanduser().resolve()
        if resolved == self.root.resolve() or self.root.resolve() in resolved.parents:
            raise WorkspaceError(
                f"{path} is inside the workspace, which must hold no plaintext; "
                "choose a place outside it"
            )


def _damaged(err: DatabaseError) -> bool:
    """Whether SQLite found the file corrupt or not a database at all, rather than a bug here."""
    code = getattr(err.orig, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _create_schema(engine: Engine) -> None:
    """Every table and every index the models name. ``create_all`` adds no index to a table
    that exists, so an index added since a workspace was made is added here."""
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)


def _unlock(root: Path, identity: ReviewerIdentity) -> WorkspaceKey:
    key_path = root / KEY_FILE
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root} is not a directory; give --workspace a directory")
    if not key_path.exists():
        if (root / DATABASE_FILE).exists():
            raise WorkspaceError(
                f"{key_path} is missing, so nothing in this workspace can be opened; "
                "restore it from a backup"
            )
        return _create(root, identity)
    with key_path.open("rb") as src:
        try:
            return WorkspaceKey.unwrap(src, identity)
        except age.NoIdentityMatchError:
            raise WorkspaceError(
                f"the workspace {root} belongs to another identity; give --identity the "
                "identity file it was made with"
            ) from None


def _create(root: Path, identity: ReviewerIdentity) -> WorkspaceKey:
    if root.exists() and any(root.iterdir()):
        raise WorkspaceError(
            f"{root} is not empty and is not a workspace; give --workspace a new directory"
        )
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for directory in ("tips", "outbox"):
        (root / directory).mkdir(mode=0o700, exist_ok=True)
    os.close(os.open(root / DATABASE_FILE, os.O_WRONLY | os.O_CREAT, 0o600))
    key = WorkspaceKey.generate()
    sealed = io.BytesIO()
    key.wrap(sealed, identity.recipient)
    write_private_file(root / KEY_FILE, sealed.getvalue())
    return key
