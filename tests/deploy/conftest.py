"""Fixtures for the deployment tests. No Docker engine is needed; a test whose tool is absent
skips, loudly, naming the package to install (.ci/run installs them)."""

from __future__ import annotations

import pytest

from tests.support.deploy import require_tool


@pytest.fixture
def tor() -> str:
    return require_tool("tor", "tor")
