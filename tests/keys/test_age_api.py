"""The public surface of keys.age and keys.bech32: key strings, errors people see, the streaming
Encryptor (and its patchable first chunk), and the passphrase recipient's rules."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from keys import age, bech32
from keys.private_files import private_output
from tests.support.age_bytes import decrypt, encrypt

CHUNK = 64 * 1024
# The identity of the CCTV vectors, and the recipient `age-keygen -y` derives from it.
CCTV_IDENTITY = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"
CCTV_RECIPIENT = "age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef"
FAST_WORK_FACTOR = 10
needs_age_cli = pytest.mark.skipif(
    shutil.which("age") is None, reason="the age CLI is not installed; .ci/run installs it"
)


# bech32 -------------------------------------------------------------------------------------------

_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _reference_polymod(hrp: str, values: list[int]) -> int:
    """BIP 173's checksum function, written out here independently of keys.bech32."""
    hrp = hrp.lower()
    chk = 1
    for v in [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _GEN[i] if (top >> i) & 1 else 0
    return chk


def _reference_checksum_ok(text: str) -> bool:
    text = text.lower()
    sep = text.rfind("1")
    return _reference_polymod(text[:sep], [bech32.CHARSET.index(c) for c in text[sep + 1 :]]) == 1


def _with_checksum(hrp: str, values: list[int]) -> str:
    chk = _reference_polymod(hrp, [*values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(chk >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(bech32.CHARSET[v] for v in [*values, *checksum])


def _upper_one_letter(text: str, start: int) -> str:
    """``text`` with its first lowercase letter at or after ``start`` made uppercase."""
    i = next(i for i in range(start, len(text)) if text[i].islower())
    return text[:i] + text[i].upper() + text[i + 1 :]


def _lower_one_letter(text: str, start: int) -> str:
    i = next(i for i in range(start, len(text)) if text[i].isupper())
    return text[:i] + text[i].lower() + text[i + 1 :]


@pytest.mark.parametrize(
    ("text", "hrp", "data"),
    [
        # BIP 173 valid test vectors.
        ("A12UEL5L", "A", b""),
        ("a12uel5l", "a", b""),
        (
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
            "abcdef",
            bytes.fromhex("00443214c74254b635cf84653a56d7c675be77df"),
        ),
        ("?1ezyfcl", "?", b""),
    ],
)
def test_bech32_known_vectors(text: str, hrp: str, data: bytes) -> None:
    assert bech32.decode(text) == (hrp, data)
    assert bech32.encode(hrp, data) == text


@pytest.mark.parametrize("hrp", ["age", "AGE-SECRET-KEY-", "a"])
@pytest.mark.parametrize("length", [0, 1, 2, 5, 31, 32, 33, 64, 100])
def test_bech32_round_trip(hrp: str, length: int) -> None:
    data = os.urandom(length)
    text = bech32.encode(hrp, data)
    assert text == (text.upper() if hrp.isupper() else text.lower())
    assert _reference_checksum_ok(text)
    assert bech32.decode(text) == (hrp, data)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # BIP 173 invalid test vectors.
        ("pzry9x0s0muk", "separator"),
        ("1pzry9x0s0muk", "separator"),  # empty HRP
        ("x1b4n0q5v", "invalid character"),
        ("li1dgmt3", "separator"),  # checksum too short
        ("A1G7SGD8", "checksum"),  # checksum computed over an uppercase HRP
        ("10a06t8", "separator"),
        ("\x201nwldj5", "invalid character"),
        ("\x7f1axkwrx", "invalid character"),
        ("de1lg7wt\xff", "invalid character"),
        ("a12UEL5L", "mixed case"),
        ("A12uEL5L", "mixed case"),
        (CCTV_RECIPIENT[:-1] + "q", "checksum"),
        (_upper_one_letter(CCTV_RECIPIENT, 10), "mixed case"),
        (_upper_one_letter(CCTV_RECIPIENT, 0), "mixed case"),  # in the HRP
        (_lower_one_letter(CCTV_IDENTITY, 40), "mixed case"),
    ],
)
def test_bech32_rejections(text: str, reason: str) -> None:
    with pytest.raises(bech32.Bech32Error, match=reason):
        bech32.decode(text)


def test_bech32_error_is_a_value_error() -> None:
    assert issubclass(bech32.Bech32Error, ValueError)


def test_bech32_detects_every_single_character_substitution() -> None:
    """Bech32 detects any one wrong character in strings this short; so must the decoder."""
    sep = CCTV_RECIPIENT.rfind("1")
    for pos in range(sep + 1, len(CCTV_RECIPIENT)):
        for c in bech32.CHARSET:
            if c == CCTV_RECIPIENT[pos]:
                continue
            corrupted = CCTV_RECIPIENT[:pos] + c + CCTV_RECIPIENT[pos + 1 :]
            with pytest.raises(bech32.Bech32Error, match="checksum"):
                bech32.decode(corrupted)


def test_bech32_rejects_nonzero_padding_bits() -> None:
    """32 bytes are 52 five-bit groups with 4 padding bits; those must be zero."""
    good = bech32.encode("age", bytes(32))
    values = [bech32.CHARSET.index(c) for c in good[4:-6]]
    assert len(values) == 52
    assert _with_checksum("age", values) == good  # the reference agrees with the encoder
    values[-1] |= 1  # a padding bit; the checksum is recomputed so only the padding is wrong
    with pytest.raises(bech32.Bech32Error, match="padding"):
        bech32.decode(_with_checksum("age", values))
    # Five or more leftover bits (a whole spare group) are invalid padding too, even if zero.
    with pytest.raises(bech32.Bech32Error, match="padding"):
        bech32.decode(_with_checksum("age", [0]))
    with pytest.raises(bech32.Bech32Error, match="padding"):
        bech32.decode(_with_checksum("age", [0] * 9))  # 45 bits: 5 bytes and 5 spare bits


# Key strings --------------------------------------------------------------------------------------


def test_known_identity_gives_known_recipient() -> None:
    identity = age.parse_identity(CCTV_IDENTITY)
    assert str(identity) == CCTV_IDENTITY
    assert str(identity.recipient) == CCTV_RECIPIENT
    assert age.parse_recipient(CCTV_RECIPIENT) == identity.recipient


def test_generated_key_string_forms() -> None:
    identity = age.X25519Identity.generate()
    secret, public = str(identity), str(identity.recipient)
    assert re.fullmatch(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", secret)
    assert re.fullmatch(r"age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}", public)
    assert age.parse_identity(secret).recipient == identity.recipient
    assert age.parse_recipient(public) == identity.recipient
    assert hash(age.parse_recipient(public)) == hash(identity.recipient)
    assert identity.recipient != age.X25519Identity.generate().recipient


def test_key_strings_tolerate_surrounding_whitespace() -> None:
    assert str(age.parse_identity(f"  {CCTV_IDENTITY}\n")) == CCTV_IDENTITY
    assert str(age.parse_recipient(f"\t{CCTV_RECIPIENT} \n")) == CCTV_RECIPIENT


def test_repr_never_shows_the_secret_key() -> None:
    identity = age.parse_identity(CCTV_IDENTITY)
    data_part = CCTV_IDENTITY[len("AGE-SECRET-KEY-1") :]
    for text in (repr(identity), repr([identity]), f"{identity!r}"):
        assert data_part not in text.upper()
        assert CCTV_RECIPIENT in text
    assert repr(identity.recipient) == f"X25519Recipient({CCTV_RECIPIENT})"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "age1"),
        ("hello", "age1"),
        (CCTV_IDENTITY, "age1"),  # an identity where a recipient belongs
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsK", "age1"),
        (CCTV_RECIPIENT[:-1] + "q", "checksum"),
        (CCTV_RECIPIENT.upper()[:20] + CCTV_RECIPIENT[20:], "mixed case"),
        (bech32.encode("age", bytes(31)), "age1"),  # 31-byte key
        (bech32.encode("age", bytes(33)), "age1"),
        (bech32.encode("agex", bytes(32)), "age1"),  # wrong HRP
    ],
)
def test_parse_recipient_errors(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=r"not an age (X25519 )?recipient") as excinfo:
        age.parse_recipient(text)
    assert fragment in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "age identity"),
        (CCTV_RECIPIENT, "AGE-SECRET-KEY-1"),  # a recipient where an identity belongs
        (CCTV_IDENTITY[:-1] + ("Q" if CCTV_IDENTITY[-1] != "Q" else "P"), "checksum"),
        (_lower_one_letter(CCTV_IDENTITY, 20), "mixed case"),
        (bech32.encode("AGE-SECRET-KEY-", bytes(31)), "AGE-SECRET-KEY-1"),
        (bech32.encode("AGE-PLUGIN-FOO-", bytes(32)), "AGE-SECRET-KEY-1"),
    ],
)
def test_parse_identity_errors(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=r"not an age (X25519 )?identity") as excinfo:
        age.parse_identity(text)
    error = excinfo.value
    assert fragment in str(error)
    # An error about a secret key must not carry the key into logs or tracebacks.
    if len(text) > 40:
        assert text[16:40].upper() not in str(error).upper()
        assert error.__cause__ is None
        assert error.__context__ is None or error.__suppress_context__


