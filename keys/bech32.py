"""Bech32 (BIP 173) as age uses it: no length limit, and no mixed case."""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class Bech32Error(ValueError):
    """A string that is not valid Bech32."""


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= _GENERATOR[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & max_value)
    elif bits >= from_bits or (acc << (to_bits - bits)) & max_value:
        raise Bech32Error("invalid padding in data part")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under ``hrp``; the result has the case of ``hrp``."""
    values = _convert_bits(data, 8, 5, pad=True)
    lower_hrp = hrp.lower()
    checksum = _polymod([*_hrp_expand(lower_hrp), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    values += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    encoded = lower_hrp + "1" + "".join(CHARSET[v] for v in values)
    return encoded.upper() if hrp.isupper() else encoded


def decode(text: str) -> tuple[str, bytes]:
    """Return (hrp, data); the hrp keeps the case the string was written in."""
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("mixed case")
    if any(not 33 <= ord(c) <= 126 for c in text):
        raise Bech32Error("invalid character")
    sep = text.rfind("1")
    if sep < 1 or sep + 7 > len(text):
        raise Bech32Error("separator '1' at an invalid position")
    hrp = text[:sep]
    lowered = text.lower()
    try:
        values = [CHARSET.index(c) for c in lowered[sep + 1 :]]
    except ValueError:
        raise Bech32Error("invalid character in data part") from None
    if _polymod([*_hrp_expand(hrp.lower()), *values]) != 1:
        raise Bech32Error("invalid checksum")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, pad=False))


def decode_key(text: str, hrp: str, name: str, example: str) -> bytes:
    """The 32-byte key in ``text``, a Bech32 string of type ``hrp``. The ``ValueError`` calls it
    ``name`` and shows ``example``; it never repeats the text, which may be a secret key."""
    try:
        found, data = decode(text.strip())
    except Bech32Error as err:
        raise ValueError(f"not {name} ({err}); it should look like {example}") from None
    if found != hrp or len(data) != 32:
        raise ValueError(f"not {name}; it should look like {example}")
    return data
