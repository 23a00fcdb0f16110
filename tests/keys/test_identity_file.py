"""Identity files: what ``age -p`` writes (I2, I7), and the floor on a new file's passphrase."""

from __future__ import annotations

from pathlib import Path

import pytest

from keys import age
from keys.codename import wordlist
from keys.identity_file import (
    MIN_PASSPHRASE_CHARS,
    PASSPHRASE_WORDS,
    WeakPassphraseError,
    generate_passphrase,
    read_identity_file,
    write_identity_file,
)


@pytest.mark.parametrize("passphrase", ["", "x", "y" * (MIN_PASSPHRASE_CHARS - 1)])
def test_i2_a_new_identity_file_refuses_a_short_passphrase(tmp_path: Path, passphrase: str) -> None:
    path = tmp_path / "identity.age"
    with pytest.raises(WeakPassphraseError, match=f"at least {MIN_PASSPHRASE_CHARS}"):
        write_identity_file(path, age.X25519Identity.generate(), passphrase, work_factor=10)
    assert not path.exists()


def test_a_generated_passphrase_clears_the_floor_and_opens_the_file(tmp_path: Path) -> None:
    passphrase = generate_passphrase()
    words = passphrase.split(" ")
    assert len(words) == PASSPHRASE_WORDS and set(words) <= set(wordlist())
    assert len(passphrase) >= MIN_PASSPHRASE_CHARS  # the shortest list words have three letters
    identity, path = age.X25519Identity.generate(), tmp_path / "identity.age"
    write_identity_file(path, identity, passphrase, work_factor=10)
    assert read_identity_file(path, passphrase).recipient == identity.recipient
    assert len({generate_passphrase() for _ in range(20)}) == 20