def test_raw_key_lengths_are_checked() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        age.X25519Identity(bytes(31))
    with pytest.raises(ValueError, match="32 bytes"):
        age.X25519Recipient(bytes(33))


# The streaming Encryptor --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])
def test_encryptor_many_small_writes(size: int) -> None:
    """Byte-by-byte and odd-sized writes give back the plaintext, chunked exactly like
    ``encrypt`` does (same length), never as one tiny chunk per write."""
    data = os.urandom(size)
    identity = age.X25519Identity.generate()
    for step in (1, 7, 4099):
        out = io.BytesIO()
        with age.Encryptor(out, [identity.recipient]) as enc:
            for i in range(0, size, step):
                assert enc.write(data[i : i + step]) == len(data[i : i + step])
                enc.write(b"")
        assert decrypt(out.getvalue(), [identity]) == data
        assert len(out.getvalue()) == len(encrypt(data, [identity.recipient]))


def test_encryptor_writes_the_header_at_once() -> None:
    """The header leaves before any plaintext arrives (nothing is held back unencrypted)."""
    out = io.BytesIO()
    age.Encryptor(out, [age.parse_recipient(CCTV_RECIPIENT)])
    assert out.getvalue().startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert b"\n--- " in out.getvalue()


def test_encryptor_refuses_writes_after_close() -> None:
    enc = age.Encryptor(io.BytesIO(), [age.parse_recipient(CCTV_RECIPIENT)])
    enc.write(b"x")
    enc.close()
    enc.close()  # idempotent
    with pytest.raises(ValueError):
        enc.write(b"y")


