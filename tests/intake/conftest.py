"""Fixtures for the intake tests: the Flask app of an instance and its test client. Instances,
real gunicorn servers and exports are shared with other folders from tests/conftest.py."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake import create_app
from intake.instance import Instance


@pytest.fixture
def app(instance: Instance) -> Flask:
    return create_app(instance)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
