"""Properties of Cairn's age v1 files, checked with Hypothesis.

I7 (every encrypted object is an age v1 file): whatever the plaintext size and recipient set, the
file round-trips and opens with any one recipient's identity and with no one else's. I8 (bad input
loses nothing and releases nothing): any single bit flip, truncation or appended bytes make
decryption fail with a ``DecryptError``, ``decrypt`` releases at most whole authenticated chunks of
the true plaintext, and decrypting into a file through ``private_output`` leaves no file behind.
"""

from __future__ import annotations

import hashlib
import io
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keys import age
from keys.age import stream
from keys.private_files import private_output
from tests.support.age_bytes import decrypt, encrypt

CHUNK = 64 * 1024
ENCRYPTED_CHUNK = CHUNK + 16
TAG = 16
HEADER_NONCE = 16

# Sizes right at the STREAM chunk boundaries (0, 1, 2 and 3 chunks) +/- 2, and anything up to
# ~300 KiB, so the boundaries are hit often instead of once in a blue moon.
BOUNDARY_SIZES = sorted(
    {b + d for b in (0, CHUNK, 2 * CHUNK, 3 * CHUNK) for d in range(-2, 3)} - {-2, -1}
)
sizes = st.one_of(st.sampled_from(BOUNDARY_SIZES), st.integers(0, 300 * 1024))
# Smaller files for the tamper properties, which decrypt each example twice.
small_sizes = st.one_of(
    st.sampled_from([s for s in BOUNDARY_SIZES if s <= 2 * CHUNK + 2]), st.integers(0, 140 * 1024)
)
secret_keys = st.binary(min_size=32, max_size=32)

COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


@pytest.fixture(autouse=True, scope="module")
def one_chunk_runs() -> Iterator[None]:
    """Whole payloads go through the threaded pipeline in runs of one chunk here, so these
    properties, on files of a few chunks, cover it and the reuse of its buffers too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream, "RUN_CHUNKS", 1)
        patch.setattr(stream, "IN_FLIGHT", 2)
        patch.setattr(stream, "WORKERS", 2)
        yield


def make_plaintext(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def payload_offset(ciphertext: bytes) -> int:
    """Where the STREAM payload starts: after the header's MAC line and the 16-byte nonce."""
    mac_line = ciphertext.index(b"\n--- ") + 1
    return ciphertext.index(b"\n", mac_line) + 1 + HEADER_NONCE


def assert_rejected_and_nothing_released(
    tampered: bytes, plaintext: bytes, identity: age.Identity
) -> None:
    """A tampered file: DecryptError; at most whole authenticated chunks out; no file left."""
    out = io.BytesIO()
    try:
        age.decrypt(io.BytesIO(tampered), out, [identity])
    except age.DecryptError:
        pass
    else:
        raise AssertionError("a tampered file decrypted without error")
    released = out.getvalue()
    assert released == plaintext[: len(released)], "released bytes that are not the plaintext"
    assert len(released) % CHUNK == 0, "released part of a chunk"
    assert len(released) < len(plaintext) or not plaintext, "released everything, then failed"

    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "plaintext"
        try:
            with private_output(dst) as file:
                age.decrypt(io.BytesIO(tampered), file, [identity])
        except age.DecryptError:
            pass
        else:
            raise AssertionError("a tampered file decrypted into a file without error")
        assert not dst.exists()
        assert list(Path(tmp).iterdir()) == [], "a partial file was left behind"


