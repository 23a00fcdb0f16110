"""Conformance: every C2SP CCTV age v1 vector gives exactly the outcome it expects.

The vectors live in ``testdata/age-cctv/`` (see its README.md). Each file is ``key: value`` lines,
one blank line, then the age file. Cairn supports neither ASCII armor nor the post-quantum hybrid
recipients, so exactly the ``armor_*`` and ``hybrid*`` files are skipped, by name; every other
vector must pass. On every failure nothing unauthenticated may be released: decrypting into a
file through ``private_output`` leaves no file at all, and ``decrypt`` writes at most a prefix
of authenticated whole chunks.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from nacl import bindings
from nacl.exceptions import CryptoError

from keys import age
from keys.private_files import private_output

VECTOR_DIR = Path(__file__).parent / "testdata" / "age-cctv"
VECTOR_PATHS = sorted(p for p in VECTOR_DIR.iterdir() if p.name != "README.md")

# The vendored set (identical to ../shared/testdata/age-cctv/) holds 143 vectors: 33 armor_*,
# 18 hybrid* and 92 that Cairn must pass. The floor guards against an empty or half-copied
# directory silently passing; raise it when the vectors are updated.
MIN_SUPPORTED_VECTORS = 92

UNSUPPORTED_PREFIXES = {
    "armor_": "ASCII armor is unsupported by Cairn's age v1 implementation",
    "hybrid": "post-quantum hybrid (ML-KEM) recipients are unsupported by Cairn's age v1",
}

EXPECTED_ERRORS: dict[str, type[age.DecryptError]] = {
    "no match": age.NoIdentityMatchError,
    "HMAC failure": age.HeaderMACError,
    "header failure": age.HeaderError,
    "payload failure": age.PayloadError,
}
KNOWN_KEYS = {
    "expect",
    "payload",
    "file key",
    "identity",
    "passphrase",
    "armored",
    "compressed",
    "comment",
}
CHUNK_SIZE = 64 * 1024
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + 16


@dataclass
class Vector:
    name: str
    meta: dict[str, list[str]] = field(default_factory=dict)
    age_file: bytes = b""

    def one(self, key: str) -> str:
        (value,) = self.meta[key]
        return value

    @property
    def expect(self) -> str:
        return self.one("expect")

    def identities(self) -> list[age.Identity]:
        found: list[age.Identity] = []
        found += [age.parse_identity(text) for text in self.meta.get("identity", [])]
        found += [age.ScryptIdentity(text) for text in self.meta.get("passphrase", [])]
        return found


def unsupported_reason(name: str) -> str | None:
    for prefix, reason in UNSUPPORTED_PREFIXES.items():
        if name.startswith(prefix):
            return reason
    return None


def load_vector(path: Path) -> Vector:
    raw = path.read_bytes()
    head, sep, body = raw.partition(b"\n\n")
    assert sep, f"{path.name}: no blank line between the metadata and the age file"
    vector = Vector(path.name)
    for line in head.decode("utf-8").split("\n"):
        key, colon, value = line.partition(": ")
        assert colon, f"{path.name}: malformed metadata line {line!r}"
        assert key in KNOWN_KEYS, f"{path.name}: unknown metadata key {key!r}"
        vector.meta.setdefault(key, []).append(value)
    compressed = vector.meta.get("compressed", [None])[0]
    assert compressed in (None, "zlib"), f"{path.name}: unknown compression {compressed!r}"
    vector.age_file = zlib.decompress(body) if compressed == "zlib" else body
    return vector


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hkdf_sha256(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """A 32-byte HKDF-SHA-256 written here so the reference does not lean on keys.age."""
    prk = hmac.digest(salt, ikm, hashlib.sha256)
    return hmac.digest(prk, info + b"\x01", hashlib.sha256)


def authenticated_prefix(vector: Vector) -> bytes:
    """The plaintext of the leading chunks that authenticate, stopping after a final one.

    A full-size chunk may authenticate as a middle or a final chunk; a shorter one only as final.

    An independent reference built from the vector's ``file key``: the most a streaming
    decrypter may ever release from this file.
    """
    data = vector.age_file
    mac_line = data.index(b"\n--- ") + 1
    payload_start = data.index(b"\n", mac_line) + 1
    nonce = data[payload_start : payload_start + 16]
    key = _hkdf_sha256(bytes.fromhex(vector.one("file key")), nonce, b"payload")
    payload = data[payload_start + 16 :]
    released = b""
    for counter, start in enumerate(range(0, len(payload), ENCRYPTED_CHUNK_SIZE)):
        chunk = payload[start : start + ENCRYPTED_CHUNK_SIZE]
        if len(chunk) < 16:  # shorter than a tag: PyNaCl refuses it outright
            return released
        # Only a full-size chunk can be followed by another; a short one must be the last.
        flags = (False, True) if len(chunk) == ENCRYPTED_CHUNK_SIZE else (True,)
        for last in flags:
            chunk_nonce = counter.to_bytes(11, "big") + bytes([last])
            try:
                plain = bindings.crypto_aead_chacha20poly1305_ietf_decrypt(
                    chunk, None, chunk_nonce, key
                )
            except CryptoError:
                continue
            released += plain
            if last:
                return released
            break
        else:
            return released
    return released


def _param(path: Path) -> object:
    return pytest.param(path, id=path.name)


ALL_VECTORS = [_param(p) for p in VECTOR_PATHS]


def _supported_vector(path: Path) -> Vector:
    reason = unsupported_reason(path.name)
    if reason is not None:
        pytest.skip(reason)
    vector = load_vector(path)
    assert "armored" not in vector.meta, f"{path.name} is armored but not named armor_*"
    assert vector.expect == "success" or vector.expect in EXPECTED_ERRORS, vector.expect
    return vector


def test_vector_set_is_complete() -> None:
    """An empty or half-copied vector directory must not pass by running nothing."""
    supported = [p for p in VECTOR_PATHS if unsupported_reason(p.name) is None]
    skipped = [p.name for p in VECTOR_PATHS if unsupported_reason(p.name) is not None]
    assert (VECTOR_DIR / "README.md").is_file()
    assert len(supported) >= MIN_SUPPORTED_VECTORS, (len(supported), MIN_SUPPORTED_VECTORS)
    # Skipping is by exact name prefix only; nothing else may slip into the skip list.
    assert all(n.startswith(("armor_", "hybrid")) for n in skipped)
    outcomes = {load_vector(p).expect for p in supported}
    assert outcomes == {"success", *EXPECTED_ERRORS}, outcomes


@pytest.mark.parametrize("path", ALL_VECTORS)
def test_vector_decrypt(path: Path) -> None:
    """``decrypt`` to a stream gives the expected outcome, releasing only authenticated chunks."""
    vector = _supported_vector(path)
    out = io.BytesIO()
    if vector.expect == "success":
        age.decrypt(io.BytesIO(vector.age_file), out, vector.identities())
        assert sha256_hex(out.getvalue()) == vector.one("payload")
        return

    expected = EXPECTED_ERRORS[vector.expect]
    with pytest.raises(age.DecryptError) as excinfo:
        age.decrypt(io.BytesIO(vector.age_file), out, vector.identities())
    assert type(excinfo.value) is expected, (
        f"{vector.name}: expected {expected.__name__}, got {type(excinfo.value).__name__}: "
        f"{excinfo.value}"
    )
    assert str(excinfo.value), "every decryption error carries a message"

    released = out.getvalue()
    if vector.expect != "payload failure":
        assert released == b"", "nothing may be written before the payload is reached"
        return
    reference = authenticated_prefix(vector)
    if "payload" in vector.meta:
        # The vector's own partial-payload hash checks the reference itself.
        assert sha256_hex(reference) == vector.one("payload")
    assert len(released) <= len(reference)
    assert released == reference[: len(released)], "released bytes that never authenticated"
    assert len(released) % CHUNK_SIZE == 0, "only whole, non-final chunks precede a failure"


@pytest.mark.parametrize("path", ALL_VECTORS)
def test_vector_decrypt_to_a_file(path: Path, tmp_path: Path) -> None:
    """Decrypting into a file through ``private_output``, as the review tool exports, is all or
    nothing: the plaintext file on success, no file at all else."""
    vector = _supported_vector(path)
    dst = tmp_path / "plaintext"
    if vector.expect == "success":
        with private_output(dst) as out:
            age.decrypt(io.BytesIO(vector.age_file), out, vector.identities())
        assert sha256_hex(dst.read_bytes()) == vector.one("payload")
        assert [p.name for p in tmp_path.iterdir()] == ["plaintext"], "a partial file remains"
        return

    expected = EXPECTED_ERRORS[vector.expect]
    with pytest.raises(age.DecryptError) as excinfo, private_output(dst) as out:
        age.decrypt(io.BytesIO(vector.age_file), out, vector.identities())
    assert type(excinfo.value) is expected, (
        f"{vector.name}: expected {expected.__name__}, got {type(excinfo.value).__name__}"
    )
    assert not dst.exists()
    assert list(tmp_path.iterdir()) == [], "a partial file was left behind"
