"""``make kit``: the review side as one folder for a USB stick, for a laptop with no network.

The kit holds Cairn's wheel and every wheel the review side needs (for each target platform
and Python), pinned by hash in requirements.txt; install.py with its stdlib-only verifier;
SHA256SUMS signed with the newsroom's release key; and the reviewer's README. Server-only
packages (Flask-Limiter, gunicorn, psycopg, redis, ...) are left out: Cairn's wheel is
installed with --no-deps, so its intake/ package is present but cannot serve.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from keys.private_files import open_new
from keys.signing import KeyKind, SigningKey, parse_signing_key

ROOT = Path(__file__).resolve().parent.parent
SIGNATURE_CONTEXT = "review-kit-sums"
# What review/ and keys/ import at runtime; the rest of pyproject's dependencies serve intake.
REVIEW_DEPENDENCIES = (
    "pynacl",
    "click",
    "rich",
    "platformdirs",
    "flask",
    "werkzeug",
    "flask-wtf",
    "sqlalchemy",
    "requests",
    "pysocks",
)
PYTHONS = ("3.11", "3.12", "3.13")
ARCHES = ("x86_64", "aarch64")
MANYLINUX = ("2014", "_2_17", "_2_28")  # glibc 2.17 or newer: any Linux still maintained
# Bootstrap files: run by the laptop's bare python3 before anything in the kit is trusted.
BOOTSTRAP = (
    ROOT / "kit" / "install.py",
    ROOT / "keys" / "ed25519_verify.py",
    ROOT / "keys" / "bech32.py",
)
SOURCES = ("pyproject.toml", "README.md", "keys", "intake", "review")


def review_requirements() -> list[str]:
    """The review side's pins, exactly as pyproject.toml has them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {re.split(r"[\[=]", pin)[0].lower(): pin for pin in project["dependencies"]}
    return [pins[name] for name in REVIEW_DEPENDENCIES]


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *args], check=True)  # noqa: S603


def download_wheels(dest: Path, host_only: bool) -> None:
    """Every wheel the requirements and their dependencies need, binary only, per target."""
    requirements = review_requirements()
    if host_only:
        pip("download", "--only-binary=:all:", "--dest", str(dest), *requirements)
        return
    for python in PYTHONS:
        abi = "cp" + python.replace(".", "")
        for arch in ARCHES:
            platforms = [f"manylinux{tag}_{arch}" for tag in MANYLINUX]
            pip(
                "download",
                "--only-binary=:all:",
                "--dest",
                str(dest),
                *(f"--platform={platform}" for platform in platforms),
                f"--python-version={python}",
                "--implementation=cp",
                f"--abi={abi}",
                "--abi=abi3",
                "--abi=none",
                *requirements,
            )


def build_cairn_wheel(dest: Path) -> None:
    """Cairn's own wheel, built from a copy of the sources so the checkout stays untouched."""
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "cairn"
        source.mkdir()
        for name in SOURCES:
            path = ROOT / name
            if path.is_dir():
                shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(path, source / name)
        pip("wheel", "--no-deps", "--wheel-dir", str(dest), str(source))


def sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def distribution(wheel: Path) -> tuple[str, str]:
    """A wheel's normalized project name and its version, from the file name."""
    name, version = wheel.name.split("-")[:2]
    return re.sub(r"[-_.]+", "-", name).lower(), version


def packages(wheels: Path) -> dict[str, str]:
    """Each distribution's one version, by normalized name; two versions of one is an error."""
    found: dict[str, str] = {}
    for wheel in sorted(wheels.glob("*.whl")):
        name, version = distribution(wheel)
        if found.setdefault(name, version) != version:
            sys.exit(
                f"kit: {name} resolved to two versions ({found[name]}, {version}) across targets"
            )
    return found


