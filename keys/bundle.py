"""Bundles: how sealed items travel between the server and the offline reviewers.

A bundle is one uncompressed tar: ``items/<id>.age`` for each item, then ``manifest.json`` and
its detached Ed25519 signature ``manifest.sig``. The manifest names each item's source (an opaque
id), reply recipient, day, kind, size and SHA-256, so the signature over the manifest covers every
byte of every item. The manifest comes last so that a writer hashes each item while streaming it
(the destination may be a socket) and never reads an item twice. Reading never extracts a path
from the archive; it only copies members the manifest names.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from .age.stream import Reader, Writer
from .signing import SignatureError, SigningKey, VerifyKey, parse_verify_key

FORMAT = "cairn-bundle"
VERSION = 1
MAX_MANIFEST_BYTES = 64 << 20
_COPY_BLOCK = 1 << 20
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
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

    @property
    def member_name(self) -> str:
        return f"items/{self.id}.age"


@dataclass(frozen=True, kw_only=True)
class BundleItem(ItemInfo):
    """An item as the signed manifest lists it."""

    sha256: str


def _manifest_bytes(kind: str, signer: VerifyKey, items: Sequence[BundleItem]) -> bytes:
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "signer": str(signer),
        "items": [asdict(item) for item in items],
    }
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()


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
            fields = {k: v for k, v in asdict(item).items() if k != "sha256"}
            listed.append(BundleItem(**fields, sha256=src.digest.hexdigest()))
        manifest = _manifest_bytes(kind, signing_key.verify_key, listed)
        signature = signing_key.sign(f"bundle/{kind}", manifest)
        tar.addfile(_tar_info("manifest.json", len(manifest)), _BytesReader(manifest))
        tar.addfile(_tar_info("manifest.sig", len(signature)), _BytesReader(signature))
    return listed


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
    if not (isinstance(item.id, str) and _ID.match(item.id)):
        raise BundleError("the manifest lists an item with an invalid id")
    if not (isinstance(item.source, str) and _ID.match(item.source)):
        raise BundleError(f"item {item.id} has an invalid source id")
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

    def verify_items(self) -> None:
        """Check every item's hash without keeping anything."""
        for item in self.items:
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


def _read_member(tar: tarfile.TarFile, name: str, limit: int) -> bytes:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise BundleError(f"the bundle has no {name}") from None
    if not member.isfile() or member.size > limit:
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
        if not member.isfile():
            raise BundleError(f"{member.name} is not a regular file")
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
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 -- the Bundle owns it and closes it
    except (OSError, tarfile.TarError) as err:
        raise BundleError(f"{path} is not a bundle ({err})") from None
    try:
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


class ItemSink(Writer, Protocol):
    """Where a received item goes; closed once the item has arrived whole."""

    def close(self) -> object: ...


@dataclass(frozen=True)
class ReceivedBundle:
    signer: VerifyKey
    items: tuple[BundleItem, ...]


def _signer_of(manifest_bytes: bytes) -> VerifyKey:
    signer = _load_manifest(manifest_bytes).get("signer")
    try:
        return parse_verify_key(signer if isinstance(signer, str) else "")
    except ValueError:
        raise BundleError("the manifest names no valid signer") from None


def receive_bundle(
    src: Reader,
    store_item: Callable[[str], ItemSink],
    kind: str,
    signers: Collection[VerifyKey],
    max_items: int = 10_000,
) -> ReceivedBundle:
    """Read a bundle from a stream (an HTTP body), handing each item to ``store_item(id)`` as it
    arrives and checking the manifest at the end against what arrived.

    The manifest comes last, so items arrive before anyone knows who signed them: the caller
    keeps them invisible, and on ``BundleError`` discards whatever it stored. The signature must
    verify under the signer the manifest names, and that signer must be one of ``signers``.
    """
    received: dict[str, tuple[int, str]] = {}
    manifest_bytes = signature = b""
    try:
        with tarfile.open(fileobj=src, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                content = tar.extractfile(member) if member.isfile() else None
                if content is None:
                    raise BundleError(f"{member.name} is not a regular file")
                if member.name in ("manifest.json", "manifest.sig") and not (
                    manifest_bytes if member.name == "manifest.json" else signature
                ):
                    if member.size > MAX_MANIFEST_BYTES:
                        raise BundleError("the manifest is too large")
                    if member.name == "manifest.json":
                        manifest_bytes = content.read()
                    else:
                        signature = content.read()
                    continue
                match = _ITEM_MEMBER.match(member.name)
                if not match or match[1] in received or len(received) >= max_items:
                    raise BundleError(f"unexpected member {member.name!r} in the bundle")
                out = store_item(match[1])
                digest = hashlib.sha256()
                while block := content.read(_COPY_BLOCK):
                    digest.update(block)
                    out.write(block)
                out.close()
                received[match[1]] = (member.size, digest.hexdigest())
    except (tarfile.TarError, EOFError, OSError) as err:
        raise BundleError(f"the bundle is malformed or truncated ({err})") from None
    if not manifest_bytes or not signature:
        raise BundleError("the bundle has no signed manifest")
    signer = _signer_of(manifest_bytes)
    try:
        items = _verified_items(manifest_bytes, signature, signer, kind)
    except ValueError as err:
        raise BundleError(str(err)) from None
    if signer not in signers:
        raise UnknownSignerError(signer)
    if {item.id: (item.size, item.sha256) for item in items} != received:
        raise BundleError("the bundle's items do not match its manifest")
    return ReceivedBundle(signer, items)
