"""age v1 (https://age-encryption.org/v1) on PyNaCl primitives.

    from keys import age
    age.encrypt(src, dst, [age.parse_recipient("age1...")])
    age.decrypt(src, dst, [age.parse_identity("AGE-SECRET-KEY-1...")])

A ``Recipient`` wraps a file key into header stanzas; an ``Identity`` unwraps it. The header
(``header``) and the STREAM payload cipher (``stream``) each live in a module of their own.
"""

from .encryption import Encryptor, decrypt, decrypt_file, encrypt
from .errors import DecryptError, HeaderError, HeaderMACError, NoIdentityMatchError, PayloadError
from .header import Stanza
from .recipients import Identity, Recipient
from .scrypt import ScryptIdentity, ScryptRecipient
from .x25519 import X25519Identity, X25519Recipient, parse_identity, parse_recipient

__all__ = [
    "DecryptError",
    "Encryptor",
    "HeaderError",
    "HeaderMACError",
    "Identity",
    "NoIdentityMatchError",
    "PayloadError",
    "Recipient",
    "ScryptIdentity",
    "ScryptRecipient",
    "Stanza",
    "X25519Identity",
    "X25519Recipient",
    "decrypt",
    "decrypt_file",
    "encrypt",
    "parse_identity",
    "parse_recipient",
]
