"""Reviewer identity files: the secret key line, age-encrypted with a passphrase.

That is exactly what ``age -p`` would write, so ``age -d`` opens the file without Cairn (I2, I7).

The file opens every tip, so whoever copies it can guess its passphrase offline, at the cost of
one scrypt run (work factor 18) a guess. A new file's passphrase therefore needs at least 15
characters: the floor NIST SP 800-63B (rev. 4) sets for a password that is the only factor. A
generated one is six words from the codename word list (77.4 bits). Files written before the
floor keep opening with whatever passphrase they have.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from . import age
from .age.scrypt import DEFAULT_WORK_FACTOR
from .age.x25519 import identity_secret
from .codename import diceware
from .private_files import open_new

MIN_PASSPHRASE_CHARS = 15
PASSPHRASE_WORDS = 6


class WrongPassphraseError(age.DecryptError):
    """The passphrase does not open this identity file."""


class WeakPassphraseError(ValueError):
    """The passphrase is too short for a new identity file."""


def check_new_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise WeakPassphraseError(
            f"the passphrase has {len(passphrase)} characters; a new identity file needs at "
            f"least {MIN_PASSPHRASE_CHARS}"
        )


def generate_passphrase() -> str:
    return diceware(PASSPHRASE_WORDS)


def write_identity_file(
    path: str | os.PathLike[str],
    identity: age.X25519Identity,
    passphrase: str,
    work_factor: int = DEFAULT_WORK_FACTOR,
) -> None:
    """Write a new identity file, readable by its owner only; never overwrites."""
    check_new_passphrase(passphrase)
    text = f"# public key: {identity.recipient}\n{identity}\n".encode()
    out = open_new(path)
    try:
        with out:
            age.encrypt(io.BytesIO(text), out, [age.ScryptRecipient(passphrase, work_factor)])
    except BaseException:
        os.unlink(path)
        raise


def read_identity_file(path: str | os.PathLike[str], passphrase: str) -> age.X25519Identity:
    """Open an identity file; a wrong passphrase raises ``WrongPassphraseError``."""
    plaintext = io.BytesIO()
    with Path(path).open("rb") as src:
        try:
            age.decrypt(src, plaintext, [age.ScryptIdentity(passphrase)])
        except age.NoIdentityMatchError:
            raise WrongPassphraseError(f"wrong passphrase for the identity file {path}") from None
    try:
        return age.X25519Identity(identity_secret(plaintext.getvalue().decode()))
    except ValueError as err:
        raise ValueError(f"{path} holds no valid identity ({err})") from None
