"""Fuzzing with Hypothesis, bounded (a fixed number of examples, about a minute in all).

Each parser that reads what an adversary can write must fail only with the exception its callers
turn into a clear refusal (I8), and never release or store anything it has not verified:

- the age header parser and decrypt (I7): arbitrary bytes, header-shaped bytes and mutations of
  valid files raise only ``age.DecryptError`` subclasses; what is released is a prefix of the
  true plaintext;
- ``keys.bundle.open_bundle`` and ``receive_bundle``: only ``BundleError``, for mutated bundles
  and for well-signed manifests with arbitrary JSON in them;
- ``keys.sealed.open_item``: only ``DecryptError``, for arbitrary plaintext inside a valid age
  file (so the sealed-item parser itself is fuzzed) and for mutated items;
- ``keys.courier.verify_request``: only ``CourierAuthError``;
- intake's request parsing (``receive_submission`` and the other forms, through the Flask test
  client): a status below 500, and a refused request stores nothing.

atheris is not used. Its wheel installs from PyPI, and was tried against these same targets
(age decrypt, open_item, open_bundle/receive_bundle, verify_request): from empty seeds it never got
past age's version line or formed a tar header in 25 s a target; seeded with valid files it found
nothing in 30 s a target that these strategies do not cover. It would add a 35 MB dependency and a
libFuzzer process to drive from pytest, for byte-level mutations that ``mutated`` already makes.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import io
import json
import random
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from intake import create_app
from intake.instance import Instance
from keys import age
from keys.bundle import BundleError, open_bundle, receive_bundle
from keys.courier import HEADERS, CourierAuthError, CourierRequest, sign_request, verify_request
from keys.sealed import MAX_HEADER_BYTES, ItemWriter, SealedItemError, open_item
from keys.signing import SigningKey
from tests.support.forms import BOUNDARY, CONTENT_TYPE, CountingStream, log_in, part
from tests.support.robustness import table_counts

FUZZ = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
}
CHUNK = 64 * 1024
IDENTITY = age.X25519Identity.generate()
PASSPHRASE = "fuzzing passphrase"
# Work factors above this are refused before any work: the fuzzer's scrypt stays cheap.
SCRYPT = age.ScryptIdentity(PASSPHRASE, max_work_factor=3)


# age


def b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def wrapped(body: bytes) -> bytes:
    encoded = b64(body)
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    if not lines or len(lines[-1]) == 64:
        lines.append(b"")
    return b"".join(line + b"\n" for line in lines)


tokens = st.binary(min_size=0, max_size=12) | st.sampled_from(
    [b"X25519", b"scrypt", b"ssh-ed25519", b"", b"-", b"\xff", b"a b"]
)
args = st.lists(
    st.sampled_from([b64(bytes(32)), b64(bytes(16)), b"1", b"2", b"22", b"23", b"0", b"01", b"="])
    | tokens,
    max_size=3,
)
stanzas = st.builds(
    lambda kind, arguments, body, raw: (
        b"-> " + b" ".join([kind, *arguments]) + b"\n" + (raw if raw is not None else wrapped(body))
    ),
    tokens,
    args,
    st.binary(max_size=100),
    st.none() | st.binary(max_size=80),
)
headers = st.builds(
    lambda version, stanza_list, mac, rest: (
        version + b"\n" + b"".join(stanza_list) + b"--- " + mac + b"\n" + rest
    ),
    st.sampled_from([b"age-encryption.org/v1", b"age-encryption.org/v2", b"", b"age"]),
    st.lists(stanzas, max_size=3),
    st.sampled_from([b64(bytes(32)), b64(bytes(31)), b"", b"AAAA="]) | st.binary(max_size=50),
    st.binary(max_size=200),
)


def decrypt_only_decrypt_errors(data: bytes, identities: list[age.Identity]) -> bytes | None:
    """Decrypt ``data``: the plaintext, or None after a ``DecryptError`` (anything else fails)."""
    out = io.BytesIO()
    try:
        age.decrypt(io.BytesIO(data), out, identities)
    except age.DecryptError:
        return None
    return out.getvalue()


@settings(max_examples=1000, **FUZZ)
@given(data=st.binary(max_size=3000) | headers)
def test_i7_i8_age_decrypt_of_arbitrary_bytes_raises_only_decrypt_errors(data: bytes) -> None:
    assert decrypt_only_decrypt_errors(data, [IDENTITY]) is None
    assert decrypt_only_decrypt_errors(data, [SCRYPT]) is None


@functools.cache
def encrypted(plaintext: bytes, passphrase: bool) -> bytes:
    """Cached: encryption is randomised, and Hypothesis replays a case expecting equal bytes."""
    out = io.BytesIO()
    recipients: list[age.Recipient] = (
        [age.ScryptRecipient(PASSPHRASE, work_factor=2)]
        if passphrase
        else [IDENTITY.recipient, age.X25519Identity.generate().recipient]
    )
    age.encrypt(io.BytesIO(plaintext), out, recipients)
    return out.getvalue()


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    """1-4 mutations of ``valid``: flips, inserts, deletions, duplications, cuts, line swaps."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "cut", "lines"]))
        if kind == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16) | st.sampled_from([b"\n", b" "]))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
        elif kind == "cut":
            del data[at:]
        elif kind == "lines":
            lines = bytes(data).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@st.composite
