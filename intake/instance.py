"""An instance directory: the operator's configuration and the server's secrets.

    DIR/config.json          recipients, database URL, limits (no secrets)
    DIR/secret_key           Flask secret (CSRF signing)          0600
    DIR/pepper               codename KDF pepper (I3)             0600
    DIR/bundle_signing.key   Ed25519 key that signs bundles       0600
    DIR/cairn.db             the SQLite database, unless DATABASE_URL points elsewhere

The server holds only public keys of the reviewers (I2). ``CAIRN_*`` environment variables
override the file, e.g. ``CAIRN_DATABASE_URL``; ``CAIRN_<FIELD>_FILE`` names a file that holds
the value instead (Docker or systemd secrets), so a password never sits in the environment.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from keys import age, codename
from keys.private_files import open_new
from keys.signing import KeyKind, SigningKey, parse_signing_key

SECRET_FILES = ("secret_key", "pepper", "bundle_signing.key")
CONFIG_FILE = "config.json"
MIB = 1 << 20  # the unit of the *_mib settings; intake/ sizes its limits in it


@dataclass
class Config:
    """Everything an operator can set; each field may be overridden by ``CAIRN_<FIELD>``."""

    recipients: list[str] = field(default_factory=list)
    # Shown on every source page: who runs this tip line, and where it publishes this page's
    # address, so a source can check it is not a look-alike (plain text, never a link).
    organisation_name: str = ""
    address_published_at: str = ""
    database_url: str = ""
    limiter_storage_uri: str = "memory://"
    max_upload_mib: int = 500
    max_message_chars: int = 100_000
    max_files: int = 20
    min_first_message_chars: int = 0
    max_stored_gib: float = 50.0
    min_free_disk_mib: int = 1024
    session_hours: float = 2.0
    global_post_limit: str = "600/minute"
    global_page_limit: str = "6000/minute"
    circuit_limit: str = "30/minute"
    # Requests one Tor circuit may have in progress at once, in each intake process: a circuit
    # that opens many streams and stalls them must not hold every thread.
    circuit_concurrency: int = 4
    # A connection that sends nothing for this long, in its request line, headers or body, is
    # closed; a real upload over Tor never pauses that long. The line and headers must all be in
    # within this time too, and the body at no less than min_upload_kib_per_second on average
    # after it: a body sent a byte now and then would otherwise hold a thread for ever.
    idle_timeout_seconds: int = 60
    min_upload_kib_per_second: int = 8
    session_limit: str = "20/minute"
    kdf_concurrency: int = 2
    # A port of its own for the courier API (the courier onion points at it); the main port then
    # serves the source pages only. 0 serves both on the main port (the demo, tests).
    courier_port: int = 0
    courier_limit: str = "120/minute"
    ack_grace_days: int = 7
    max_reply_bundle_mib: int = 64
    # The codename KDF's cost is fixed when the instance is made: changing it later changes
    # every lookup id and reply key, which locks every source out.
    kdf_opslimit: int = codename.DEFAULT_PARAMS.opslimit
    kdf_memlimit_mib: int = codename.DEFAULT_PARAMS.memlimit // MIB
    unsubmitted_source_days: int = 1
    cookie_secure: bool = False
    # Who may send PROXY-protocol lines (Tor's circuit ids): tor's address, comma separated.
    proxy_allow_ips: str = "127.0.0.1,::1"
    # Tor's hostname files of the onion services, reported by `intake check` (intake/onion.py).
    onion_hostname_files: list[str] = field(default_factory=list)

    def apply_environment(self, env: dict[str, str]) -> None:
        for f in fields(self):
            name = f"CAIRN_{f.name.upper()}"
            value = env.get(name)
            if value is None and f"{name}_FILE" in env:
                try:
                    value = Path(env[f"{name}_FILE"]).read_text().strip()
                except OSError as err:
                    raise InstanceError(f"cannot read {name}_FILE ({err})") from None
            if value is None:
                continue
            if f.type == "list[str]":
                setattr(self, f.name, value.split())
            elif f.type == "bool":
                setattr(self, f.name, value.lower() in {"1", "true", "yes", "on"})
            elif f.type in {"int", "float"}:
                setattr(self, f.name, (int if f.type == "int" else float)(value))
            else:
                setattr(self, f.name, value)


_AT_LEAST_ONE = ("circuit_concurrency", "idle_timeout_seconds", "min_upload_kib_per_second")


@dataclass(frozen=True)
class Instance:
    path: Path
    config: Config
    secret_key: bytes
    pepper: bytes
    signing_key: SigningKey

    @property
    def recipients(self) -> list[age.X25519Recipient]:
        return [age.parse_recipient(r) for r in self.config.recipients]

    @property
    def kdf_params(self) -> codename.KdfParams:
        return codename.KdfParams(self.config.kdf_opslimit, self.config.kdf_memlimit_mib * MIB)

    @property
    def database_url(self) -> str:
        return self.config.database_url or f"sqlite:///{self.path / 'cairn.db'}"


class InstanceError(Exception):
    """The instance directory is missing, incomplete or unsafe; the message says what to do."""


def _write_secret(path: Path, data: bytes) -> None:
    with open_new(path) as out:
        out.write(data)


def init_instance(
    path: Path, recipients: list[str], database_url: str = "", **settings: object
) -> SigningKey:
    """Create a new instance directory; returns the bundle-signing key (print its public half)."""
    for r in recipients:
        age.parse_recipient(r)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if (path / CONFIG_FILE).exists():
        raise InstanceError(f"{path} already holds an instance; it is never overwritten")
    signing_key = SigningKey.generate(KeyKind.SERVER)
    _write_secret(path / "secret_key", secrets.token_bytes(32))
    _write_secret(path / "pepper", codename.new_pepper())
    _write_secret(path / "bundle_signing.key", str(signing_key).encode() + b"\n")
    config = Config(recipients=recipients, database_url=database_url, **settings)  # type: ignore[arg-type]
    (path / CONFIG_FILE).write_text(json.dumps(asdict(config), indent=2) + "\n")
    return signing_key


def unsafe_secret_files(path: Path) -> list[str]:
    """Secret files that group or others can read."""
    return [
        name
        for name in SECRET_FILES
        if (path / name).exists() and (path / name).stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    ]


def load_instance(path: Path, env: dict[str, str] | None = None) -> Instance:
    config_path = path / CONFIG_FILE
    if not config_path.exists():
        raise InstanceError(
            f"no instance at {path}; create one with `intake init --instance {path}`"
        )
    try:
        config = Config(**json.loads(config_path.read_text()))
    except (ValueError, TypeError) as err:
        raise InstanceError(f"{config_path} is not a valid configuration ({err})") from None
    try:
        config.apply_environment(dict(os.environ) if env is None else env)
    except ValueError as err:
        raise InstanceError(f"a CAIRN_ setting in the environment is not valid ({err})") from None
    for name in _AT_LEAST_ONE:
        if getattr(config, name) < 1:
            raise InstanceError(
                f"{name} must be at least 1, not {getattr(config, name)} "
                f"(in {config_path} or CAIRN_{name.upper()})"
            )
    try:
        return Instance(
            path=path,
            config=config,
            secret_key=(path / "secret_key").read_bytes(),
            pepper=(path / "pepper").read_bytes(),
            signing_key=parse_signing_key(
                (path / "bundle_signing.key").read_text(), KeyKind.SERVER
            ),
        )
    except (OSError, ValueError) as err:
        raise InstanceError(f"cannot read the instance secrets in {path} ({err})") from None
