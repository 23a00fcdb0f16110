"""Why a decryption failed, one class per kind, each with a message a person understands."""


class DecryptError(Exception):
    """The file could not be decrypted; nothing unauthenticated was released."""


class HeaderError(DecryptError):
    """The header is malformed: this is not a well-formed age v1 file."""


class HeaderMACError(DecryptError):
    """The header was modified after it was written (its MAC does not verify)."""


class NoIdentityMatchError(DecryptError):
    """None of the given identities can open this file."""


class PayloadError(DecryptError):
    """The encrypted content is truncated, extended or modified."""