def mutated_age_files(draw: st.DrawFn) -> tuple[bytes, bytes, bool]:
    size = draw(st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1]) | st.integers(0, 2 * CHUNK))
    plaintext = random.Random(draw(st.integers(0, 2**32))).randbytes(size)
    passphrase = draw(st.booleans())
    valid = encrypted(plaintext, passphrase)
    return plaintext, draw(mutated(valid)), passphrase


@settings(max_examples=400, **FUZZ)
@given(case=mutated_age_files())
def test_i7_i8_mutated_age_files_fail_only_with_decrypt_errors_and_release_no_forgery(
    case: tuple[bytes, bytes, bool],
) -> None:
    plaintext, data, passphrase = case
    identities: list[age.Identity] = [SCRYPT] if passphrase else [IDENTITY]
    out = io.BytesIO()
    try:
        age.decrypt(io.BytesIO(data), out, identities)
    except age.DecryptError:
        released = out.getvalue()
        assert released == plaintext[: len(released)]  # only authenticated chunks, in order
        return
    assert out.getvalue() == plaintext, "a modified file decrypted to something else"


# Sealed items


def sealed_with(plaintext: bytes) -> bytes:
    """A valid age file whose plaintext is anything: what a sealed item's parser must survive."""
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, [IDENTITY.recipient])
    return out.getvalue()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
item_headers = st.fixed_dictionaries(
    {},
    optional={
        "v": st.just(1) | json_values,
        "kind": st.sampled_from(["message", "file", "reply"]) | json_values,
        "name": st.text(max_size=30) | json_values,
        "type": st.text(max_size=30) | json_values,
        "length": st.integers(-5, 300) | json_values,
    },
)


@st.composite
def sealed_plaintexts(draw: st.DrawFn) -> bytes:
    header = draw(item_headers.map(lambda h: json.dumps(h).encode()) | st.binary(max_size=200))
    content = draw(st.binary(max_size=300))
    padding = draw(st.sampled_from([b"", b"\x00" * 7, b"\x00" * 300, b"\x01"]))
    newline = draw(st.sampled_from([b"\n", b"", b"\r\n"]))
    return header + newline + content + padding


@settings(max_examples=600, **FUZZ)
@given(plaintext=sealed_plaintexts())
@example(plaintext=b"[" * 4000 + b"\n")
@example(plaintext=b'{"a":' * 1500 + b"1" + b"}" * 1500 + b"\n")
def test_i8_open_item_of_any_plaintext_raises_only_decrypt_errors(plaintext: bytes) -> None:
    try:
        header = open_item(io.BytesIO(sealed_with(plaintext)), io.BytesIO(), [IDENTITY])
    except age.DecryptError:
        return
    assert header.kind in {"message", "file", "reply"}


@pytest.mark.parametrize(
    "header",
    [
        {"v": 1, "kind": "file", "name": "n" * MAX_HEADER_BYTES, "type": "", "length": 0},
        {"v": 1, "kind": "message", "name": "", "type": "", "length": True},
        {"v": True, "kind": "message", "name": "", "type": "", "length": 0},
    ],
    ids=["line-over-the-limit", "length-true", "version-true"],
)
def test_i8_sealed_item_headers_past_their_limits_or_of_the_wrong_type_are_refused(
    header: dict[str, object],
) -> None:
    """The header's documented limits hold even when its line ends, and JSON booleans are not
    numbers (Python's bool is an int)."""
    plaintext = json.dumps(header).encode() + b"\n" + b"\x00" * 8
    with pytest.raises(SealedItemError):
        open_item(io.BytesIO(sealed_with(plaintext)), io.BytesIO(), [IDENTITY])


