"""Passphrase recipients and identities (scrypt), as ``age -p`` writes and reads them."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence

from nacl import bindings

from .errors import HeaderError
from .header import Stanza
from .primitives import b64decode, b64encode, open_sealed, seal
from .recipients import FILE_KEY_SIZE

DEFAULT_WORK_FACTOR = 18
MAX_WORK_FACTOR = 22
_SALT_LABEL = b"age-encryption.org/v1/scrypt"
_DECIMAL = re.compile(r"[1-9][0-9]*\Z")


def _wrap_key(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    n, r, p = 1 << work_factor, 8, 1
    maxmem = 128 * r * (n + 2 + p)  # what scrypt itself needs: one bound, checked by libsodium
    return bindings.crypto_pwhash_scryptsalsa208sha256_ll(
        passphrase, _SALT_LABEL + salt, n, r, p, dklen=32, maxmem=maxmem
    )


def _encode(passphrase: str | bytes) -> bytes:
    return passphrase.encode() if isinstance(passphrase, str) else passphrase


class ScryptRecipient:
    """Encrypts to a passphrase. age requires it to be the file's only recipient."""

    def __init__(self, passphrase: str | bytes, work_factor: int = DEFAULT_WORK_FACTOR) -> None:
        if not 1 <= work_factor <= MAX_WORK_FACTOR:
            raise ValueError(f"scrypt work factor must be between 1 and {MAX_WORK_FACTOR}")
        self._passphrase = _encode(passphrase)
        self.work_factor = work_factor

    def wrap(self, file_key: bytes) -> list[Stanza]:
        salt = secrets.token_bytes(16)
        key = _wrap_key(self._passphrase, salt, self.work_factor)
        args = (b64encode(salt).decode(), str(self.work_factor))
        return [Stanza("scrypt", args, seal(key, file_key))]


class ScryptIdentity:
    """Decrypts files encrypted to a passphrase, refusing work factors above a bound."""

    def __init__(self, passphrase: str | bytes, max_work_factor: int = MAX_WORK_FACTOR) -> None:
        self._passphrase = _encode(passphrase)
        self.max_work_factor = max_work_factor

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type != "scrypt":
                continue
            if len(stanza.args) != 2:
                raise HeaderError("an scrypt stanza must have exactly two arguments")
            salt = b64decode(stanza.args[0].encode())
            if len(salt) != 16:
                raise HeaderError("an scrypt stanza's salt must be 16 bytes")
            if not _DECIMAL.match(stanza.args[1]):
                raise HeaderError("an scrypt stanza's work factor must be a decimal number")
            # Three digits are past any limit, and int() of thousands raises ValueError.
            if len(stanza.args[1]) > 2 or int(stanza.args[1]) > self.max_work_factor:
                raise HeaderError(
                    f"the scrypt work factor {stanza.args[1][:10]} is above the limit "
                    f"{self.max_work_factor}; it would take too long to compute"
                )
            work_factor = int(stanza.args[1])
            if len(stanza.body) != FILE_KEY_SIZE + 16:
                raise HeaderError("an scrypt stanza's body must wrap a 16-byte file key")
            file_key = open_sealed(_wrap_key(self._passphrase, salt, work_factor), stanza.body)
            if file_key is not None:
                return file_key
        return None
