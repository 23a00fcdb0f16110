"""Reviewer identity files: the secret key line, age-encrypted with a passphrase.

That is exactly what ``age -p`` would write, so ``age -d`` opens the file without Cairn (I2, I7).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from . import age

DEFAULT_WORK_FACTOR = 18


class WrongPassphraseError(age.DecryptError):
    """The passphrase does not open this identity file."""


def write_identity_file(
    path: str | os.PathLike[str],
    identity: age.X25519Identity,
    passphrase: str,
    work_factor: int = DEFAULT_WORK_FACTOR,
) -> None:
    """Write a new identity file, readable by its owner only; never overwrites."""
    if not passphrase:
        raise ValueError("an identity file needs a non-empty passphrase")
    text = f"# public key: {identity.recipient}\n{identity}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
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
    for line in plaintext.getvalue().decode().splitlines():
        if line.startswith("AGE-SECRET-KEY-1"):
            return age.parse_identity(line)
    raise ValueError(f"{path} holds no AGE-SECRET-KEY-1 line")
