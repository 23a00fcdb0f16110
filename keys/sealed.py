"""Sealed items: one age file per message, attached file or reply.

The plaintext is a one-line JSON header (format version, kind, original name, media type, true
length), then the content, then zero padding up to the Padmé size. Name and media type therefore
exist only inside the ciphertext, and the ciphertext size says little about the true size.

Items are sealed while they stream in, before their length is known: the header is written with
its length field padded to a fixed width, and the first STREAM chunk is patched on close.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from . import age
from .age import Reader, SeekableWriter, Writer
from .age.chunks import CHUNK_SIZE
from .padme import padme

FORMAT_VERSION = 1
KINDS = frozenset({"message", "file", "reply"})
MAX_HEADER_BYTES = 8 * 1024
MAX_NAME_CHARS = 1024
_LENGTH_WIDTH = 20


class SealedItemError(age.DecryptError):
    """The item decrypted, but its content is not a well-formed sealed item."""


@dataclass(frozen=True)
class ItemHeader:
    kind: str
    name: str = ""
    media_type: str = "application/octet-stream"
    length: int = 0
    version: int = FORMAT_VERSION


def _header_line(header: ItemHeader) -> bytes:
    fields = {
        "v": header.version,
        "kind": header.kind,
        "name": header.name,
        "type": header.media_type,
    }
    start = json.dumps(fields, separators=(",", ":"))[:-1]
    return f'{start},"length":{header.length:<{_LENGTH_WIDTH}}}}\n'.encode()


def _length_offset(line: bytes) -> int:
    return line.rindex(b'"length":') + len(b'"length":')


class ItemWriter:
    """Seals one item to ``recipients`` as it is written; ``close()`` returns its true length."""

    def __init__(
        self,
        dst: SeekableWriter,
        recipients: Sequence[age.Recipient],
        kind: str,
        name: str = "",
        media_type: str = "application/octet-stream",
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown item kind {kind!r}")
        self._line = _header_line(ItemHeader(kind, name[:MAX_NAME_CHARS], media_type[:255]))
        if len(self._line) > MAX_HEADER_BYTES:
            raise ValueError("item header too large")
        self._encryptor = age.Encryptor(dst, recipients, patchable=True)
        self._encryptor.write(self._line)
        self._length = 0

    def write(self, data: bytes) -> int:
        self._length += len(data)
        return self._encryptor.write(data)

    def close(self) -> int:
        total = len(self._line) + self._length
        padding = padme(total) - total
        while padding:
            step = min(padding, CHUNK_SIZE)
            self._encryptor.write(bytes(step))
            padding -= step
        digits = f"{self._length:<{_LENGTH_WIDTH}}".encode()
        self._encryptor.patch(_length_offset(self._line), digits)
        self._encryptor.close()
        return self._length

    def seal_all(self, src: Reader) -> int:
        """Seal everything readable from ``src``, then close; returns the true length."""
        while block := src.read(CHUNK_SIZE):
            self.write(block)
        return self.close()


def _parse_header(line: bytes) -> ItemHeader:
    try:
        fields = json.loads(line)
        header = ItemHeader(
            kind=fields["kind"],
            name=fields["name"],
            media_type=fields["type"],
            length=fields["length"],
            version=fields["v"],
        )
    except (ValueError, KeyError, TypeError, RecursionError):  # JSON nested too deeply, too
        raise SealedItemError("the item's header is not valid") from None
    if type(header.version) is not int or header.version != FORMAT_VERSION:
        raise SealedItemError(f"unsupported sealed item version {header.version!r}")
    if not isinstance(header.kind, str) or header.kind not in KINDS:
        raise SealedItemError("the item's header is not valid")
    if type(header.length) is not int or header.length < 0:  # (bool is an int subclass)
        raise SealedItemError("the item's header is not valid")
    if not isinstance(header.name, str) or not isinstance(header.media_type, str):
        raise SealedItemError("the item's header is not valid")
    return header


class _Unsealer:
    """Receives decrypted plaintext; passes the content on and checks header and padding."""

    def __init__(self, dst: Writer) -> None:
        self._dst = dst
        self._pending = bytearray()
        self.header: ItemHeader | None = None
        self._header_size = 0
        self._remaining = 0
        self._padding = 0

    def write(self, data: bytes | memoryview) -> int:
        if self.header is None:
            self._pending += data
            end = self._pending.find(b"\n")
            if end < 0:
                if len(self._pending) > MAX_HEADER_BYTES:
                    raise SealedItemError("the item's header is missing or too long")
                return len(data)
            if end + 1 > MAX_HEADER_BYTES:
                raise SealedItemError("the item's header is missing or too long")
            self.header = _parse_header(bytes(self._pending[: end + 1]))
            self._header_size = end + 1
            self._remaining = self.header.length
            data = bytes(self._pending[end + 1 :])
            self._pending.clear()
        content = data[: self._remaining]
        if content:
            self._dst.write(content)
            self._remaining -= len(content)
        rest = bytes(data[len(content) :])  # the padding: at most an eighth of the item
        if rest.count(0) != len(rest):
            raise SealedItemError("the item's padding is not zeros")
        self._padding += len(rest)
        return len(data)

    def finish(self) -> ItemHeader:
        if self.header is None:
            raise SealedItemError("the item has no header")
        total = self._header_size + self.header.length
        if self._remaining or total + self._padding != padme(total):
            raise SealedItemError("the item's length does not match its header")
        return self.header


def open_item(src: Reader, dst: Writer, identities: Sequence[age.Identity]) -> ItemHeader:
    """Decrypt a sealed item, writing only its content to ``dst``; returns its header."""
    unsealer = _Unsealer(dst)
    age.decrypt(src, unsealer, identities)
    return unsealer.finish()
