"""``make kit``: the review side on a USB stick, installed on a laptop with the network cut.

The kit is built for this machine only (the full build differs only in the wheels it fetches),
installed inside a network namespace with nothing but loopback, and used as a reviewer would
(I2: the reviewer's key lives only on a machine with no network). A kit with one byte changed
is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keys import age
from keys.signing import KeyKind, SigningKey
from kit.build import seal
from tests.support.review import PASSPHRASE, TipSpec, make_bundle

ROOT = Path(__file__).resolve().parents[2]
# The laptop's python3: the interpreter this venv was made from, with none of its packages.
PYTHON3 = str(Path(sys.base_prefix) / "bin" / "python3")


# Run inside the offline namespace with the laptop's python3: start `review desk`, open the
# address it prints (the launch token sets the cookie, then the redirect shows the inbox), close it.
OPEN_THE_DESK = """
import re, subprocess, sys, urllib.request
desk = subprocess.Popen(
    [sys.argv[1], "desk", "--no-browser"],
    stdout=subprocess.PIPE,
    stderr=subprocess.STDOUT,
    text=True,
)
try:
    for line in desk.stdout:
        found = re.search(r"http://127[.]0[.]0[.]1:[0-9]+/launch[?]token=[^ ]+", line)
        if found:
            break
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    print(opener.open(found.group(0).strip(), timeout=30).read().decode())
finally:
    desk.terminate()
    desk.wait(30)
"""


def offline_prefix() -> list[str]:
    """A new network namespace whose only interface is loopback (up, for the desk), after
    checking that the kernel lets us cut the network."""
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(
            "SKIPPED LOUDLY: the kernel refuses an unprivileged network namespace "
            f"(`unshare -rn`: {probe.stderr.strip()}), so the offline install cannot be shown"
        )
    return ["unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]


@pytest.fixture(scope="module")
def release_key() -> SigningKey:
    return SigningKey.generate(KeyKind.RELEASE)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory, release_key: SigningKey) -> Path:
    root = tmp_path_factory.mktemp("kit")
    key_file = root / "release.key"
    key_file.write_text(f"{release_key}\n")
    env = {**os.environ, "KIT_SIGNING_KEY": str(key_file), "PIP_CACHE_DIR": str(root / "cache")}
    out = root / "kit"
    subprocess.run(
        [sys.executable, "kit/build.py", "--platform", "host", "--out", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return out


def install(
    kit: Path, home: Path, key: SigningKey, offline: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    return subprocess.run(
        [*(offline or []), PYTHON3, str(kit / "install.py"), "--release-key", str(key.verify_key)],
        env=env,
        capture_output=True,
        text=True,
    )


def test_the_kit_holds_the_review_side_only_pinned_by_hash(kit: Path) -> None:
    requirements = (kit / "requirements.txt").read_text().splitlines()
    names = {line.split("==")[0] for line in requirements}
    assert {"cairn", "pynacl", "click", "flask", "sqlalchemy", "requests"} <= names
    assert not names & {
        "flask-limiter",
        "gunicorn",
        "psycopg",
        "psycopg-binary",
        "redis",
        "alembic",
    }
    assert all("--hash=sha256:" in line for line in requirements)
    listed = {line.split("  ")[1] for line in (kit / "SHA256SUMS").read_text().splitlines()}
    assert {"install.py", "ed25519_verify.py", "bech32.py", "README.md", "kit.json"} <= listed


def test_installed_offline_the_reviewer_makes_keys_imports_and_reads_claims(
    kit: Path, release_key: SigningKey, tmp_path: Path
) -> None:
    offline = offline_prefix()
    cut = subprocess.run(
        [*offline, PYTHON3, "-c", "import socket; socket.create_connection(('1.1.1.1', 443), 3)"],
        capture_output=True,
    )
    assert cut.returncode != 0, "the namespace still reaches the network"
    home = tmp_path / "home"
    installed = install(kit, home, release_key, offline)
    assert installed.returncode == 0, installed.stderr
    assert "Installed Cairn 0.1.0" in installed.stdout
    review_bin = home / "data" / "cairn" / "current" / "bin" / "review"
    launcher = (home / "data" / "applications" / "cairn-desk.desktop").read_text()
    assert f'Exec="{review_bin}" desk\n' in launcher
    assert "Terminal=true\n" in launcher  # the desk asks for the passphrase there

    (tmp_path / "passphrase").write_text(PASSPHRASE + "\n")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "CAIRN_WORKSPACE": str(tmp_path / "workspace"),
        "CAIRN_IDENTITY": str(tmp_path / "identity.age"),
        "CAIRN_PASSPHRASE_FILE": str(tmp_path / "passphrase"),
    }

    def review(*args: str) -> str:
        done = subprocess.run(
            [*offline, str(review_bin), *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"review {' '.join(args)}: {done.stderr}"
        return done.stdout

    made = json.loads(review("keys", "new", "--json"))
    server = SigningKey.generate(KeyKind.SERVER)
    tips = [TipSpec("t1", "srcA", b"The director signed the memo.")]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [age.parse_recipient(made["recipient"])])
    review("trust", str(server.verify_key))
    review("import", str(bundle))
    review("claim", "add", "The director signed the memo")
    review("link", "t1", "1", "--supports", "--basis", "firsthand")
    claims = json.loads(review("claims", "--json"))
    assert [claim["text"] for claim in claims] == ["The director signed the memo"]

    # The desk, from the installed copy, still offline: its launch address opens the inbox.
    desk = subprocess.run(
        [*offline, PYTHON3, "-c", OPEN_THE_DESK, str(review_bin)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert desk.returncode == 0, desk.stderr
    assert "The director signed the memo." in desk.stdout  # the tip's text, in the inbox

    # A newer kit (here: this one re-sealed as 0.2.0) keeps the workspace and says what changed.
    newer = tmp_path / "newer"
    shutil.copytree(kit, newer)
    manifest = json.loads((newer / "kit.json").read_text())
    (newer / "kit.json").write_text(json.dumps({**manifest, "cairn": "0.2.0"}))
    seal(newer, release_key)
    upgraded = install(newer, home, release_key, offline)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Upgraded Cairn 0.1.0 -> 0.2.0" in upgraded.stdout
    assert "no package changed" in upgraded.stdout
    assert json.loads(review("claims", "--json")) == claims
    assert len(list((home / "data" / "cairn" / "versions").iterdir())) == 2  # one to go back to


@pytest.mark.parametrize(
    "target", ["wheels", "SHA256SUMS", "requirements.txt", "README.md", "kit.json"]
)
def test_a_kit_with_one_byte_changed_is_refused(
    kit: Path, release_key: SigningKey, tmp_path: Path, target: str
) -> None:
    changed = tmp_path / "kit"
    shutil.copytree(kit, changed)
    path = changed / target
    if path.is_dir():
        path = next(path.glob("pynacl-*.whl"))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    refused = install(changed, tmp_path / "home", release_key)
    assert refused.returncode != 0
    assert "do not use this kit" in refused.stderr, refused.stderr
    assert not (tmp_path / "home" / "data" / "cairn").exists()


def test_a_kit_signed_by_another_key_is_refused(kit: Path, tmp_path: Path) -> None:
    stranger = SigningKey.generate(KeyKind.RELEASE)
    refused = install(kit, tmp_path / "home", stranger)
    assert refused.returncode != 0
    assert "not signed by your release key" in refused.stderr
    assert not (tmp_path / "home" / "data" / "cairn").exists()
