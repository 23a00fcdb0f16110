"""Fixtures for the source-side tests: three real gunicorn servers (a normal one with a 1 MiB
upload limit, a busy one and a closed one) on one instance, for Chromium (tests/conftest.py)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from intake.db import migrate
from intake.instance import init_instance, load_instance
from keys import age
from tests.support.browser import (
    ADDRESS_PUBLISHED_AT,
    CHROMIUM,
    CHROMIUM_ARGS,
    ORGANISATION,
    Servers,
)
from tests.support.intake import FAST_SETTINGS, LiveServer, serve


@pytest.fixture(scope="session")
def servers(
    tmp_path_factory: pytest.TempPathFactory, reviewer: tuple[age.X25519Identity, Path, Path]
) -> Iterator[Servers]:
    """Three gunicorn servers on one instance: normal (1 MiB uploads), busy, and closed; each
    names the organisation and where it publishes the address, as an operator would set them."""
    root = tmp_path_factory.mktemp("source-servers")
    init_instance(
        root / "instance",
        [str(reviewer[0].recipient)],
        "",
        organisation_name=ORGANISATION,
        address_published_at=ADDRESS_PUBLISHED_AT,
        **FAST_SETTINGS,
    )
    instance = load_instance(root / "instance", env={})
    migrate(instance.database_url)
    started: list[LiveServer] = []
    try:
        for env in (
            {"CAIRN_MAX_UPLOAD_MIB": "1"},
            {"CAIRN_GLOBAL_POST_LIMIT": "1/hour"},
            {"CAIRN_MAX_STORED_GIB": "0"},
        ):
            started.append(serve(instance, root, env=env))
        yield Servers(instance, *started)
    finally:
        for server in started:
            server.stop()
