"""The operator's commands: init writes private secrets and never overwrites; check names every
problem on its own line and exits non-zero; serve refuses an unsafe instance; every command that
opens the database refuses one that is missing, unmigrated or unreachable in one line (I2, I8)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig

from intake import create_app
from intake.db import MIGRATIONS
from intake.instance import Instance, init_instance, load_instance
from keys import age
from keys.bundle import open_bundle
from keys.signing import KeyKind, SigningKey, parse_verify_key
from tests.support.forms import csrf_of
from tests.support.intake import VENV_BIN
from tests.support.invariants import age_header, identities_in


def intake(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "intake"), *args], capture_output=True, text=True, timeout=120
    )


def test_init_writes_private_secrets_and_prints_the_bundle_key(
    tmp_path: Path, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    path = tmp_path / "inst"
    result = intake("init", "--instance", str(path), "--recipient", str(reviewer[0].recipient))
    assert result.returncode == 0, result.stderr
    # the public half, ready for `review trust`
    parse_verify_key(result.stdout.strip(), KeyKind.SERVER)
    for name in ("secret_key", "pepper", "bundle_signing.key"):
        assert stat.S_IMODE((path / name).stat().st_mode) == 0o600
    config = json.loads((path / "config.json").read_text())
    assert config["recipients"] == [str(reviewer[0].recipient)]
    assert "AGE-SECRET-KEY" not in "".join(
        p.read_text(errors="ignore") for p in path.iterdir() if p.is_file()
    )
    again = intake("init", "--instance", str(path), "--recipient", str(reviewer[0].recipient))
    assert again.returncode != 0 and "never overwritten" in again.stderr
    assert intake("check", "--instance", str(path)).returncode == 0


def test_init_refuses_a_bad_recipient(tmp_path: Path) -> None:
    result = intake("init", "--instance", str(tmp_path / "i"), "--recipient", "age1notakey")
    assert result.returncode != 0
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "i" / "config.json").exists()


def test_i2_the_server_holds_no_key_that_decrypts_tips(
    instance: Instance, reviewer: tuple[age.X25519Identity, ...], tmp_path: Path
) -> None:
    """Only public keys are in the instance; its secrets are the pepper, the Flask key and the
    bundle-signing key, none of which opens an age file. A real tip is stored and exported: each
    item is sealed to exactly the configured recipients (no extra, server-held one), and nothing
    in the instance directory, taken as an X25519 secret (raw 32 bytes, bech32, hex, base64),
    opens it."""
    for path in instance.path.iterdir():
        if path.is_file():
            assert b"AGE-SECRET-KEY-1" not in path.read_bytes()

    client = create_app(instance).test_client()

    shown = client.post("/start", data={"csrf_token": csrf_of(client.get("/"))})
    assert client.post("/written", data={"csrf_token": csrf_of(shown)}).status_code == 303
    sent = client.post(
        "/submit",
        data={
            "csrf_token": csrf_of(client.get("/submit")),
            "website": "",
            "message": "a tip for the reviewers only",
            "files": (io.BytesIO(b"attached bytes"), "memo.txt", "text/plain"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 200, sent.get_data(as_text=True)

    bundle_path = tmp_path / "bundle.tar"
    exported = intake("export", "--instance", str(instance.path), "--out", str(bundle_path))
    assert exported.returncode == 0, exported.stderr
    with open_bundle(bundle_path, instance.signing_key.verify_key) as bundle:
        ciphertexts = []
        for item in bundle.items:
            out = io.BytesIO()
            bundle.copy_item(item, out)
            ciphertexts.append(out.getvalue())
    assert len(ciphertexts) == 2  # the message and the file

    configured = json.loads((instance.path / "config.json").read_text())["recipients"]
    assert configured == [str(reviewer[0].recipient)]
    candidates = identities_in(instance.path)
    assert candidates.get("secret_key")  # the hunt does see a raw 32-byte secret
    for ciphertext in ciphertexts:
        stanzas = age_header(ciphertext).stanzas
        assert [s.type for s in stanzas] == ["X25519"] * len(configured), stanzas
        assert reviewer[0].unwrap(stanzas) is not None
        for name, identities in candidates.items():
            for identity in identities:
                assert identity.unwrap(stanzas) is None, f"{name} holds a key that opens a tip"
    assert [str(r) for r in instance.recipients] == configured


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        (
            lambda p: _edit_config(p, recipients=[]),
            "no reviewer recipients are configured; add each reviewer's age1... recipient to "
            '"recipients" in {path}/config.json (or set CAIRN_RECIPIENTS, space separated)',
        ),
        (lambda p: _edit_config(p, recipients=["age1bogus"]), "recipient is invalid"),
        (lambda p: (p / "pepper").chmod(0o644), "pepper is readable by others"),
        (
            lambda p: _empty_database(p / "cairn.db"),
            "the database is not migrated; run `intake migrate --instance {path}`",
        ),
        (lambda p: _edit_config(p, limiter_storage_uri="redis://127.0.0.1:1/0"), "rate-limit"),
        (
            lambda p: _edit_config(p, database_url=UNREACHABLE_POSTGRESQL),
            "the database cannot be read (postgresql database x on 127.0.0.1:1: "
            "OperationalError); check database_url and that the database server is running",
        ),
    ],
)
def test_check_names_each_problem(
    instance: Instance, break_it: Callable[[Path], None], expected: str
) -> None:
    break_it(instance.path)
    expected = expected.format(path=instance.path)
    result = intake("check", "--instance", str(instance.path))
    assert result.returncode == 1
    assert expected in result.stderr
    assert all(line.startswith("problem: ") for line in result.stderr.splitlines())
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
    served = intake("serve", "--instance", str(instance.path), "--port", "1")
    assert served.returncode != 0 and expected in served.stderr


def test_check_reports_a_missing_sqlite_database_and_does_not_make_one(
    instance: Instance,
) -> None:
    database = instance.path / "cairn.db"
    database.unlink()
    result = intake("check", "--instance", str(instance.path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        f"problem: the database (SQLite file {database}) does not exist; restore it from a "
        f"backup, or run `intake migrate --instance {instance.path}` to start an empty one\n"
    ) in result.stderr
    assert not database.exists()


def test_issue19_item7_couriers_and_reviewers_add_refuse_a_key_of_another_kind(
    tmp_path: Path, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    path = tmp_path / "inst"
    server_key = intake("init", "--instance", str(path), "--recipient", str(reviewer[0].recipient))
    assert server_key.stdout.startswith("cairnserver1")
    assert intake("migrate", "--instance", str(path)).returncode == 0
    at = ("--instance", str(path))
    refused = intake("couriers", "add", server_key.stdout.strip(), "--name", "c", *at)
    assert refused.returncode == 1
    assert refused.stderr == (
        "Error: this is the server's bundle key, not a courier key: use the key printed by "
        "`review courier new`\n"
    )
    workspace = str(SigningKey.generate(KeyKind.REVIEWER).verify_key)
    refused = intake("couriers", "add", workspace, "--name", "c", *at)
    assert "this is a review workspace's key, not a courier key" in refused.stderr
    # A key in the old shared form is still accepted, listed in its new form, and is still
    # recognised as the courier's when offered as a reviewer's in either form.
    old = SigningKey.generate().verify_key
    assert intake("couriers", "add", str(old), "--name", "c", *at).returncode == 0
    listed = json.loads(intake("couriers", "list", "--json", *at).stdout)
    assert [row["key"] for row in listed] == [str(parse_verify_key(str(old), KeyKind.COURIER))]
    again = intake("reviewers", "add", str(old), "--name", "r", *at)
    assert "that key is a courier's; a reviewer needs a key of its own" in again.stderr


def test_issue19_item7_an_instance_whose_key_is_in_the_old_form_still_loads(
    tmp_path: Path, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    init_instance(tmp_path / "inst", [str(reviewer[0].recipient)])
    old = SigningKey.generate()  # written CAIRN-SIGNING-KEY-1..., as every key was
    (tmp_path / "inst" / "bundle_signing.key").write_text(f"{old}\n")
    loaded = load_instance(tmp_path / "inst", env={})
    assert loaded.signing_key.verify_key == old.verify_key
    assert str(loaded.signing_key.verify_key).startswith("cairnserver1")


def test_check_on_a_missing_instance_says_what_to_do(tmp_path: Path) -> None:
    result = intake("check", "--instance", str(tmp_path / "nowhere"))
    assert result.returncode != 0
    assert "intake init" in result.stderr


# Every command that opens the database, with what it needs besides the instance.
COURIER_KEY = str(SigningKey.generate().verify_key)
DATABASE_COMMANDS = {
    "export": ["export", "--out", "{tmp}/bundle.tar"],
    "couriers add": ["couriers", "add", COURIER_KEY, "--name", "courier"],
    "couriers remove": ["couriers", "remove", "courier"],
    "couriers list": ["couriers", "list"],
    "reviewers add": ["reviewers", "add", COURIER_KEY, "--name", "desk"],
    "reviewers remove": ["reviewers", "remove", "desk"],
    "reviewers list": ["reviewers", "list", "--json"],
}
UNREACHABLE_POSTGRESQL = "postgresql+psycopg://nobody:s3cret@127.0.0.1:1/x"


def _unmigrated_instance(root: Path, recipient: str, state: str) -> Instance:
    """An instance whose database is empty (never migrated) or at the first schema (the state
    after upgrading Cairn, before `intake migrate`)."""
    init_instance(root / "instance", [recipient], kdf_opslimit=1, kdf_memlimit_mib=8)
    instance = load_instance(root / "instance", env={})
    if state == "empty":
        _empty_database(instance.path / "cairn.db")
    else:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", instance.database_url)
        command.upgrade(config, "0001")
    return instance


@pytest.mark.parametrize("state", ["empty", "first schema"])
@pytest.mark.parametrize("name", DATABASE_COMMANDS)
def test_database_commands_refuse_an_unmigrated_database_in_one_line(
    tmp_path: Path, reviewer: tuple[age.X25519Identity, ...], name: str, state: str
) -> None:
    instance = _unmigrated_instance(tmp_path, str(reviewer[0].recipient), state)
    args = [a.format(tmp=tmp_path) for a in DATABASE_COMMANDS[name]]
    result = intake(*args, "--instance", str(instance.path))
    assert result.returncode == 1, result.stdout
    assert result.stderr == (
        f"Error: the database is not migrated; run `intake migrate --instance {instance.path}`\n"
    )
    assert not (tmp_path / "bundle.tar").exists()
    # Following the advice works.
    assert intake("migrate", "--instance", str(instance.path)).returncode == 0
    if name.endswith("remove"):
        intake(
            name.split()[0],
            "add",
            COURIER_KEY,
            "--name",
            args[-1],
            "--instance",
            str(instance.path),
        )
    done = intake(*args, "--instance", str(instance.path))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", DATABASE_COMMANDS)
def test_database_commands_name_an_unreachable_database_without_its_password(
    instance: Instance, tmp_path: Path, name: str
) -> None:
    _edit_config(instance.path, database_url=UNREACHABLE_POSTGRESQL)
    args = [a.format(tmp=tmp_path) for a in DATABASE_COMMANDS[name]]
    result = intake(*args, "--instance", str(instance.path))
    assert result.returncode == 1
    assert result.stderr == (
        "Error: the database cannot be read (postgresql database x on 127.0.0.1:1: "
        "OperationalError); check database_url and that the database server is running\n"
    )


def test_migrate_names_an_unreachable_database_without_its_password(instance: Instance) -> None:
    _edit_config(instance.path, database_url=UNREACHABLE_POSTGRESQL)
    result = intake("migrate", "--instance", str(instance.path))
    assert result.returncode == 1
    assert result.stderr == (
        "Error: the database failed (postgresql database x on 127.0.0.1:1: "
        "OperationalError); check database_url and that the database server is running\n"
    )


@pytest.mark.parametrize("name", ["export", "couriers list"])
def test_database_commands_do_not_make_a_missing_sqlite_database(
    instance: Instance, tmp_path: Path, name: str
) -> None:
    database = instance.path / "cairn.db"
    database.unlink()
    args = [a.format(tmp=tmp_path) for a in DATABASE_COMMANDS[name]]
    result = intake(*args, "--instance", str(instance.path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"Error: the database (SQLite file {database}) does not exist;" in result.stderr
    assert not database.exists()


def test_export_into_a_missing_folder_is_one_line(instance: Instance, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "bundle.tar"
    result = intake("export", "--instance", str(instance.path), "--out", str(out))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: cannot write the bundle {out} (the directory {out.parent} does not exist; "
        "make it first)\n"
    )


def _empty_database(path: Path) -> None:
    """A database file with no tables, as a never-migrated one is."""
    path.unlink(missing_ok=True)
    sqlite3.connect(path).close()


def _edit_config(path: Path, **changes: object) -> None:
    config = json.loads((path / "config.json").read_text())
    config.update(changes)
    (path / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("setting", "value"),
    [("circuit_concurrency", 0), ("idle_timeout_seconds", 0), ("min_upload_kib_per_second", -1)],
)
def test_a_limit_below_one_is_refused_in_one_line(
    instance: Instance, setting: str, value: int
) -> None:
    """0 would refuse every request of a circuit, or turn the kernel's idle limit off."""
    _edit_config(instance.path, **{setting: value})
    result = intake("check", "--instance", str(instance.path))
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {setting} must be at least 1, not {value} "
        f"(in {instance.path / 'config.json'} or CAIRN_{setting.upper()})\n"
    )


