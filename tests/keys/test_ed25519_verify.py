"""The kit's stdlib-only Ed25519 verifier agrees with RFC 8032 and with PyNaCl's signatures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.ed25519_verify import signed_message, verify
from keys.signing import KeyKind, SigningKey

# RFC 8032, section 7.1, tests 1 to 3: (public key, message, signature)
VECTORS = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("public", "message", "signature"), VECTORS)
def test_rfc_8032_vectors_verify_and_any_changed_byte_fails(
    public: str, message: str, signature: str
) -> None:
    key, text, sig = bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)
    assert verify(key, text, sig)
    assert not verify(key, text + b"x", sig)
    for index in range(64):
        changed = bytearray(sig)
        changed[index] ^= 1
        assert not verify(key, text, bytes(changed))


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=300), st.text(max_size=20))
def test_a_pynacl_signature_made_by_keys_signing_verifies(message: bytes, context: str) -> None:
    key = SigningKey.generate(KeyKind.RELEASE)
    signature = key.sign(context, message)
    assert verify(key.verify_key.raw, signed_message(context, message), signature)
    other = SigningKey.generate(KeyKind.RELEASE).verify_key.raw
    assert not verify(other, signed_message(context, message), signature)
    assert not verify(key.verify_key.raw, signed_message(context + "x", message), signature)


def test_malformed_inputs_are_refused_not_raised() -> None:
    key = SigningKey.generate()
    signature = key.sign("c", b"m")
    assert not verify(key.verify_key.raw[:31], signed_message("c", b"m"), signature)
    assert not verify(key.verify_key.raw, signed_message("c", b"m"), signature[:63])
    high_s = signature[:32] + (2**256 - 1).to_bytes(32, "little")  # s >= L is refused
    assert not verify(key.verify_key.raw, signed_message("c", b"m"), high_s)
    assert not verify(b"\xff" * 32, signed_message("c", b"m"), signature)  # not a point
