"""Helpers several test modules share: servers, sources, couriers, reviewers, bundles and byte
formats. Fixtures stay in the conftest files; what they and the tests build on lives here."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
