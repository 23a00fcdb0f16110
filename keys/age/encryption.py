"""Encrypting and decrypting whole age files between binary streams."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from types import TracebackType

from .errors import HeaderError, NoIdentityMatchError
from .header import Stanza, parse_header, seal_header, verify_mac
from .primitives import hkdf_sha256
from .recipients import FILE_KEY_SIZE, Identity, Recipient
from .scrypt import ScryptRecipient
from .stream import Reader, StreamWriter, Writer, decrypt_stream, encrypt_stream, read_full

NONCE_SIZE = 16


class _LineSource:
    """Gives any reader (a socket, a database blob) the ``readline`` the header parser needs."""

    def __init__(self, src: Reader) -> None:
        self._src = src
        self._buffer = b""

    def readline(self, size: int = -1) -> bytes:
        while b"\n" not in self._buffer and (size < 0 or len(self._buffer) < size):
            block = self._src.read(4096)
            if not block:
                break
            self._buffer += block
        end = self._buffer.find(b"\n") + 1 or len(self._buffer)
        if size >= 0:
            end = min(end, size)
        line, self._buffer = self._buffer[:end], self._buffer[end:]
        return line

    def read(self, size: int = -1) -> bytes:
        if not self._buffer:
            return self._src.read(size)
        if size < 0:
            data, self._buffer = self._buffer + self._src.read(), b""
            return data
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def readinto(self, buffer: memoryview) -> int:
        """Straight into the caller's buffer once the header's leftovers are used up."""
        readinto = getattr(self._src, "readinto", None)
        if self._buffer or readinto is None:
            data = self.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)
        return int(readinto(buffer) or 0)


def _payload_key(file_key: bytes, nonce: bytes) -> bytes:
    return hkdf_sha256(file_key, nonce, b"payload")


def _write_header(dst: Writer, recipients: Sequence[Recipient]) -> bytes:
    """Write a new file's header and payload nonce; returns the payload key."""
    if not recipients:
        raise ValueError("at least one recipient is needed")
    if len(recipients) > 1 and any(isinstance(r, ScryptRecipient) for r in recipients):
        raise ValueError("a passphrase (scrypt) recipient must be the only recipient")
    file_key = secrets.token_bytes(FILE_KEY_SIZE)
    stanzas = [stanza for r in recipients for stanza in r.wrap(file_key)]
    nonce = secrets.token_bytes(NONCE_SIZE)
    dst.write(seal_header(file_key, stanzas) + nonce)
    return _payload_key(file_key, nonce)


class Encryptor:
    """A writable age file: the header goes out at once, the payload as it is written.

    ``patchable`` is passed to the STREAM writer (see ``StreamWriter.patch``).
    """

    def __init__(
        self, dst: Writer, recipients: Sequence[Recipient], *, patchable: bool = False
    ) -> None:
        self._stream = StreamWriter(_write_header(dst, recipients), dst, patchable=patchable)

    def write(self, data: bytes) -> int:
        return self._stream.write(data)

    def patch(self, offset: int, data: bytes) -> None:
        self._stream.patch(offset, data)

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> Encryptor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()


def encrypt(src: Reader, dst: Writer, recipients: Sequence[Recipient]) -> None:
    """Encrypt everything readable from ``src`` to ``recipients``, in bounded memory."""
    encrypt_stream(_write_header(dst, recipients), src, dst)


def decrypt(src: Reader, dst: Writer, identities: Sequence[Identity]) -> None:
    """Decrypt ``src`` into ``dst``; only authenticated chunks are ever written.

    Raises a ``DecryptError`` subclass that says which part failed.
    """
    src = _LineSource(src)
    header = parse_header(src)
    if any(s.type == "scrypt" for s in header.stanzas) and len(header.stanzas) != 1:
        raise HeaderError("a passphrase (scrypt) stanza must be the only one in the header")
    file_key = _unwrap(header.stanzas, identities)
    verify_mac(file_key, header)
    nonce = read_full(src, NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise HeaderError("the file ends before the payload nonce")
    decrypt_stream(_payload_key(file_key, nonce), src, dst)


def _unwrap(stanzas: Sequence[Stanza], identities: Sequence[Identity]) -> bytes:
    for identity in identities:
        file_key = identity.unwrap(stanzas)
        if file_key is not None:
            return file_key
    raise NoIdentityMatchError(
        "none of the given keys can open this file (it was encrypted to someone else, "
        "or the passphrase is wrong)"
    )
