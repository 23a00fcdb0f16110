"""The age v1 header: recipient stanzas and the header MAC.

The parser is strict on purpose: every header that age's own implementation would reject is a
``HeaderError`` here too, so two implementations never disagree about what a file says.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Protocol

from .errors import HeaderError, HeaderMACError
from .primitives import b64decode, b64encode, hkdf_sha256

VERSION_LINE = b"age-encryption.org/v1\n"
COLUMNS = 64
MAX_HEADER_BYTES = 1 << 20
_B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


class LineReader(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Stanza:
    """One recipient's wrapping of the file key: a type, its arguments and a binary body."""

    type: str
    args: tuple[str, ...] = ()
    body: bytes = b""

    def marshal(self) -> bytes:
        line = b" ".join([b"->", self.type.encode(), *(a.encode() for a in self.args)])
        encoded = b64encode(self.body)
        lines = [encoded[i : i + COLUMNS] for i in range(0, len(encoded), COLUMNS)]
        if not lines or len(lines[-1]) == COLUMNS:
            lines.append(b"")
        return line + b"\n" + b"".join(chunk + b"\n" for chunk in lines)


@dataclass(frozen=True)
class Header:
    stanzas: tuple[Stanza, ...]
    mac: bytes = field(default=b"", compare=False)

    def marshal_without_mac(self) -> bytes:
        return VERSION_LINE + b"".join(s.marshal() for s in self.stanzas) + b"---"

    def marshal(self) -> bytes:
        return self.marshal_without_mac() + b" " + b64encode(self.mac) + b"\n"


def header_mac(file_key: bytes, header: Header) -> bytes:
    key = hkdf_sha256(file_key, b"", b"header")
    return hmac.digest(key, header.marshal_without_mac(), hashlib.sha256)


def seal_header(file_key: bytes, stanzas: list[Stanza]) -> bytes:
    header = Header(tuple(stanzas))
    return Header(header.stanzas, header_mac(file_key, header)).marshal()


def verify_mac(file_key: bytes, header: Header) -> None:
    if not hmac.compare_digest(header_mac(file_key, header), header.mac):
        raise HeaderMACError(
            "the file's header has been modified (header MAC mismatch); it cannot be trusted"
        )


def _is_arg(arg: bytes) -> bool:
    return bool(arg) and all(0x21 <= c <= 0x7E for c in arg)


class _Lines:
    def __init__(self, src: LineReader) -> None:
        self._src = src
        self._read = 0

    def next(self) -> bytes:
        line = self._src.readline(MAX_HEADER_BYTES - self._read + 1)
        self._read += len(line)
        if self._read > MAX_HEADER_BYTES:
            raise HeaderError("the age header is implausibly large")
        if not line.endswith(b"\n"):
            empty = self._read == 0
            raise HeaderError("the file is empty" if empty else "the file ends inside the header")
        return line[:-1]


def _read_body(lines: _Lines) -> bytes:
    encoded = b""
    while True:
        line = lines.next()
        if len(line) > COLUMNS or not all(c in _B64_CHARS for c in line):
            raise HeaderError("malformed stanza body line in the age header")
        encoded += line
        if len(line) < COLUMNS:
            return b64decode(encoded)


def parse_header(src: LineReader) -> Header:
    """Read the header from ``src``, leaving it positioned at the payload nonce."""
    lines = _Lines(src)
    if lines.next() + b"\n" != VERSION_LINE:
        raise HeaderError("not an age v1 file (unknown version line)")
    stanzas: list[Stanza] = []
    while True:
        line = lines.next()
        if line.startswith(b"-> "):
            args = line[3:].split(b" ")
            if not all(_is_arg(a) for a in args):
                raise HeaderError("malformed stanza line in the age header")
            body = _read_body(lines)
            stanzas.append(Stanza(args[0].decode(), tuple(a.decode() for a in args[1:]), body))
        elif line.startswith(b"--- "):
            mac = b64decode(line[4:])
            if len(mac) != 32:
                raise HeaderError("malformed header MAC")
            if not stanzas:
                raise HeaderError("the age header has no recipient stanzas")
            return Header(tuple(stanzas), mac)
        else:
            raise HeaderError("unexpected line in the age header")
