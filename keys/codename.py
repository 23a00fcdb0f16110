"""Source codenames and the keys the server derives from them (I3).

A codename is seven or more words from the EFF large diceware list, chosen by the CSPRNG, less
the offensive or distressing words of ``wordlists/denied.txt``; seven words of the 7,666 left
carry about 90.3 bits, and the list may never shrink below the 7,413 words that 90 bits need.
The server never stores it. One memory-hard Argon2id run, salted from the instance pepper,
stretches it; HKDF then splits the result into the lookup id the server stores and the secret of
the source's reply identity, whose recipient the server stores. Neither stored value yields the
other or decrypts a reply: that needs the codename again.

The word list (``wordlists/eff_large.txt``) is the EFF large diceware list by the Electronic
Frontier Foundation, used under CC BY 3.0 US; see ``wordlists/README.md``.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
import threading
from dataclasses import dataclass
from importlib import resources

from nacl.pwhash import argon2id

from .age import X25519Identity
from .age.primitives import hkdf_sha256

EFF_LIST_SIZE = 7776
MIN_WORDS = 7
MIN_BITS = 90
MIN_WORDLIST_SIZE = math.ceil(2 ** (MIN_BITS / MIN_WORDS))  # 7,413
PEPPER_SIZE = 32
_SALT_PERSON = b"cairn-kdf-salt"
_LOOKUP_INFO = b"cairn/v1/source-lookup-id"
_REPLY_INFO = b"cairn/v1/source-reply-identity"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost; ``memlimit`` is in bytes and is also the memory each derivation holds."""

    opslimit: int
    memlimit: int


# Measured on the 2-core dev machine (PyNaCl 1.6.2, libsodium Argon2id, one lane), 11 runs each:
# opslimit=8 at 64 MiB takes 0.28 s minimum / 0.30 s median, and raises peak RSS by 64 MiB.
# With other work loading both cores (load ~4) it took 0.39-0.68 s, median 0.50 s.
# (For comparison: opslimit=4 took 0.16 s, opslimit=10 took 0.34 s; memory is memlimit.)
# Changing these values changes every lookup id and reply key, locking out every source.
DEFAULT_PARAMS = KdfParams(opslimit=8, memlimit=64 * 1024 * 1024)


class KdfBusyError(RuntimeError):
    """Every KDF slot stayed taken for the whole timeout; the caller should ask to retry."""


def _words(name: str) -> list[str]:
    text = resources.files(__package__).joinpath(f"wordlists/{name}").read_text("ascii")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@functools.cache
def eff_wordlist() -> tuple[str, ...]:
    """The EFF large diceware list as published, checked so a damaged install is refused."""
    words = tuple(_words("eff_large.txt"))
    if len(words) != EFF_LIST_SIZE or len(set(words)) != EFF_LIST_SIZE:
        raise RuntimeError(f"the EFF word list must hold {EFF_LIST_SIZE} distinct words")
    return words


@functools.cache
def wordlist() -> tuple[str, ...]:
    """The words codenames and passphrases are drawn from: the EFF list less the denied words.

    Only generation uses it; logging in never does, so a codename holding a word denied since
    it was made still works."""
    eff = eff_wordlist()
    denied = set(_words("denied.txt"))
    if not denied <= set(eff):
        raise RuntimeError(f"denied.txt names words not in the list: {sorted(denied - set(eff))}")
    words = tuple(word for word in eff if word not in denied)
    if len(words) < MIN_WORDLIST_SIZE:
        raise RuntimeError(f"the codename word list must keep {MIN_WORDLIST_SIZE} words")
    return words


def diceware(words: int) -> str:
    """``words`` words chosen by the CSPRNG from the list, space-separated: 12.9 bits each."""
    choices = wordlist()
    return " ".join(secrets.choice(choices) for _ in range(words))


def generate_codename(words: int = MIN_WORDS) -> str:
    """A fresh codename of ``words`` CSPRNG-chosen words (at least seven), space-separated."""
    if words < MIN_WORDS:
        raise ValueError(f"a codename needs at least {MIN_WORDS} words")
    return diceware(words)


def normalize_codename(text: str) -> str:
    """Lowercase, single-spaced and stripped, so stray capitals or spaces still let a source in."""
    return " ".join(text.lower().split())


def new_pepper() -> bytes:
    """A fresh instance pepper; the operator keeps it apart from the database."""
    return secrets.token_bytes(PEPPER_SIZE)


@dataclass(frozen=True, eq=False)
class SourceKeys:
    """What a codename yields. The server stores ``lookup_id`` and the reply recipient only."""

    lookup_id: str
    reply_identity: X25519Identity

    def __repr__(self) -> str:
        return f"SourceKeys(recipient={self.reply_identity.recipient})"


def derive_source_keys(
    codename: str, pepper: bytes, params: KdfParams = DEFAULT_PARAMS
) -> SourceKeys:
    """One Argon2id run over the normalized codename, split by HKDF into two independent keys.

    The pepper salts Argon2id and keys HKDF, so a stolen database without it cannot be searched.
    """
    if len(pepper) < PEPPER_SIZE:
        raise ValueError(f"the pepper must be at least {PEPPER_SIZE} bytes")
    normalized = normalize_codename(codename)
    if not normalized:
        raise ValueError("the codename is empty")
    salt = hashlib.blake2b(pepper, digest_size=argon2id.SALTBYTES, person=_SALT_PERSON).digest()
    stretched = argon2id.kdf(
        32, normalized.encode(), salt, opslimit=params.opslimit, memlimit=params.memlimit
    )
    lookup = hkdf_sha256(stretched, pepper, _LOOKUP_INFO)
    reply_secret = hkdf_sha256(stretched, pepper, _REPLY_INFO)
    return SourceKeys(lookup_id=lookup.hex(), reply_identity=X25519Identity(reply_secret))


class KdfGate:
    """Caps concurrent derivations, so a burst of logins holds at most ``slots`` x memlimit."""

    def __init__(
        self, slots: int = 2, timeout: float = 5.0, params: KdfParams = DEFAULT_PARAMS
    ) -> None:
        if slots < 1:
            raise ValueError("a KDF gate needs at least one slot")
        if timeout < 0:
            raise ValueError("the timeout cannot be negative")
        self._slots = threading.BoundedSemaphore(slots)
        self.timeout = timeout
        self.params = params

    def derive(self, codename: str, pepper: bytes) -> SourceKeys:
        """``derive_source_keys`` in a free slot; ``KdfBusyError`` if none frees up in time."""
        if not self._slots.acquire(timeout=self.timeout):
            raise KdfBusyError(f"no free KDF slot within {self.timeout:g} s")
        try:
            return derive_source_keys(codename, pepper, self.params)
        finally:
            self._slots.release()
