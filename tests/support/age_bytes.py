"""age on whole byte strings, for tests: the library itself works on streams."""

from __future__ import annotations

import io

from keys import age


def encrypt(data: bytes, recipients: list[age.Recipient]) -> bytes:
    out = io.BytesIO()
    age.encrypt(io.BytesIO(data), out, recipients)
    return out.getvalue()


def decrypt(data: bytes, identities: list[age.Identity]) -> bytes:
    out = io.BytesIO()
    age.decrypt(io.BytesIO(data), out, identities)
    return out.getvalue()
