"""Static checks that keep the code base honest about what it lets slide.

- Ruff's S rules (bandit) stay selected and pass; every inline ``noqa`` in keys/, intake/ and
  review/ names its rules and says why, after ``--``; every per-file ignore in pyproject.toml has
  a comment above it saying why.
- Every dependency (runtime, development and the build backend) is pinned with ``==``, so what
  was tested is what gets installed.
- ``make test`` type-checks all three packages with mypy in strict mode.
"""

from __future__ import annotations

import ast
import io
import re
import subprocess
import tokenize
import tomllib
from pathlib import Path

from tests.support.intake import VENV_BIN

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("keys", "intake", "review")
# The marker, a colon, the rule codes, " -- ", then a reason of a few words, as in keys/signing.py.
JUSTIFIED_NOQA = re.compile(r"#\s*noqa:\s*[A-Z]+[0-9]+(\s*,\s*[A-Z]+[0-9]+)*\s+--\s+\S+(\s+\S+)+")
PINNED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?==[0-9][A-Za-z0-9.+!-]*")


def _comments(path: Path) -> list[tuple[int, str]]:
    """The comments of a Python file (strings that merely mention noqa are not comments)."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(token.start[0], token.string) for token in tokens if token.type == tokenize.COMMENT]


def test_every_noqa_in_the_packages_names_its_rules_and_says_why() -> None:
    unjustified = []
    seen = 0
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, comment in _comments(path):
                if "noqa" not in comment.lower():
                    continue
                seen += 1
                if not JUSTIFIED_NOQA.search(comment):
                    unjustified.append(f"{path.relative_to(ROOT)}:{line}: {comment}")
    assert seen, "no noqa found at all: is the scan looking in the right place?"
    assert not unjustified, "\n".join(unjustified)


def test_bandit_rules_are_selected_and_pass() -> None:
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    assert not [rule for rule in lint.get("ignore", []) if rule.startswith("S")]
    result = subprocess.run(
        [VENV_BIN / "ruff", "check", "--select", "S", "--no-cache", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_per_file_ignore_has_its_reason_above_it() -> None:
    """Each entry sits under a comment, alone or in a run of entries that share the reason."""
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[tool.ruff.lint.per-file-ignores]", 1)[1].split("\n[", 1)[0]
    reason = False
    for line in (line.strip() for line in section.strip().splitlines()):
        if line.startswith("#"):
            reason = True
        elif not line:
            reason = False
        else:
            assert reason, f"no reason given for {line}"


def test_every_dependency_is_pinned() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = {
        "build-system": project["build-system"]["requires"],
        "dependencies": project["project"]["dependencies"],
        **{
            f"optional-dependencies.{group}": listed
            for group, listed in project["project"].get("optional-dependencies", {}).items()
        },
    }
    assert requirements["dependencies"] and requirements["build-system"]
    loose = [
        f"{where}: {requirement}"
        for where, listed in requirements.items()
        for requirement in listed
        if not PINNED.fullmatch(requirement.strip())
    ]
    assert not loose, "\n".join(loose)


def test_make_test_type_checks_every_package_strictly() -> None:
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert mypy.get("strict") is True
    assert not [o for o in mypy.get("overrides", []) if o.get("strict") is False]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:.*\btypecheck\b", makefile, re.MULTILINE)
    recipe = makefile.split("\ntypecheck:", 1)[1].split("\n\n", 1)[0]
    checked = re.search(r"mypy((?:\s+[a-z]+)+)\s*$", recipe, re.MULTILINE)
    assert checked is not None, recipe
    assert set(checked.group(1).split()) >= set(PACKAGES), recipe


def _test_module_imports(path: Path) -> list[str]:
    """Where ``path`` imports a test module or a conftest (shared helpers go in tests/support)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            names = [("." * node.level) + (node.module or "")]
            names += [f"{names[0]}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            last = name.rsplit(".", 1)[-1]
            if name.startswith(("tests.", ".")) and (
                last.startswith("test_") or last == "conftest"
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    return sorted(set(found))


def test_no_test_imports_another_test_module() -> None:
    found = [
        hit for path in sorted((ROOT / "tests").rglob("*.py")) for hit in _test_module_imports(path)
    ]
    assert not found, "shared helpers belong in tests/support/:\n" + "\n".join(found)


def test_the_test_import_check_sees_one() -> None:
    planted = ROOT / "tests" / "support" / "_planted_for_the_check.py"
    try:
        planted.write_text(
            "from tests.review.test_service import database_use\nfrom .conftest import x\n"
        )
        assert len(_test_module_imports(planted)) == 2
    finally:
        planted.unlink()
