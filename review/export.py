"""Exporting a tip: the only way its plaintext reaches a disk (I9), so it is done with care.

The original file name came from the source's browser: it is never used as a path. The exported
name is the tip id plus the name's last component reduced to safe ASCII, and an existing file is
never overwritten. Types that commonly carry identifying metadata (authors, devices, locations)
are named in a warning, judged by the declared type, the name and the first bytes alike, since
any of them may lie.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from keys.private_files import private_output
from keys.sealed import ItemHeader, open_item

from .models import Tip
from .workspace import Workspace

MAX_STEM = 80
MAX_SUFFIX = 16
SNIFF_BYTES = 8


@dataclass(frozen=True)
class MetadataKind:
    what: str
    media_types: tuple[str, ...]
    suffixes: tuple[str, ...]
    magic: tuple[bytes, ...]


METADATA_KINDS = (
    MetadataKind("a PDF document", ("application/pdf",), (".pdf",), (b"%PDF",)),
    MetadataKind(
        "an office document",
        (
            "application/msword",
            "application/vnd.openxmlformats-",
            "application/vnd.oasis.",
            "application/vnd.ms-",
            "application/rtf",
        ),
        (".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".odp", ".rtf"),
        (b"\xd0\xcf\x11\xe0", b"PK\x03\x04", b"{\\rtf"),
    ),
    MetadataKind(
        "an image",
        ("image/jpeg", "image/tiff", "image/heic", "image/heif", "image/png", "image/webp"),
        (".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".heif", ".png", ".webp"),
        (b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"\x89PNG"),
    ),
    MetadataKind(
        "an audio or video recording",
        ("audio/", "video/"),
        (".mp3", ".m4a", ".wav", ".ogg", ".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm"),
        (b"ID3",),
    ),
)


@dataclass(frozen=True)
class Exported:
    path: Path
    header: ItemHeader
    warning: str


def _safe_ascii(text: str, limit: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text).strip("._-")[:limit].rstrip("._-")


def safe_name(tip_id: str, original: str) -> str:
    """A file name for an exported tip: its id, then the original's last component in safe ASCII."""
    last = original.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = last.rpartition(".")
    if not dot:
        stem, suffix = last, ""
    stem, suffix = _safe_ascii(stem, MAX_STEM), _safe_ascii(suffix, MAX_SUFFIX)
    name = f"{tip_id}-{stem}" if stem else tip_id
    return f"{name}.{suffix}" if suffix else name


def metadata_warning(path: Path, media_type: str) -> str:
    """A warning when the exported file looks like a type that carries identifying metadata."""
    with path.open("rb") as src:
        start = src.read(SNIFF_BYTES)
    media_type = media_type.lower()
    for kind in METADATA_KINDS:
        if (
            media_type.startswith(kind.media_types)
            or path.suffix.lower() in kind.suffixes
            or start.startswith(kind.magic)
        ):
            return (
                f"{path.name} looks like {kind.what}: such files often carry metadata (author, "
                "software, device, location) that can identify the source. Strip it (for "
                "example with mat2) before this file leaves this machine."
            )
    return ""


def export_tip(workspace: Workspace, tip: Tip, out_dir: Path, original_name: str) -> Exported:
    """Decrypt ``tip`` into ``out_dir``, all or nothing, never overwriting.

    A directory made here is its owner's only: the names in it come from the source's file names.
    """
    workspace.check_outside(out_dir)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = safe_name(tip.id, original_name)
    if tip.kind == "message" and not name.endswith(".txt"):
        name += ".txt"
    target = out_dir / name
    with private_output(target, overwrite=False) as out, workspace.tip_path(tip).open("rb") as src:
        header = open_item(src, out, [workspace.identity])
    return Exported(target, header, metadata_warning(target, header.media_type))
