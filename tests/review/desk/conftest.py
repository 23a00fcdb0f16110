"""Fixtures for the desk: a workspace with tips from three sources (tests/support/desk.py), the
desk over it, signed in as the launch address does it (Chromium: tests/conftest.py)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keys.signing import SigningKey
from review.desk import create_desk
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.desk import HOST, LATER_TIPS, TIPS, Bench, Pages, launched, open_workspace
from tests.support.review import Review, Reviewer, make_bundle


@pytest.fixture
def bench(tmp_path: Path, review: Review, offline_reviewer: Reviewer, server: SigningKey) -> Bench:
    recipients = [offline_reviewer.identity.recipient]
    review("import", str(make_bundle(tmp_path / "first.tar", server, TIPS, recipients)))
    later = make_bundle(tmp_path / "later.tar", server, LATER_TIPS, recipients)
    app = create_desk(open_workspace(review.workspace, offline_reviewer))
    app.extensions["desk"].gate.host = HOST
    return Bench(app, launched(app), review, offline_reviewer, server, later)


@pytest.fixture
def pages(bench: Bench) -> Pages:
    found = Pages(bench.client)
    found.get("/")
    return found
