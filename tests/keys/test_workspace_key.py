"""keys.workspace_key: the key that seals the reviewer's work (kept with the review tests,
which are its only users so far)."""

from __future__ import annotations

import io

import pyrage
import pytest

from keys import age
from keys.workspace_key import WorkspaceKey, WorkspaceKeyError


def test_wrap_and_unwrap_with_the_reviewer_identity() -> None:
    reviewer = age.X25519Identity.generate()
    key = WorkspaceKey.generate()
    wrapped = io.BytesIO()
    key.wrap(wrapped, reviewer.recipient)
    again = WorkspaceKey.unwrap(io.BytesIO(wrapped.getvalue()), reviewer)
    assert again.open(key.seal("a note")) == "a note"
    assert again.fingerprint("file", b"x") == key.fingerprint("file", b"x")
    with pytest.raises(age.NoIdentityMatchError):
        WorkspaceKey.unwrap(io.BytesIO(wrapped.getvalue()), age.X25519Identity.generate())


def test_a_file_without_a_key_is_refused() -> None:
    reviewer = age.X25519Identity.generate()
    wrapped = io.BytesIO()
    age.encrypt(io.BytesIO(b"no key here\n"), wrapped, [reviewer.recipient])
    with pytest.raises(WorkspaceKeyError):
        WorkspaceKey.unwrap(io.BytesIO(wrapped.getvalue()), reviewer)


def test_sealed_text_opens_with_the_standard_age_tooling() -> None:
    """I7: with the reviewer's identity alone, rage opens the key and then any sealed note."""
    reviewer = age.X25519Identity.generate()
    key = WorkspaceKey.generate()
    wrapped = io.BytesIO()
    key.wrap(wrapped, reviewer.recipient)
    sealed = key.seal("Ünïcode note ✓")
    key_text = pyrage.decrypt(wrapped.getvalue(), [pyrage.x25519.Identity.from_str(str(reviewer))])
    (line,) = [ln for ln in key_text.decode().splitlines() if ln.startswith("AGE-SECRET-KEY-1")]
    note = pyrage.decrypt(sealed, [pyrage.x25519.Identity.from_str(line)])
    assert note.decode() == "Ünïcode note ✓"


def test_sealing_is_randomized_and_authenticated() -> None:
    key = WorkspaceKey.generate()
    first, second = key.seal("same"), key.seal("same")
    assert first != second
    tampered = bytearray(first)
    tampered[-1] ^= 1
    with pytest.raises(age.DecryptError):
        key.open(bytes(tampered))
    with pytest.raises(age.NoIdentityMatchError):
        WorkspaceKey.generate().open(first)


def test_fingerprints_are_keyed_and_separated_by_context() -> None:
    key = WorkspaceKey.generate()
    assert key.fingerprint("file", b"x") != key.fingerprint("pseudonym", b"x")
    assert key.fingerprint("file", b"x") != WorkspaceKey.generate().fingerprint("file", b"x")
    assert key.fingerprint("a", b"b\x00c") != key.fingerprint("a\x00b", b"c")
