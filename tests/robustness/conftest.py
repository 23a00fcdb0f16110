"""Fixtures for the robustness tests: the intake fixtures (instances on SQLite or PostgreSQL, the
real gunicorn server) and the courier and offline-reviewer ones, shared by importing them."""

from __future__ import annotations

from tests.courier.conftest import courier, offline
from tests.intake.conftest import (
    database_url,
    export_and_open,
    instance,
    make_instance,
    start_server,
)
