"""Opening the workspace: a damaged database, or an identity or passphrase file that cannot be
used, is a one-line error that names the file and changes nothing (I8)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.review import Review


def garbage(data: bytes) -> bytes:
    return b"not a database, just bytes\n" * 200


def damaged_pages(data: bytes) -> bytes:
    """SQLite's header and first page intact, every later page overwritten."""
    return data[:4096] + b"\xa5" * (len(data) - 4096)


@pytest.mark.parametrize("damage", [garbage, damaged_pages])
@pytest.mark.parametrize("command", [("tips",), ("claims",), ("claim", "add", "A claim")])
def test_i8_a_damaged_workspace_database_is_a_one_line_error(
    review: Review, damage: Callable[[bytes], bytes], command: tuple[str, ...]
) -> None:
    review("claim", "add", "An earlier claim")  # pages beyond the first
    database = review.workspace / "workspace.db"
    database.write_bytes(damage(database.read_bytes()))
    before = database.read_bytes()
    error = review.fails(*command)
    assert f"the workspace database at {database} is damaged or not a Cairn workspace" in error
    assert database.read_bytes() == before


def test_i8_a_passphrase_file_that_is_not_utf8_is_named(review: Review) -> None:
    latin1 = review.workspace.parent / "passphrase-latin1.txt"
    latin1.write_bytes("caf\xe9 passphrase\n".encode("latin-1"))
    for command in (("keys", "show"), ("keys", "new", "--out", str(latin1) + ".age"), ("tips",)):
        error = review.fails(*command, "--passphrase-file", str(latin1))
        assert f"{latin1} is not UTF-8 text" in error
    assert not (latin1.parent / (latin1.name + ".age")).exists()


def test_i8_an_identity_file_that_is_not_age_is_named(review: Review) -> None:
    not_age = review.workspace.parent / "notes.txt"
    not_age.write_text("AGE-SECRET-KEY-1 is not here\n")
    for command in (("keys", "show"), ("tips",)):
        error = review.fails(*command, "--identity", str(not_age))
        assert f"{not_age} is not an identity file written by `review keys new`" in error


def test_i8_an_identity_file_that_cannot_be_read_is_named(review: Review) -> None:
    unreadable = review.workspace.parent / ("x" * 300)  # longer than any file name may be
    error = review.fails("keys", "show", "--identity", str(unreadable))
    assert f"cannot read the identity file {unreadable} (File name too long)" in error


def test_i8_a_wrong_passphrase_is_named_once(review: Review) -> None:
    wrong = review.workspace.parent / "wrong.txt"
    wrong.write_text("not the passphrase\n")
    error = review.fails("keys", "show", "--passphrase-file", str(wrong))
    assert error.count(str(review.reviewer.identity_file)) == 1 and "wrong passphrase" in error
