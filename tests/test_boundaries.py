"""The wings meet only through keys/ (docs/design.md, "The shape"): intake/ never imports
review/ nor the reverse, and keys/ imports neither of them and nothing web, database or
terminal. Every import statement of every module is read from its syntax tree, relative ones
resolved, so a boundary crossed anywhere (inside a function, under TYPE_CHECKING, through
importlib) fails here; the checker is itself tested on planted bad modules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("keys", "intake", "review")

# What keys/ must never import: web servers and clients, databases, terminals.
WEB_DATABASE_TERMINAL = frozenset(
    {
        # web
        "flask",
        "werkzeug",
        "jinja2",
        "markupsafe",
        "itsdangerous",
        "gunicorn",
        "waitress",
        "uvicorn",
        "limits",
        "requests",
        "urllib3",
        "httpx",
        "aiohttp",
        "socks",
        "http",
        "wsgiref",
        "socketserver",
        "babel",
        # databases
        "sqlalchemy",
        "alembic",
        "psycopg",
        "psycopg2",
        "redis",
        "sqlite3",
        "dbm",
        "shelve",
        # terminals
        "click",
        "rich",
        "curses",
        "pyte",
        "readline",
        "termios",
        "tty",
        "pty",
        "getpass",
        "prompt_toolkit",
        "colorama",
    }
)
FORBIDDEN_PREFIXES = ("flask_",)  # flask_wtf, flask_limiter, flask_babel, ...
MAY_NOT_IMPORT: dict[str, frozenset[str]] = {
    "keys": frozenset({"intake", "review"}) | WEB_DATABASE_TERMINAL,
    "intake": frozenset({"review"}),
    "review": frozenset({"intake"}),
}
_DYNAMIC_IMPORTS = {"import_module", "__import__"}


def _imports(tree: ast.AST, package: list[str]) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in a module whose package is ``package``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: max(0, len(package) - node.level + 1)] if node.level else []
            if node.module:
                yield node.lineno, ".".join([*base, node.module])
            else:  # from . import x: each name may be a module
                for alias in node.names:
                    yield node.lineno, ".".join([*base, alias.name])
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            argument = node.args[0] if node.args else None
            if name in _DYNAMIC_IMPORTS and isinstance(argument, ast.Constant):
                yield node.lineno, str(argument.value)


def boundary_violations(path: Path, root: Path) -> list[str]:
    """Each import in ``path`` (a module under ``root``) that crosses its wing's boundary."""
    parts = path.relative_to(root).with_suffix("").parts
    forbidden = MAY_NOT_IMPORT[parts[0]]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for line, module in _imports(tree, list(parts[:-1])):  # a module's package is its folder
        top = module.split(".")[0]
        if top in forbidden or (parts[0] == "keys" and top.startswith(FORBIDDEN_PREFIXES)):
            found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return found


def modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_the_walker_reads_every_module_of_the_three_packages() -> None:
    found = modules()
    assert {path.relative_to(ROOT).parts[0] for path in found} == set(PACKAGES)
    assert ROOT / "keys" / "courier_api.py" in found
    assert ROOT / "keys" / "age" / "stream.py" in found  # subpackages too


def test_no_module_crosses_its_wings_boundary() -> None:
    crossings = [crossing for path in modules() for crossing in boundary_violations(path, ROOT)]
    assert crossings == []


PLANTED = {
    "keys/web.py": ("import flask\n", "imports flask"),
    "keys/terminal.py": ("def show():\n    from rich.console import Console\n", "rich.console"),
    "keys/extension.py": ("from flask_limiter import Limiter\n", "flask_limiter"),
    "keys/database.py": (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sqlalchemy.orm\n",
        "sqlalchemy.orm",
    ),
    "keys/age/climb.py": ("from ...intake import store\n", "climb.py:1 imports intake"),
    "keys/dynamic.py": ("import importlib\nimportlib.import_module('redis')\n", "imports redis"),
    "intake/reach.py": ("from review.workspace import Workspace\n", "review.workspace"),
    "review/reach.py": ("import intake.store as store\n", "imports intake.store"),
    "review/sub/__init__.py": ("from ...intake import courier\n", "__init__.py:1 imports intake"),
}


@pytest.mark.parametrize("name", PLANTED)
def test_the_checker_catches_a_planted_crossing(tmp_path: Path, name: str) -> None:
    source, expected = PLANTED[name]
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    (violation,) = boundary_violations(path, tmp_path)
    assert expected in violation and violation.startswith(name)


def test_the_checker_lets_allowed_imports_through(tmp_path: Path) -> None:
    allowed = {
        "keys/fine.py": "import hashlib\nfrom nacl import bindings\nfrom .age import Reader\n",
        "keys/age/fine.py": "from ..signing import SigningKey\nfrom . import header\n",
        "intake/fine.py": "import flask\nfrom keys import bundle\nfrom .store import Store\n",
        "review/fine.py": "import click\nimport rich\nfrom keys.courier_api import Ack\n",
    }
    for name, source in allowed.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        assert boundary_violations(path, tmp_path) == [], name
