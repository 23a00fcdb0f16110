"""Install a Cairn review kit on an offline laptop, with nothing but the laptop's python3.

Usage: python3 install.py --release-key cairnrelease1...   (or --release-key-file FILE)

The kit is copied off the stick first, then trusted only if SHA256SUMS carries the release
key's signature and every file matches its sum. Cairn goes into a new virtual environment of
its own (pip --no-index --require-hashes, so only the kit's pinned wheels), the launcher
points at it, and the review workspace is never touched.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.dont_write_bytecode = True  # the stick is read, never written
import bech32  # noqa: E402 -- copied beside this script from keys/
import ed25519_verify  # noqa: E402 -- likewise

SIGNATURE_CONTEXT = "review-kit-sums"
RELEASE_KEY_PREFIX = "cairnrelease"
HERE = Path(__file__).resolve().parent


class KitRefused(Exception):
    """The kit cannot be trusted or installed; the message says why, in one line."""


def release_key(text: str) -> bytes:
    try:
        prefix, raw = bech32.decode(text.strip())
    except bech32.Bech32Error as err:
        raise KitRefused(f"not a release key ({err}); it looks like cairnrelease1...") from None
    if prefix != RELEASE_KEY_PREFIX or len(raw) != 32:
        raise KitRefused("not a release key; it looks like cairnrelease1...")
    return raw


def sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def verify_kit(kit: Path, key: bytes) -> None:
    """Refuse unless the sums are signed by ``key`` and every file, and no other, matches."""
    try:
        sums = (kit / "SHA256SUMS").read_bytes()
        signature = bytes.fromhex((kit / "SHA256SUMS.sig").read_text().strip())
    except (OSError, ValueError) as err:
        raise KitRefused(f"the kit has no readable SHA256SUMS or signature ({err})") from None
    message = ed25519_verify.signed_message(SIGNATURE_CONTEXT, sums)
    if not ed25519_verify.verify(key, message, signature):
        raise KitRefused("SHA256SUMS is not signed by your release key: do not use this kit")
    listed: dict[str, str] = {}
    for line in sums.decode().splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    present = {
        path.relative_to(kit).as_posix()
        for path in kit.rglob("*")
        if path.is_file() and not path.name.startswith("SHA256SUMS")
    }
    if present != set(listed):
        extra = sorted(present ^ set(listed))
        raise KitRefused(f"the kit's files differ from SHA256SUMS ({', '.join(extra[:3])})")
    for name, digest in sorted(listed.items()):
        if sha256(kit / name) != digest:
            raise KitRefused(f"{name} does not match SHA256SUMS: do not use this kit")


def changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """One line per package added, removed or changed between two kits."""
    lines = []
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name), new.get(name)
        if before != after:
            lines.append(f"  {name}: {before or '(none)'} -> {after or '(removed)'}")
    return lines


def desktop_entry(review: Path) -> str:
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Cairn review desk\n"
        "Comment=Read and assess tips on this offline machine\n"
        f'Exec="{review}" desk\n'
        "Terminal=true\n"
        "Categories=Office;\n"
    )


def install(kit: Path, prefix: Path, applications: Path | None) -> None:
    manifest = json.loads((kit / "kit.json").read_text())
    version = manifest["cairn"]
    venvs = prefix / "versions"
    venvs.mkdir(parents=True, exist_ok=True)
    venv = Path(tempfile.mkdtemp(prefix=f"{version}-", dir=venvs))
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
        subprocess.run(  # noqa: S603 -- the new venv's pip, fixed arguments, no shell
            [
                str(venv / "bin" / "python"),
                *("-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--require-hashes"),
                *("--disable-pip-version-check", "--find-links", str(kit / "wheels")),
                *("-r", str(kit / "requirements.txt")),
            ],
            check=True,
        )
    except subprocess.CalledProcessError:
        shutil.rmtree(venv)
        raise
    current = prefix / "current"
    installed = prefix / "kit.json"
    old = json.loads(installed.read_text()) if installed.exists() else None
    previous = current.resolve() if current.is_symlink() else None
    swap = prefix / "current.new"
    swap.unlink(missing_ok=True)
    swap.symlink_to(venv.relative_to(prefix))
    swap.replace(current)  # atomic: the launcher sees the old version or the new one
    shutil.copy2(kit / "kit.json", installed)
    for stale in venvs.iterdir():
        if stale not in (venv, previous):
            shutil.rmtree(stale)
    if applications is not None:
        applications.mkdir(parents=True, exist_ok=True)
        (applications / "cairn-desk.desktop").write_text(desktop_entry(current / "bin" / "review"))
    if old is None:
        print(f"Installed Cairn {version} in {current}.")
    else:
        print(f"Upgraded Cairn {old['cairn']} -> {version} in {current}.")
        print("\n".join(changes(old["packages"], manifest["packages"])) or "  no package changed")
        print("Your workspace was left as it is; the next `review` command or the desk adds")
        print("anything the new version needs to it.")
    print(f"Run it as {current / 'bin' / 'review'}, or from the menu: 'Cairn review desk'.")


def main() -> None:
    parser = argparse.ArgumentParser(description="Install a Cairn review kit, offline.")
    key = parser.add_mutually_exclusive_group(required=True)
    key.add_argument("--release-key", help="your newsroom's release key, cairnrelease1...")
    key.add_argument("--release-key-file", type=Path, help="a file holding that key")
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    parser.add_argument("--prefix", type=Path, default=data / "cairn", help="where Cairn goes")
    parser.add_argument("--no-launcher", action="store_true", help="add no menu entry")
    args = parser.parse_args()
    try:
        text = args.release_key or args.release_key_file.read_text()
        key_bytes = release_key(text)
        with tempfile.TemporaryDirectory() as scratch:
            kit = Path(scratch) / "kit"  # checked and installed from this copy, not the stick
            shutil.copytree(HERE, kit, ignore=shutil.ignore_patterns("__pycache__"))
            verify_kit(kit, key_bytes)
            print("The kit's signature and every file's sum check.")
            install(kit, args.prefix.resolve(), None if args.no_launcher else data / "applications")
    except (KitRefused, OSError) as err:
        sys.exit(f"install: {err}")
    except subprocess.CalledProcessError as err:
        sys.exit(f"install: {err.cmd[0]} failed (exit {err.returncode}); nothing was changed")


if __name__ == "__main__":
    main()
