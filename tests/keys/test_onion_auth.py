"""Client-authorization keys for the courier onion, in tor's formats (tor itself reads them in
tests/deploy/test_tor.py), and v3 onion addresses checked as tor checks them."""

from __future__ import annotations

import base64
import re

import pytest
from nacl.public import PrivateKey

from keys.onion_auth import OnionAuthKeyPair, b32encode, parse_onion_address
from tests.support.tor_auth import client_keys, server_key

# The Tor Project's own onion service (torproject.org): a real v3 address.
TORPROJECT = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid"
KEY = r"[A-Z2-7]{52}"


def test_a_key_pair_in_tors_two_formats() -> None:
    pair = OnionAuthKeyPair.generate()
    assert re.fullmatch(f"descriptor:x25519:{KEY}", pair.server_line())
    assert re.fullmatch(f"{TORPROJECT}:descriptor:x25519:{KEY}", pair.client_line(TORPROJECT))
    # The public half is X25519 of the private half (PyNaCl agrees), and tor's clamping holds.
    assert bytes(PrivateKey(pair.private_key).public_key) == pair.public_key
    assert pair.private_key[0] & 7 == 0 and pair.private_key[31] & 0xC0 == 0x40
    assert server_key(pair.server_line()) == pair.public_key
    assert client_keys(pair.client_line(TORPROJECT + ".onion")) == (TORPROJECT, pair)
    assert OnionAuthKeyPair.generate() != pair
    assert b32encode(pair.private_key) not in repr(pair)


def test_base32_matches_tors_writing() -> None:
    assert b32encode(bytes(32)) == "A" * 52
    assert b32encode(bytes(range(32))) == base64.b32encode(bytes(range(32))).decode().rstrip("=")


def test_onion_addresses_are_checked_like_tor_does() -> None:
    assert parse_onion_address(f"  {TORPROJECT.upper()}.onion\n") == TORPROJECT
    typo = TORPROJECT[:10] + ("b" if TORPROJECT[10] != "b" else "c") + TORPROJECT[11:]
    with pytest.raises(ValueError, match="checksum"):
        parse_onion_address(typo)
    for bad in ("", "example.onion", TORPROJECT[:-1], TORPROJECT[:-1] + "1", "x" * 56):
        with pytest.raises(ValueError):
            parse_onion_address(bad)
