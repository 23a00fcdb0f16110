"""A newsroom: reviewers with their own workspaces, one server, tips sealed to all of them,
each pinning the others under a team name, and exchange files carried between them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keys.signing import KeyKind, SigningKey
from tests.support.review import Review, Reviewer, TipSpec, make_bundle, make_reviewer


@dataclass
class Newsroom:
    root: Path
    server: SigningKey
    reviewers: dict[str, Reviewer]
    desks: dict[str, Review]  # by team name
    keys: dict[str, str]  # each workspace key, by team name
    files: list[Path] = field(default_factory=list)

    def __getitem__(self, name: str) -> Review:
        return self.desks[name]

    def bundle(self, name: str, tips: Sequence[TipSpec]) -> Path:
        """A bundle of ``tips`` sealed to the whole newsroom, for ``name`` to import (the ack
        goes beside it, so each reviewer imports a bundle of their own)."""
        recipients = [reviewer.identity.recipient for reviewer in self.reviewers.values()]
        bundle = self.root / f"bundle-{len(self.files)}-{name}.tar"
        self.files.append(make_bundle(bundle, self.server, tips, recipients))
        return bundle

    def bring(self, name: str, tips: Sequence[TipSpec]) -> None:
        """Import a bundle of ``tips`` sealed to the whole newsroom into ``name``'s workspace."""
        self.desks[name]("import", str(self.bundle(name, tips)))

    def share(self, name: str) -> Path:
        """``name`` shares their changes since their last share; the file's path."""
        out = self.root / f"{len(self.files)}-{name}.cairn"
        self.files.append(out)
        self.desks[name]("share", "--out", str(out))
        return out

    def merge(self, name: str, file: Path) -> Any:
        """``name`` merges ``file``; what ``merge --json`` says."""
        return self.desks[name].json("merge", str(file))

    def send(self, sender: str, *receivers: str) -> Path:
        """``sender`` shares and each receiver merges the file."""
        file = self.share(sender)
        for receiver in receivers:
            self.merge(receiver, file)
        return file


def make_newsroom(root: Path, names: Sequence[str], tips: Sequence[TipSpec]) -> Newsroom:
    """Reviewers called ``names``, each trusting one server, holding ``tips`` and pinning
    everyone (themselves too, so that their own work shows under their team name)."""
    server = SigningKey.generate(KeyKind.SERVER)
    reviewers = {name: make_reviewer(root / name.lower()) for name in names}
    desks = {name: Review(root / name.lower() / "workspace", r) for name, r in reviewers.items()}
    keys = {}
    for name, desk in desks.items():
        desk("trust", str(server.verify_key))
        keys[name] = next(member["key"] for member in desk.json("team") if member["you"])
    newsroom = Newsroom(root, server, reviewers, desks, keys)
    for name, desk in desks.items():
        newsroom.bring(name, tips)
        for member, key in keys.items():
            desk("team", "add", key, "--name", member)
    return newsroom
