"""Tor's client-authorization lines read back, independently of keys.onion_auth, to check that
what Cairn writes holds the keys it should (tor's own reading is in tests/deploy/test_tor.py)."""

from __future__ import annotations

import base64

from keys.onion_auth import AUTH_TYPE, OnionAuthKeyPair, parse_onion_address


def _key(text: str) -> bytes:
    text = text.strip()
    key = base64.b32decode(text + "=" * (-len(text) % 8))
    assert len(key) == 32, text
    return key


def server_key(line: str) -> bytes:
    """The public key in an ``authorized_clients/*.auth`` line."""
    assert line.strip().startswith(AUTH_TYPE), line
    return _key(line.strip().removeprefix(AUTH_TYPE))


def client_keys(line: str) -> tuple[str, OnionAuthKeyPair]:
    """The onion address and key pair in a ``*.auth_private`` line."""
    address, _, rest = line.strip().partition(":")
    assert rest.startswith(AUTH_TYPE), line
    private_key = _key(rest.removeprefix(AUTH_TYPE))
    return parse_onion_address(address), OnionAuthKeyPair.from_private_key(private_key)