@functools.cache
def sealed_item(content: bytes, name: str) -> bytes:
    out = io.BytesIO()
    ItemWriter(out, [IDENTITY.recipient], "file", name).seal_all(io.BytesIO(content))
    return out.getvalue()


@st.composite
def mutated_items(draw: st.DrawFn) -> bytes:
    content = draw(st.binary(max_size=2000))
    return draw(mutated(sealed_item(content, draw(st.text(max_size=20)))))


@settings(max_examples=300, **FUZZ)
@given(data=mutated_items() | st.binary(max_size=500))
def test_i8_open_item_of_mutated_items_raises_only_decrypt_errors(data: bytes) -> None:
    with contextlib.suppress(age.DecryptError):
        open_item(io.BytesIO(data), io.BytesIO(), [IDENTITY])


# Bundles

SIGNER = SigningKey.generate()
VALID_ID = st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True)
bundle_items = st.fixed_dictionaries(
    {},
    optional={
        "id": VALID_ID | json_values,
        "source": VALID_ID | json_values,
        "kind": st.sampled_from(["message", "file", "reply"]) | json_values,
        "day": st.just("2026-11-26") | json_values,
        "size": st.integers(0, 100) | json_values,
        "reply_recipient": st.just("") | json_values,
        "submission": VALID_ID | json_values,
        "sha256": st.just("0" * 64) | json_values,
        "extra": json_values,
    },
)
manifests = (
    st.fixed_dictionaries(
        {},
        optional={
            "format": st.just("cairn-bundle") | json_values,
            "version": st.just(1) | json_values,
            "kind": st.sampled_from(["tips", "replies"]) | json_values,
            "signer": st.just(str(SIGNER.verify_key)) | json_values,
            "items": st.lists(bundle_items | json_values, max_size=3) | json_values,
        },
    )
    | json_values
)


