"""What the server stamps on the rows it writes: random ids, days, and the lease of an upload in
progress, the one time finer than a day that it keeps (I5), only until the upload completes."""

from __future__ import annotations

import datetime as dt
import secrets
import time

LEASE_SECONDS = 15 * 60


def new_id() -> str:
    return secrets.token_hex(16)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def now() -> int:
    return int(time.time())


def lease_until() -> int:
    return now() + LEASE_SECONDS