def write_requirements(kit: Path, versions: dict[str, str]) -> None:
    lines = []
    for name, version in sorted(versions.items()):
        hashes = sorted(
            sha256(wheel)
            for wheel in (kit / "wheels").glob("*.whl")
            if distribution(wheel)[0] == name
        )
        lines.append(f"{name}=={version} " + " ".join(f"--hash=sha256:{h}" for h in hashes))
    (kit / "requirements.txt").write_text("\n".join(lines) + "\n")


def seal(kit: Path, key: SigningKey) -> None:
    """SHA256SUMS over every file of the kit (sha256sum's format), and its signature."""
    files = sorted(
        path
        for path in kit.rglob("*")
        if path.is_file()
        and not path.name.startswith("SHA256SUMS")
        and "__pycache__" not in path.parts
    )
    sums = "".join(f"{sha256(path)}  {path.relative_to(kit).as_posix()}\n" for path in files)
    (kit / "SHA256SUMS").write_text(sums)
    signature = key.sign(SIGNATURE_CONTEXT, sums.encode())
    (kit / "SHA256SUMS.sig").write_text(signature.hex() + "\n")


def release_key(path: str | None, out: Path) -> SigningKey:
    """The newsroom's release key, or a throwaway one, said loudly, whose public half is written
    beside the kit."""
    if path:
        return parse_signing_key(Path(path).read_text(), KeyKind.RELEASE)
    key = SigningKey.generate(KeyKind.RELEASE)
    public = out.parent / "kit-throwaway-release-key.pub"
    public.write_text(f"{key.verify_key}\n")
    print(
        "kit: WARNING: no KIT_SIGNING_KEY given; this kit is signed by a THROWAWAY release key\n"
        f"kit: its public half (written to {public}): {key.verify_key}\n"
        "kit: a newsroom signs with its own key (docs/reviewers.md, 'Pinning the release key')",
        file=sys.stderr,
    )
    return key


def new_release_key(path: Path) -> None:
    key = SigningKey.generate(KeyKind.RELEASE)
    with open_new(path) as file:
        file.write(f"{key}\n".encode())
    print(f"Wrote the release key {path}; give reviewers its public half: {key.verify_key}")


def build(out: Path, host_only: bool, key_path: str | None) -> None:
    if out.exists():
        shutil.rmtree(out)
    wheels = out / "wheels"
    wheels.mkdir(parents=True)
    key = release_key(key_path, out)
    download_wheels(wheels, host_only)
    build_cairn_wheel(wheels)
    versions = packages(wheels)
    write_requirements(out, versions)
    targets = (
        "this machine only"
        if host_only
        else f"Linux {'/'.join(ARCHES)}, Python {', '.join(PYTHONS)}"
    )
    manifest = {"cairn": versions["cairn"], "targets": targets, "packages": versions}
    (out / "kit.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    for path in BOOTSTRAP:
        shutil.copy2(path, out / path.name)
    readme = (ROOT / "kit" / "README.md").read_text()
    (out / "README.md").write_text(readme.replace("{version}", versions["cairn"]))
    seal(out, key)
    size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    print(f"kit: wrote {out} (Cairn {versions['cairn']}, {targets}, {size / 1e6:.1f} MB)")
    print("kit: bootstrap files (publish these hashes with the release key):")
    for path in BOOTSTRAP:
        print(f"{sha256(out / path.name)}  {path.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "kit")
    parser.add_argument(
        "--platform",
        choices=("all", "host"),
        default="all",
        help="all: Linux x86_64 and aarch64 for every supported Python; host: this machine only",
    )
    parser.add_argument(
        "--signing-key",
        default=os.environ.get("KIT_SIGNING_KEY"),
        help="file holding the release key (CAIRN-RELEASE-KEY-1...); default $KIT_SIGNING_KEY",
    )
    parser.add_argument(
        "--new-release-key", type=Path, help="write a new release key to this file and stop"
    )
    args = parser.parse_args()
    if args.new_release_key:
        new_release_key(args.new_release_key)
        return
    build(args.out.resolve(), args.platform == "host", args.signing_key)


if __name__ == "__main__":
    main()