@st.composite
def well_signed_bundles(draw: st.DrawFn) -> tuple[str, bytes]:
    """A tar with a manifest of arbitrary JSON, signed by SIGNER, and members for its items
    (with the right size and hash when ``consistent``), so the checks past the signature run."""
    kind = draw(st.sampled_from(["tips", "replies"]))
    manifest = draw(manifests)
    consistent = draw(st.booleans())
    entries: list[tuple[str, bytes]] = []
    raw_items = manifest.get("items") if isinstance(manifest, dict) else None
    for item in raw_items if isinstance(raw_items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            data = draw(st.binary(max_size=50))
            if consistent:
                item["size"], item["sha256"] = len(data), hashlib.sha256(data).hexdigest()
            entries.append((f"items/{item['id']}.age", data))
    body = json.dumps(manifest).encode()
    entries += [("manifest.json", body), ("manifest.sig", SIGNER.sign(f"bundle/{kind}", body))]
    if draw(st.booleans()):
        entries = draw(st.permutations(entries))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return kind, out.getvalue()


def bundle_only_bundle_errors(kind: str, data: bytes, work: Path) -> None:
    path = work / "bundle.tar"
    path.write_bytes(data)
    with contextlib.suppress(BundleError), open_bundle(path, SIGNER.verify_key, kind) as bundle:
        for item in bundle.items:
            bundle.check_item(item)
    with contextlib.suppress(BundleError):
        receive_bundle(io.BytesIO(data), kind, {SIGNER.verify_key}, max_bytes=len(data))


@pytest.fixture(scope="module")
def work() -> Path:
    return Path(tempfile.mkdtemp(prefix="cairn-fuzz-"))


@settings(max_examples=500, **FUZZ)
@given(case=well_signed_bundles())
@example(case=("replies", b""))
def test_i8_well_signed_bundles_with_any_manifest_raise_only_bundle_errors(
    case: tuple[str, bytes], work: Path
) -> None:
    bundle_only_bundle_errors(*case, work)


@st.composite
def mutated_bundles(draw: st.DrawFn) -> tuple[str, bytes]:
    kind, valid = draw(well_signed_bundles())
    return kind, draw(mutated(valid))


@settings(max_examples=400, **FUZZ)
@given(case=mutated_bundles() | st.tuples(st.just("tips"), st.binary(max_size=3000)))
def test_i8_mutated_bundles_raise_only_bundle_errors(case: tuple[str, bytes], work: Path) -> None:
    bundle_only_bundle_errors(*case, work)


def test_i8_a_bundle_item_whose_size_is_a_boolean_is_refused(work: Path) -> None:
    data = b"x"
    item = {
        "id": "a" * 32,
        "source": "b" * 32,
        "kind": "message",
        "day": "2026-01-01",
        "size": True,
        "sha256": hashlib.sha256(data).hexdigest(),
        "reply_recipient": "",
    }
    manifest = {
        "format": "cairn-bundle",
        "version": 1,
        "kind": "tips",
        "signer": str(SIGNER.verify_key),
        "items": [item],
    }
    body = json.dumps(manifest).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in [
            (f"items/{item['id']}.age", data),
            ("manifest.json", body),
            ("manifest.sig", SIGNER.sign("bundle/tips", body)),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    with pytest.raises(BundleError, match="invalid size"):
        receive_bundle(io.BytesIO(out.getvalue()), "tips", {SIGNER.verify_key}, 1 << 20)


# Courier requests

COURIER = SigningKey.generate()
PATH = "/courier/v1/replies"


@st.composite
def courier_headers(draw: st.DrawFn) -> tuple[dict[str, str], str, str, int]:
    now = int(time.time())
    request = CourierRequest("POST", PATH, now, hashlib.sha256(b"x").hexdigest())
    headers = sign_request(COURIER, request)
    for name in draw(st.lists(st.sampled_from(HEADERS), max_size=3, unique=True)):
        action = draw(st.sampled_from(["drop", "text", "cut", "append", "latin-1"]))
        if action == "drop":
            del headers[name]
        elif action == "text":
            headers[name] = draw(st.text(max_size=120))
        elif action == "cut":
            headers[name] = headers[name][: draw(st.integers(0, len(headers[name])))]
        elif action == "append":
            headers[name] += draw(st.text(min_size=1, max_size=5))
        else:  # what a WSGI server hands over: any byte as a latin-1 character
            headers[name] = draw(st.binary(max_size=80)).decode("latin-1")
    method = draw(st.sampled_from(["POST", "GET", "post", ""]) | st.text(max_size=8))
    path = draw(st.just(PATH) | st.text(max_size=40))
    skew = draw(st.sampled_from([0, 301, -301, 10**30]) | st.integers(-400, 400))
    return headers, method, path, now + skew


@settings(max_examples=1000, **FUZZ)
@given(case=courier_headers())
def test_i8_verify_request_raises_only_courier_auth_errors(
    case: tuple[dict[str, str], str, str, int],
) -> None:
    headers, method, path, now = case
    try:
        verified = verify_request(headers, method, path, now, {COURIER.verify_key})
    except CourierAuthError:
        return
    assert verified.key == COURIER.verify_key
    assert method.upper() == "POST" and path == PATH


# Intake request parsing


@pytest.fixture(scope="module")
def intake_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str, Instance]:
    from intake.db import migrate
    from intake.instance import init_instance, load_instance

    path = tmp_path_factory.mktemp("fuzz") / "instance"
    init_instance(
        path,
        [str(IDENTITY.recipient)],
        "",
        kdf_opslimit=1,
        kdf_memlimit_mib=8,
        global_post_limit="100000/minute",
        global_page_limit="100000/minute",
        session_limit="100000/minute",
        max_files=3,
        max_message_chars=500,
        max_upload_mib=1,
    )
    instance = load_instance(path, env={})
    migrate(instance.database_url)
    client = create_app(instance).test_client()
    return client, log_in(client), instance


FIELD_NAMES = [b"csrf_token", b"message", b"files", b"website", b"", b"other", b"csrf_token\x00"]
contents = st.text(max_size=600).map(str.encode) | st.binary(max_size=2000) | st.just(b"")
# Parts as the form sends them, most of the time: so that many submissions get through, and the
# fuzzer explores what happens after the first parts were stored, too.
form_parts = st.one_of(
    st.builds(lambda text: part(b"message", text), contents),
    st.builds(
        lambda content, name: part(b"files", content, name, b"application/octet-stream"),
        contents,
        st.binary(max_size=40).map(lambda n: n.replace(b'"', b"")),
    ),
    st.just(part(b"website", b"")),
)


@st.composite
def odd_parts(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(FIELD_NAMES) | st.binary(max_size=10))
    filename = draw(st.none() | st.just(b"memo.txt") | st.binary(max_size=20))
    media = draw(st.sampled_from([b"", b"text/plain", b"\x00/\xff"]) | st.binary(max_size=12))
    return part(name.replace(b'"', b""), draw(contents), filename, media)


@st.composite
def submissions(draw: st.DrawFn, token: str) -> tuple[bytes, str, int]:
    def usually(likely: st.SearchStrategy[bytes], odd: st.SearchStrategy[bytes]) -> bytes:
        return draw(likely if draw(st.integers(0, 9)) < 8 else odd)

    parts = []
    if draw(st.integers(0, 9)):  # the token first, as the form sends it
        token_part = usually(st.just(token.encode()), st.binary(max_size=60))
        parts.append(part(b"csrf_token", token_part))
    for _ in range(draw(st.integers(0, 5))):
        raw = usually(form_parts, odd_parts())
        if draw(st.integers(0, 9)) == 0:  # a damaged part
            raw = draw(mutated(raw))
        parts.append(raw)
    body = b"".join(parts) + usually(
        st.just(b"--" + BOUNDARY + b"--\r\n"), st.sampled_from([b"", b"--", b"--\r\n"])
    )
    content_type = usually(
        st.just(CONTENT_TYPE.encode()),
        st.sampled_from(
            [b"multipart/form-data", b"text/plain", b"multipart/form-data; boundary=x"]
        ),
    ).decode()
    piece = draw(st.sampled_from([1, 7, 100, 4096, 1 << 20]))
    return body, content_type, piece


def test_i8_fuzzed_submissions_never_500_and_refusals_store_nothing(
    intake_app: tuple[object, str, Instance],
) -> None:
    client, token, instance = intake_app
    statuses: dict[int, int] = {}

    @settings(max_examples=400, **FUZZ)
    @given(case=submissions(token))
    def check(case: tuple[bytes, str, int]) -> None:
        body, content_type, piece = case
        before = table_counts(instance, ("submissions", "items", "chunks"))
        response = client.post(  # type: ignore[attr-defined]
            "/submit",
            input_stream=CountingStream(body, piece),  # arriving in pieces
            content_length=len(body),
            content_type=content_type,
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        text = response.get_data(as_text=True)
        assert response.status_code < 500, text
        assert "Traceback" not in text
        after = table_counts(instance, ("submissions", "items", "chunks"))
        if response.status_code != 200:
            assert after == before
        else:  # stored whole (or, for the honeypot, not at all)
            assert after["submissions"] - before["submissions"] in (0, 1)

    check()
    assert statuses.get(200) and sum(n for s, n in statuses.items() if s >= 400), statuses


login_bodies = st.builds(
    lambda csrf, codename, extra: b"csrf_token=" + csrf + b"&codename=" + codename + extra,
    st.binary(max_size=40),
    st.binary(max_size=200),
    st.binary(max_size=100),
)


def test_i8_fuzzed_forms_never_500(intake_app: tuple[object, str, Instance]) -> None:
    client, token, instance = intake_app
    before = table_counts(instance)

    @settings(max_examples=300, **FUZZ)
    @given(
        path=st.sampled_from(["/login", "/start", "/written", "/logout", "/replies/x/delete"]),
        body=login_bodies | st.binary(max_size=500),
        token_first=st.booleans(),
        content_type=st.sampled_from(
            ["application/x-www-form-urlencoded", CONTENT_TYPE, "text/plain", "", "a/b; c=\x00"]
        ),
    )
    def check(path: str, body: bytes, token_first: bool, content_type: str) -> None:
        if token_first:
            body = b"csrf_token=" + token.encode() + b"&" + body
        response = client.post(path, data=body, content_type=content_type)  # type: ignore[attr-defined]
        assert response.status_code < 500, response.get_data(as_text=True)

    check()
    # Nothing a form could do stores a tip, a source or a reply.
    after = table_counts(instance)
    assert after["submissions"] == before["submissions"]
    assert after["replies"] == before["replies"]
