"""Bundles: how sealed items travel between the server and the offline reviewers.

A bundle is one uncompressed tar: ``items/<id>.age`` for each item, then ``manifest.json`` and
its detached Ed25519 signature ``manifest.sig``. The manifest names each item's source and, when
the writer knows it, submission (opaque ids), reply recipient, day, kind, size and SHA-256, so the
signature over the manifest covers every byte of every item. The manifest comes last so that a
writer hashes each item while streaming it (the destination may be a socket) and never reads an
item twice. Reading never extracts a path from the archive; it only copies members the manifest
names.

A reader accepts only plain members: one ustar header block of a regular file, then its data.
Sparse, linked, long-named and pax members are refused before a byte of them is read, and every
member's declared size is checked first against what the archive can still hold: a sparse
member would otherwise declare far more data than the archive carries.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .age import Reader, Writer
from .signing import (
    SIGNATURE_SIZE,
    KeyKind,
    SignatureError,
    SigningKey,
    VerifyKey,
    canonical_json,
    parse_verify_key,
)

FORMAT = "cairn-bundle"
VERSION = 1
MAX_MANIFEST_BYTES = 64 << 20
DEFAULT_MAX_BYTES = 256 << 20  # of one bundle: a backlog travels in several
_COPY_BLOCK = 1 << 20
ITEM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


class BundleError(ValueError):
    """The bundle is malformed, unsigned, wrongly signed or does not match its manifest."""


class UnknownSignerError(BundleError):
    """A well-formed bundle, properly signed, but by a key the reader does not accept."""

    def __init__(self, signer: VerifyKey) -> None:
        super().__init__(f"the bundle is signed by {signer}, a key not accepted here")
        self.signer = signer


@dataclass(frozen=True, kw_only=True)
class ItemInfo:
    """What a writer knows of an item before streaming it."""

    id: str
    source: str
    kind: str
    day: str
    size: int
    reply_recipient: str = ""
    submission: str | None = None  # shared by the items sent together; None if not known

    @property
    def member_name(self) -> str:
        return f"items/{self.id}.age"


@dataclass(frozen=True, kw_only=True)
class BundleItem(ItemInfo):
    """An item as the signed manifest lists it."""

    sha256: str


def _manifest_entry(item: BundleItem) -> dict[str, object]:
    """An item as the manifest lists it. An unknown submission is left out, as older bundles
    leave it out of every item, rather than listed empty: a listed one is always an id."""
    return {k: v for k, v in asdict(item).items() if not (k == "submission" and v is None)}


def _manifest_bytes(kind: str, signer: VerifyKey, items: Sequence[BundleItem]) -> bytes:
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "signer": str(signer),
        "items": [_manifest_entry(item) for item in items],
    }
    return canonical_json(manifest)


def _tar_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    return info


class _HashingReader:
    def __init__(self, src: Reader) -> None:
        self._src = src
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._src.read(size)
        self.digest.update(data)
        return data


def write_bundle(
    dst: Writer,
    signing_key: SigningKey,
    items: Sequence[ItemInfo],
    open_item: Callable[[ItemInfo], Reader],
    kind: str = "tips",
) -> list[BundleItem]:
    """Write a signed bundle, streaming each item from ``open_item``; returns the manifest."""
    listed: list[BundleItem] = []
    with tarfile.open(fileobj=dst, mode="w|", format=tarfile.USTAR_FORMAT) as tar:  # type: ignore[call-overload]
        for item in items:
            src = _HashingReader(open_item(item))
            tar.addfile(_tar_info(item.member_name, item.size), src)
            listed.append(_listed(item, src.digest.hexdigest()))
        manifest = _manifest_bytes(kind, signing_key.verify_key, listed)
        signature = signing_key.sign(f"bundle/{kind}", manifest)
        tar.addfile(_tar_info("manifest.json", len(manifest)), _BytesReader(manifest))
        tar.addfile(_tar_info("manifest.sig", len(signature)), _BytesReader(signature))
    return listed


def _listed(item: ItemInfo, sha256: str) -> BundleItem:
    """``item`` as the manifest lists it, with the hash of its bytes as they were written."""
    fields = {k: v for k, v in asdict(item).items() if k != "sha256"}
    return BundleItem(**fields, sha256=sha256)


def items_within(
    items: Sequence[ItemInfo], max_bytes: int, signer: VerifyKey, kind: str = "tips"
) -> list[ItemInfo]:
    """The first of ``items`` that fit in a bundle (as ``write_bundle`` writes it) of at most
    ``max_bytes``, the rest left for the next bundle: a backlog never has to travel as one tar.
    Always at least one, so an item larger than the bound still travels, alone."""
    manifest = len(_manifest_bytes(kind, signer, []))
    # The manifest's and the signature's headers, the signature, the two end-of-archive blocks.
    fixed = 4 * tarfile.BLOCKSIZE + _blocks(SIGNATURE_SIZE)
    data = 0
    chosen: list[ItemInfo] = []
    for item in items:
        listed = _manifest_entry(_listed(item, "0" * 64))  # every hash is this long
        entry = len(canonical_json(listed)) + bool(chosen)
        member = tarfile.BLOCKSIZE + _blocks(item.size)
        if chosen and _records(fixed + data + member + _blocks(manifest + entry)) > max_bytes:
            break
        chosen.append(item)
        data += member
        manifest += entry
    return chosen


def _records(size: int) -> int:
    """A tar stream's size: tarfile pads it to whole records."""
    return -(-size // tarfile.RECORDSIZE) * tarfile.RECORDSIZE


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)

    def read(self, size: int = -1) -> bytes:
        size = len(self._data) if size < 0 else size
        chunk, self._data = self._data[:size], self._data[size:]
        return bytes(chunk)


