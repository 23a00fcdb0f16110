"""Fixtures for the desk: a workspace with tips from three sources (tests/support/desk.py), and
the desk over it, signed in as the launch address does it."""

from __future__ import annotations

from pathlib import Path

import pytest

from keys.signing import SigningKey
from review.desk import create_desk
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
