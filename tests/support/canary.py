"""Canaries: unique strings planted as plaintext, and a search for them in the forms a careless
"seal" might leave readable (UTF-8, hex, base64 at each alignment, UTF-16, zlib and gzip)."""

from __future__ import annotations

import base64
import secrets
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path


def canary(what: str) -> str:
    return f"CANARY-{what}-{secrets.token_hex(8)}"


def _base64_cores(data: bytes, encode: Callable[[bytes], bytes]) -> Iterator[bytes]:
    """What ``data`` looks like inside any base64 text, at each of the 3 byte alignments: the
    characters that depend on ``data``'s bytes alone, whatever comes before or after it."""
    for shift in range(3):
        encoded = encode(b"\0" * shift + data)
        yield encoded[-(-8 * shift // 6) : 8 * (shift + len(data)) // 6]


def forms(canary: str) -> list[bytes]:
    """Byte strings any of which, found in a file, shows ``canary`` is readable there."""
    plain = canary.encode()
    found = [plain, plain.hex().encode(), plain.hex().upper().encode()]
    found += [canary.encode("utf-16-le"), canary.encode("utf-16-be")]
    found += _base64_cores(plain, base64.b64encode)
    found += _base64_cores(plain, base64.urlsafe_b64encode)
    found += [zlib.compress(plain, level) for level in range(10)]
    return found


def inflated(data: bytes) -> Iterator[bytes]:
    """The output of every zlib or gzip stream that starts anywhere in ``data``."""
    starts = (i for i in range(len(data) - 1) if data[i] in (0x78, 0x1F))
    for start in starts:
        header = data[start : start + 2]
        is_zlib = header[0] == 0x78 and int.from_bytes(header, "big") % 31 == 0
        if not (is_zlib or header == b"\x1f\x8b"):
            continue
        inflater = zlib.decompressobj(15 if is_zlib else 31)
        try:
            out = inflater.decompress(data[start:], 1 << 24)
        except zlib.error:
            continue
        if out:
            yield out


def readable(data: bytes, canary: str) -> bool:
    return any(form in data for form in forms(canary)) or any(
        form in out for out in inflated(data) for form in forms(canary)
    )


def traces(root: Path, canaries: list[str]) -> list[tuple[str, Path]]:
    """Every (canary, file) pair where the canary is readable in the file (see ``forms``)."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [(c, path) for c in canaries if readable(data, c)]
    return found