@pytest.mark.parametrize("size", [10, CHUNK + 10])
def test_interrupted_encryptor_never_yields_a_decryptable_file(size: int) -> None:
    """An exception inside ``with Encryptor`` leaves a file without its final chunk: it must
    not decrypt to a silently truncated plaintext (I8)."""
    identity = age.X25519Identity.generate()
    out = io.BytesIO()
    with pytest.raises(RuntimeError), age.Encryptor(out, [identity.recipient]) as enc:
        enc.write(os.urandom(size))
        raise RuntimeError("the upload was interrupted")
    with pytest.raises(age.PayloadError):
        decrypt(out.getvalue(), [identity])


def test_encryptor_needs_a_recipient() -> None:
    out = io.BytesIO()
    with pytest.raises(ValueError, match="recipient"):
        age.Encryptor(out, [])
    assert out.getvalue() == b""


# Patchable first chunk ----------------------------------------------------------------------------

PATCH_SIZES = [100, CHUNK - 1, CHUNK, CHUNK + 1, 200_000]


def _patched_file(size: int, prefix: bytes = b"") -> tuple[bytes, bytes, age.X25519Identity]:
    """An Encryptor(patchable=True) writes a zero placeholder, then patches it before close."""
    identity = age.X25519Identity.generate()
    body = os.urandom(size - 16)
    out = io.BytesIO()
    out.write(prefix)
    enc = age.Encryptor(out, [identity.recipient], patchable=True)
    enc.write(bytes(8))  # placeholder for, say, a length field
    enc.write(body[:50])
    enc.write(bytes(8))  # a second placeholder, still inside the first chunk
    enc.write(body[50:])
    enc.patch(0, b"LEN12345")
    enc.patch(58, b"SECOND!!")
    enc.close()
    expected = b"LEN12345" + body[:50] + b"SECOND!!" + body[50:]
    return out.getvalue(), expected, identity


