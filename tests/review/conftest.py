"""Fixtures for the review tests: a reviewer, a server key and a workspace that trusts it."""

from __future__ import annotations

from pathlib import Path

import pytest

from keys.signing import KeyKind, SigningKey
from tests.support.review import Review, Reviewer, make_reviewer


@pytest.fixture
def offline_reviewer(tmp_path: Path) -> Reviewer:
    return make_reviewer(tmp_path / "reviewer")


@pytest.fixture
def server() -> SigningKey:
    return SigningKey.generate(KeyKind.SERVER)


@pytest.fixture
def review(tmp_path: Path, offline_reviewer: Reviewer, server: SigningKey) -> Review:
    """A workspace that trusts ``server``."""
    review = Review(tmp_path / "workspace", offline_reviewer)
    review("trust", str(server.verify_key))
    return review