def _parse_item(raw: object) -> BundleItem:
    if not isinstance(raw, dict):
        raise BundleError("the manifest lists an item that is not an object")
    try:
        item = BundleItem(**raw)
    except TypeError:
        raise BundleError("the manifest lists an item with unexpected fields") from None
    if not (isinstance(item.id, str) and ITEM_ID.match(item.id)):
        raise BundleError("the manifest lists an item with an invalid id")
    if not (isinstance(item.source, str) and ITEM_ID.match(item.source)):
        raise BundleError(f"item {item.id} has an invalid source id")
    if "submission" in raw and not (
        isinstance(item.submission, str) and ITEM_ID.match(item.submission)
    ):
        raise BundleError(f"item {item.id} has an invalid submission id")
    if not (isinstance(item.day, str) and _DAY.match(item.day)):
        raise BundleError(f"item {item.id} has an invalid day")
    if type(item.size) is not int or item.size < 0:  # (bool is an int subclass)
        raise BundleError(f"item {item.id} has an invalid size")
    if not (isinstance(item.sha256, str) and re.fullmatch(r"[0-9a-f]{64}", item.sha256)):
        raise BundleError(f"item {item.id} has an invalid SHA-256")
    if not isinstance(item.kind, str) or not isinstance(item.reply_recipient, str):
        raise BundleError(f"item {item.id} is malformed")
    return item


class Bundle:
    """A bundle whose manifest signature has been verified; items are checked as they are read."""

    def __init__(self, tar: tarfile.TarFile, kind: str, items: tuple[BundleItem, ...]) -> None:
        self._tar = tar
        self._members = {member.name: member for member in tar.getmembers()}  # getmember is O(n)
        self.kind = kind
        self.items = items

    def copy_item(self, item: BundleItem, dst: Writer) -> None:
        """Copy one item's ciphertext to ``dst``; raises BundleError if its hash is wrong."""
        src = self._tar.extractfile(self._members[item.member_name])
        if src is None:
            raise BundleError(f"{item.member_name} is not a regular file")
        digest = hashlib.sha256()
        while block := src.read(_COPY_BLOCK):
            digest.update(block)
            dst.write(block)
        if digest.hexdigest() != item.sha256:
            raise BundleError(f"item {item.id} does not match the SHA-256 in the manifest")

    def check_item(self, item: BundleItem) -> None:
        """Check one item's hash without keeping anything."""
        self.copy_item(item, _Discard())

    def close(self) -> None:
        self._tar.close()

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Discard:
    def write(self, data: bytes | memoryview) -> int:
        return len(data)