@pytest.mark.parametrize("size", PATCH_SIZES)
def test_patch_before_close(size: int) -> None:
    ciphertext, expected, identity = _patched_file(size)
    assert len(expected) == size
    assert decrypt(ciphertext, [identity]) == expected
    # The placeholder (a zero-filled encrypted chunk) is gone: chunk 0 is encrypted once only.
    assert bytes(CHUNK + 16) not in ciphertext
    assert len(ciphertext) == len(encrypt(expected, [identity.recipient]))


def test_patch_with_data_already_in_the_destination() -> None:
    """The first chunk is rewritten where it lies, not at offset 0 of the destination."""
    prefix = b"something else first\n"
    ciphertext, expected, identity = _patched_file(200_000, prefix)
    assert ciphertext.startswith(prefix)
    assert decrypt(ciphertext[len(prefix) :], [identity]) == expected


@needs_age_cli
@pytest.mark.parametrize("size", [100, 200_000])
def test_patched_file_opens_with_age_cli(size: int, tmp_path: Path) -> None:
    """I7 holds for patched files too: the standard age tool reads them."""
    ciphertext, expected, identity = _patched_file(size)
    key_file = tmp_path / "key.txt"
    key_file.write_text(str(identity) + "\n")
    encrypted = tmp_path / "tip.age"
    encrypted.write_bytes(ciphertext)
    result = subprocess.run(
        ["age", "-d", "-i", key_file, encrypted], capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == expected


def test_patch_refusals() -> None:
    recipient = age.parse_recipient(CCTV_RECIPIENT)
    plain = age.Encryptor(io.BytesIO(), [recipient])
    plain.write(b"0123456789")
    with pytest.raises(ValueError):
        plain.patch(0, b"x")

    enc = age.Encryptor(io.BytesIO(), [recipient], patchable=True)
    enc.write(os.urandom(3 * CHUNK))
    with pytest.raises(ValueError, match="first chunk"):
        enc.patch(CHUNK - 2, b"beyond")
    enc.patch(CHUNK - 6, b"inside")
    enc.close()
    with pytest.raises(ValueError):
        enc.patch(0, b"x")

    small = age.Encryptor(io.BytesIO(), [recipient], patchable=True)
    small.write(b"0123")
    with pytest.raises(ValueError, match="first chunk"):
        small.patch(2, b"abc")  # past what has been written so far


@pytest.mark.parametrize("size", [100, 200_000])
def test_patch_rejects_negative_offsets(size: int) -> None:
    """BUG (keys/age/stream.py, StreamWriter.patch): a negative offset passes the bounds check,
    and bytearray slice assignment then *inserts* the data instead of replacing bytes. The first
    chunk grows past 64 KiB, so the Encryptor writes a file nobody can decrypt (I7, I8), or, for
    a short payload, the patch is silently lost. patch() must refuse it with a ValueError."""
    identity = age.X25519Identity.generate()
    out = io.BytesIO()
    enc = age.Encryptor(out, [identity.recipient], patchable=True)
    enc.write(bytes(size))
    with pytest.raises(ValueError):
        enc.patch(-4, b"abcd")
    enc.close()
    assert decrypt(out.getvalue(), [identity]) == bytes(size)


# Decrypting into a file ---------------------------------------------------------------------------


def test_decrypting_into_a_file_keeps_an_existing_one_on_failure(tmp_path: Path) -> None:
    """All or nothing (``private_output``, as the review tool exports): a failed decryption
    neither truncates nor replaces what was there."""
    identity = age.X25519Identity.generate()
    ciphertext = encrypt(os.urandom(CHUNK * 2), [identity.recipient])
    dst = tmp_path / "report.txt"
    dst.write_bytes(b"earlier export")
    with pytest.raises(age.PayloadError), private_output(dst) as out:
        age.decrypt(io.BytesIO(ciphertext[:-1]), out, [identity])
    assert dst.read_bytes() == b"earlier export"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]
    with private_output(dst) as out:
        age.decrypt(io.BytesIO(ciphertext), out, [identity])
    assert decrypt(ciphertext, [identity]) == dst.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