def test_an_environment_setting_that_is_not_a_number_is_refused_in_one_line(
    instance: Instance,
) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "intake"), "check", "--instance", str(instance.path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CAIRN_IDLE_TIMEOUT_SECONDS": "soon"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("Error: a CAIRN_ setting in the environment is not valid")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("option", ["--workers", "--threads"])
def test_serve_refuses_fewer_than_one_process_or_thread(instance: Instance, option: str) -> None:
    result = intake("serve", "--instance", str(instance.path), option, "0")
    assert result.returncode == 2
    assert f"Invalid value for '{option}': 0 is not in the range x>=1" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_warns_when_the_courier_api_shares_the_source_port(
    instance: Instance, tmp_path: Path, reviewer: tuple[age.X25519Identity, ...]
) -> None:
    """courier_port 0 serves the courier API beside the source pages, so the public source
    onion reaches it: fine for the demo on loopback, a warning anywhere else."""
    shared = intake("check", "--instance", str(instance.path))
    assert shared.returncode == 0, shared.stderr
    assert "warning: the courier API answers on the main port" in shared.stdout
    assert "looks good" not in shared.stdout

    _edit_config(instance.path, courier_port=8090)
    separate = intake("check", "--instance", str(instance.path))
    assert separate.returncode == 0, separate.stderr
    assert "warning" not in separate.stdout + separate.stderr
    assert "The instance looks good." in separate.stdout

    demo = tmp_path / "repo" / "demo" / "instance"  # where `make run` keeps it
    init_instance(demo, [str(reviewer[0].recipient)])
    intake("migrate", "--instance", str(demo))
    in_demo = subprocess.run(
        [str(VENV_BIN / "intake"), "check", "--instance", "demo/instance"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path / "repo",
    )
    assert in_demo.returncode == 0, in_demo.stderr
    assert "warning" not in in_demo.stdout + in_demo.stderr