def _blocks(size: int) -> int:
    """The bytes a member of ``size`` takes in a tar: its data, padded to whole blocks."""
    return -(-size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE


def _check_plain(member: tarfile.TarInfo, room: int) -> int:
    """Refuse anything but a plain regular member whose header and data fit in ``room`` bytes;
    returns the room left after it."""
    plain = (
        member.type in (tarfile.REGTYPE, tarfile.AREGTYPE)
        and member.sparse is None
        and not member.pax_headers
        and member.offset_data - member.offset == tarfile.BLOCKSIZE  # no extended headers
    )
    if not plain:
        raise BundleError(f"{member.name!r} in the bundle is not a plain regular file")
    room -= tarfile.BLOCKSIZE + _blocks(member.size)
    if room < 0:
        raise BundleError(f"{member.name!r} declares more data than the bundle holds")
    return room


def _read_member(tar: tarfile.TarFile, name: str, limit: int) -> bytes:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise BundleError(f"the bundle has no {name}") from None
    if member.size > limit:
        raise BundleError(f"the bundle's {name} is malformed")
    src = tar.extractfile(member)
    if src is None:
        raise BundleError(f"the bundle's {name} is malformed")
    return src.read()


def _check_members(tar: tarfile.TarFile, items: Sequence[BundleItem]) -> None:
    expected = {"manifest.json", "manifest.sig"} | {item.member_name for item in items}
    members = tar.getmembers()
    names = [m.name for m in members]
    if len(names) != len(set(names)) or set(names) != expected:
        raise BundleError("the bundle's contents do not match its manifest")
    sizes = {item.member_name: item.size for item in items}
    for member in members:
        if member.name in sizes and member.size != sizes[member.name]:
            raise BundleError(f"{member.name} does not have the size the manifest says")


def _load_manifest(manifest_bytes: bytes) -> dict[str, object]:
    """The manifest's JSON object; JSON nested too deeply to parse is malformed too."""
    try:
        manifest = json.loads(manifest_bytes)
    except (ValueError, RecursionError):
        raise BundleError("the bundle's manifest is not valid JSON") from None
    if not isinstance(manifest, dict):
        raise BundleError("the bundle's manifest is not a JSON object")
    return manifest


def _verified_items(
    manifest_bytes: bytes, signature: bytes, signer: VerifyKey, kind: str
) -> tuple[BundleItem, ...]:
    try:
        signer.verify(f"bundle/{kind}", manifest_bytes, signature)
    except SignatureError:
        if kind == "tips":
            reason = "the pinned server key; it was modified or comes from another server"
        else:
            reason = "its signer's key; it was modified"
        raise BundleError(f"the bundle's signature does not verify with {reason}") from None
    manifest = _load_manifest(manifest_bytes)
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BundleError("unsupported bundle format or version")
    if manifest.get("kind") != kind:
        raise BundleError(f"this is not a bundle of {kind}")
    raw_items = manifest.get("items", [])
    if not isinstance(raw_items, list):
        raise BundleError("the manifest's items are not a list")
    items = tuple(_parse_item(raw) for raw in raw_items)
    if len({item.id for item in items}) != len(items):
        raise BundleError("the manifest lists an item twice")
    return items


def open_bundle(path: str | Path, signer: VerifyKey, kind: str = "tips") -> Bundle:
    """Open a bundle file, verifying the manifest's signature by ``signer`` and its layout."""
    try:
        room = Path(path).stat().st_size
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 -- the Bundle owns it and closes it
    except (OSError, tarfile.TarError) as err:
        raise BundleError(f"{path} is not a bundle ({err})") from None
    try:
        for member in tar.getmembers():
            room = _check_plain(member, room)
        manifest_bytes = _read_member(tar, "manifest.json", MAX_MANIFEST_BYTES)
        signature = _read_member(tar, "manifest.sig", 1024)
        items = _verified_items(manifest_bytes, signature, signer, kind)
        _check_members(tar, items)
    except (tarfile.TarError, ValueError, AttributeError) as err:
        tar.close()
        if isinstance(err, BundleError):
            raise
        raise BundleError(f"{path} is not a valid bundle ({err})") from None
    except BaseException:
        tar.close()
        raise
    return Bundle(tar, kind, items)


_ITEM_MEMBER = re.compile(r"items/([A-Za-z0-9_-]{1,64})\.age\Z")


@dataclass(frozen=True)
class ReceivedBundle:
    """A verified bundle read from a stream, its items' ciphertext in memory."""

    signer: VerifyKey
    items: tuple[BundleItem, ...]
    contents: Mapping[str, bytes]


def signer_kind(kind: str) -> KeyKind:
    """Who signs a bundle of ``kind``: a review workspace its replies, the server the rest."""
    return KeyKind.REVIEWER if kind == "replies" else KeyKind.SERVER


def _signer_of(manifest_bytes: bytes, kind: str) -> VerifyKey:
    signer = _load_manifest(manifest_bytes).get("signer")
    try:
        return parse_verify_key(signer if isinstance(signer, str) else "", signer_kind(kind))
    except ValueError as err:
        raise BundleError(f"the manifest names no valid signer ({err})") from None


def _read_stream(
    src: Reader, max_bytes: int, max_items: int
) -> tuple[bytes, bytes, dict[str, bytes]]:
    """The manifest, its signature and the items of a tar stream of at most ``max_bytes``."""
    manifest_bytes = signature = b""
    contents: dict[str, bytes] = {}
    room = max_bytes
    try:
        with tarfile.open(fileobj=src, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                room = _check_plain(member, room)
                match = _ITEM_MEMBER.match(member.name)
                if member.name == "manifest.json" and not manifest_bytes:
                    manifest_bytes = _content(tar, member)
                elif member.name == "manifest.sig" and not signature:
                    signature = _content(tar, member)
                elif match and match[1] not in contents and len(contents) < max_items:
                    contents[match[1]] = _content(tar, member)
                else:
                    raise BundleError(f"unexpected member {member.name!r} in the bundle")
    except (tarfile.TarError, EOFError, OSError) as err:
        raise BundleError(f"the bundle is malformed or truncated ({err})") from None
    return manifest_bytes, signature, contents


def _content(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    content = tar.extractfile(member)
    data = b"" if content is None else content.read()
    if len(data) != member.size:
        raise BundleError(f"{member.name!r} in the bundle is cut off")
    return data


def receive_bundle(
    src: Reader,
    kind: str,
    signers: Collection[VerifyKey],
    max_bytes: int,
    max_items: int = 10_000,
) -> ReceivedBundle:
    """Read a bundle of at most ``max_bytes`` from a stream (an HTTP body) and verify it whole.

    The manifest comes last, so nothing can be known about an item until the stream has ended:
    the items wait in memory (at most ``max_bytes``, the body's limit), and nothing is handed
    to the caller before the signature, the manifest and every item's size and hash check out.
    The signature must verify under the signer the manifest names, and that signer must be one
    of ``signers``.
    """
    manifest_bytes, signature, contents = _read_stream(src, max_bytes, max_items)
    if not manifest_bytes or not signature:
        raise BundleError("the bundle has no signed manifest")
    signer = _signer_of(manifest_bytes, kind)
    items = _verified_items(manifest_bytes, signature, signer, kind)
    if signer not in signers:
        raise UnknownSignerError(signer)
    received = {item_id: (len(data), _sha256(data)) for item_id, data in contents.items()}
    if {item.id: (item.size, item.sha256) for item in items} != received:
        raise BundleError("the bundle's items do not match its manifest")
    return ReceivedBundle(signer, items, contents)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