@settings(max_examples=100, **COMMON)
@given(
    size=sizes,
    seed=st.integers(0, 2**32),
    secrets=st.lists(secret_keys, min_size=1, max_size=4),
    which=st.integers(0, 3),
)
def test_round_trip_any_size_any_recipient(
    size: int, seed: int, secrets: list[bytes], which: int
) -> None:
    """I7: any recipient's identity opens the file; someone else's gets NoIdentityMatchError."""
    identities = [age.X25519Identity(s) for s in secrets]
    outsider = age.X25519Identity(hashlib.sha256(b"outsider" + b"".join(secrets)).digest())
    assume(outsider.recipient not in {i.recipient for i in identities})
    data = make_plaintext(size, seed)

    ciphertext = encrypt(data, [i.recipient for i in identities])

    assert ciphertext.startswith(b"age-encryption.org/v1\n")
    chunks = max(1, -(-size // CHUNK))
    assert len(ciphertext) - payload_offset(ciphertext) == size + TAG * chunks
    assert ciphertext.count(b"\n-> X25519 ") == len(identities)
    assert decrypt(ciphertext, [identities[which % len(identities)]]) == data
    # Identities that do not match are skipped, not fatal.
    assert decrypt(ciphertext, [outsider, identities[-1]]) == data
    out = io.BytesIO()
    try:
        age.decrypt(io.BytesIO(ciphertext), out, [outsider])
    except age.NoIdentityMatchError:
        pass
    else:
        raise AssertionError("a non-recipient opened the file")
    assert out.getvalue() == b""


@settings(max_examples=60, **COMMON)
@given(size=sizes, seed=st.integers(0, 2**32), cuts=st.data())
def test_streaming_writes_match_one_shot(size: int, seed: int, cuts: st.DataObject) -> None:
    """I7: however the plaintext is cut into writes (empty ones included), the Encryptor writes
    the same age file structure (same chunking, so the same length) and it decrypts to the same
    bytes."""
    data = make_plaintext(size, seed)
    points = sorted(cuts.draw(st.lists(st.integers(0, size), max_size=40), label="cut points"))
    identity = age.X25519Identity.generate()
    out = io.BytesIO()
    with age.Encryptor(out, [identity.recipient]) as enc:
        for start, end in zip([0, *points], [*points, size], strict=True):
            assert enc.write(data[start:end]) == end - start
    assert len(out.getvalue()) == len(encrypt(data, [identity.recipient]))
    assert decrypt(out.getvalue(), [identity]) == data


@settings(max_examples=250, **COMMON)
@given(size=small_sizes, seed=st.integers(0, 2**32), where=st.data())
def test_any_bit_flip_is_rejected(size: int, seed: int, where: st.DataObject) -> None:
    """I8: flipping any one bit, in the header, the nonce or the payload, fails to decrypt."""
    data = make_plaintext(size, seed)
    identity = age.X25519Identity.generate()
    ciphertext = encrypt(data, [identity.recipient])
    header_bits = payload_offset(ciphertext) * 8
    bit = where.draw(
        st.one_of(st.integers(0, header_bits - 1), st.integers(0, len(ciphertext) * 8 - 1)),
        label="bit",
    )
    tampered = bytearray(ciphertext)
    tampered[bit // 8] ^= 1 << (bit % 8)
    assert_rejected_and_nothing_released(bytes(tampered), data, identity)


@settings(max_examples=150, **COMMON)
@given(size=small_sizes, seed=st.integers(0, 2**32), where=st.data())
def test_any_truncation_is_rejected(size: int, seed: int, where: st.DataObject) -> None:
    """I8: a file cut short anywhere (even at a chunk boundary) fails to decrypt."""
    data = make_plaintext(size, seed)
    identity = age.X25519Identity.generate()
    ciphertext = encrypt(data, [identity.recipient])
    start = payload_offset(ciphertext)
    boundaries = [start + k * ENCRYPTED_CHUNK + d for k in range(4) for d in (-1, 0, 1)]
    cut = where.draw(
        st.one_of(
            st.sampled_from([b for b in boundaries if 0 <= b < len(ciphertext)]),
            st.integers(0, len(ciphertext) - 1),
        ),
        label="keep bytes",
    )
    assert_rejected_and_nothing_released(ciphertext[:cut], data, identity)


@settings(max_examples=100, **COMMON)
@given(size=small_sizes, seed=st.integers(0, 2**32), extra=st.binary(min_size=1, max_size=40))
def test_any_appended_bytes_are_rejected(size: int, seed: int, extra: bytes) -> None:
    """I8: anything appended after the final chunk, even one byte, fails to decrypt."""
    data = make_plaintext(size, seed)
    identity = age.X25519Identity.generate()
    ciphertext = encrypt(data, [identity.recipient])
    assert_rejected_and_nothing_released(ciphertext + extra, data, identity)