# Passphrases (scrypt) -----------------------------------------------------------------------------


def test_scrypt_round_trip_and_wrong_passphrase() -> None:
    data = os.urandom(1000)
    ciphertext = encrypt(data, [age.ScryptRecipient("pass phrase", work_factor=FAST_WORK_FACTOR)])
    assert re.search(rb"\n-> scrypt [A-Za-z0-9+/]{22} 10\n", ciphertext)
    assert decrypt(ciphertext, [age.ScryptIdentity("pass phrase")]) == data
    assert decrypt(ciphertext, [age.ScryptIdentity(b"pass phrase")]) == data
    with pytest.raises(age.NoIdentityMatchError):
        decrypt(ciphertext, [age.ScryptIdentity("pass phrasE")])
    with pytest.raises(age.NoIdentityMatchError):
        decrypt(ciphertext, [age.parse_identity(CCTV_IDENTITY)])
    with pytest.raises(age.NoIdentityMatchError):
        decrypt(ciphertext, [])


@pytest.mark.parametrize("other", ["x25519", "scrypt"])
def test_scrypt_must_be_the_only_recipient(other: str) -> None:
    scrypt = age.ScryptRecipient("pw", work_factor=FAST_WORK_FACTOR)
    another: age.Recipient = (
        age.parse_recipient(CCTV_RECIPIENT)
        if other == "x25519"
        else age.ScryptRecipient("another", work_factor=FAST_WORK_FACTOR)
    )
    for recipients in ([scrypt, another], [another, scrypt]):
        out = io.BytesIO()
        with pytest.raises(ValueError, match="only recipient"):
            age.Encryptor(out, recipients)
        assert out.getvalue() == b"", "nothing may be written for a refused recipient set"
        with pytest.raises(ValueError, match="only recipient"):
            age.encrypt(io.BytesIO(b"tip"), io.BytesIO(), recipients)


@pytest.mark.parametrize("work_factor", [0, -1, 23, 64])
def test_scrypt_recipient_work_factor_bounds(work_factor: int) -> None:
    with pytest.raises(ValueError, match="work factor"):
        age.ScryptRecipient("pw", work_factor=work_factor)


def test_scrypt_work_factor_above_the_identity_limit_is_a_header_error() -> None:
    """A file demanding more scrypt work than the identity allows is refused up front."""
    ciphertext = encrypt(b"tip", [age.ScryptRecipient("pw", work_factor=12)])
    with pytest.raises(age.DecryptError) as excinfo:
        decrypt(ciphertext, [age.ScryptIdentity("pw", max_work_factor=11)])
    assert type(excinfo.value) is age.HeaderError
    assert "12" in str(excinfo.value) and "11" in str(excinfo.value)
    # At the limit it is fine.
    assert decrypt(ciphertext, [age.ScryptIdentity("pw", max_work_factor=12)]) == b"tip"


def test_scrypt_work_factor_of_thousands_of_digits_is_a_header_error() -> None:
    """int() refuses over 4,300 digits with a ValueError; the parser must answer first."""
    ciphertext = encrypt(b"tip", [age.ScryptRecipient("pw", work_factor=FAST_WORK_FACTOR)])
    huge = re.sub(rb"(\n-> scrypt \S+ )10\n", rb"\g<1>" + b"9" * 5000 + b"\n", ciphertext)
    assert huge != ciphertext
    with pytest.raises(age.HeaderError, match="above the limit"):
        decrypt(huge, [age.ScryptIdentity("pw")])


def test_error_hierarchy() -> None:
    for kind in (age.HeaderError, age.HeaderMACError, age.NoIdentityMatchError, age.PayloadError):
        assert issubclass(kind, age.DecryptError)
        others = {age.HeaderError, age.HeaderMACError, age.NoIdentityMatchError, age.PayloadError}
        assert not any(issubclass(kind, other) for other in others - {kind})
