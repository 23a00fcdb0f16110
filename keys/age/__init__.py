"""age v1 (https://age-encryption.org/v1) on PyNaCl primitives.

    from keys import age
    age.encrypt(src, dst, [age.parse_recipient("age1...")])
    age.decrypt(src, dst, [age.parse_identity("AGE-SECRET-KEY-1...")])

A ``Recipient`` wraps a file key into header stanzas; an ``Identity`` unwraps it. The header
(``header``) and the STREAM payload cipher (``stream``) each live in a module of their own;
callers outside this package use what is exported here, including the ``Reader``, ``Writer``
and ``SeekableWriter`` protocols every streaming function takes.
"""

from .encryption import Encryptor, decrypt, encrypt
from .errors import DecryptError, HeaderError, HeaderMACError, NoIdentityMatchError, PayloadError
from .header import VERSION_LINE, Header, Stanza, parse_header
from .recipients import Identity, Recipient
from .scrypt import ScryptIdentity, ScryptRecipient
from .stream import Reader, SeekableWriter, Writer
from .x25519 import X25519Identity, X25519Recipient, parse_identity, parse_recipient

__all__ = [
    "VERSION_LINE",
    "DecryptError",
    "Encryptor",
    "Header",
    "HeaderError",
    "HeaderMACError",
    "Identity",
    "NoIdentityMatchError",
    "PayloadError",
    "Reader",
    "Recipient",
    "ScryptIdentity",
    "ScryptRecipient",
    "SeekableWriter",
    "Stanza",
    "Writer",
    "X25519Identity",
    "X25519Recipient",
    "decrypt",
    "encrypt",
    "parse_header",
    "parse_identity",
    "parse_recipient",
]
