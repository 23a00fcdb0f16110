"""What a source's browser sends, made by hand: multipart bodies, CSRF tokens, a source walked
to the submission form through the Flask test client; and the plain error page every refusal
must be."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.intake import CODENAME, CSRF

BOUNDARY = b"cairnboundary"
CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY.decode()
INTERNALS = ("Traceback", 'File "', "Exception", "Error:", "werkzeug", "sqlalchemy")


def part(name: bytes, content: bytes, filename: bytes | None = None, media: bytes = b"") -> bytes:
    """One well-formed part, with its leading boundary line."""
    disposition = b'Content-Disposition: form-data; name="' + name + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename + b'"'
        media = media or b"application/octet-stream"
    head = disposition + b"\r\n" + (b"Content-Type: " + media + b"\r\n" if media else b"")
    return b"--" + BOUNDARY + b"\r\n" + head + b"\r\n" + content + b"\r\n"


def end() -> bytes:
    return b"--" + BOUNDARY + b"--\r\n"


def form(token: str, *parts: bytes) -> bytes:
    return part(b"csrf_token", token.encode()) + b"".join(parts) + end()


# What the submission form says when it comes back after a problem the source can fix.
FORM_RETURNED = "the note beside the field"


def assert_plain_error(response: TestResponse, *statuses: int) -> str:
    """A 4xx with the friendly page: its title, what happened, a way back (or the form itself,
    given back with the reason); no internals."""
    text = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, (response.status_code, text)
    if statuses:
        assert response.status_code in statuses, (response.status_code, text)
    assert response.mimetype == "text/html"
    assert "Back to the start page" in text or FORM_RETURNED in text
    for internal in INTERNALS:
        assert internal not in text, internal
    assert "<script" not in text.lower()
    return text


def csrf_of(response: TestResponse) -> str:
    match = CSRF.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def log_in(client: FlaskClient) -> str:
    """A new source with a session; returns the submission form's CSRF token."""
    shown = client.post("/start", data={"csrf_token": csrf_of(client.get("/"))})
    assert shown.status_code == 200
    assert client.post("/written", data={"csrf_token": csrf_of(shown)}).status_code == 303
    return csrf_of(client.get("/submit"))


class CountingStream(io.RawIOBase):
    """A request body that counts what the server reads of it."""

    def __init__(self, data: bytes, piece: int = 1 << 30) -> None:
        self._data = io.BytesIO(data)
        self.size = len(data)
        self.piece = piece
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._data.seek(offset, whence)

    def tell(self) -> int:
        return self._data.tell()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._data.read(min(len(buffer), self.piece))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


def start_source(client: FlaskClient) -> tuple[str, str]:
    """Walk landing page -> codename -> 'written it down' -> form; returns (codename, csrf)."""
    page = client.get("/")
    shown = client.post("/start", data={"csrf_token": csrf_of(page)})
    assert shown.status_code == 200
    codename_match = CODENAME.search(shown.get_data(as_text=True))
    assert codename_match
    written = client.post("/written", data={"csrf_token": csrf_of(shown)})
    assert written.status_code == 303
    form = client.get("/submit")
    assert form.status_code == 200
    return codename_match.group(1), csrf_of(form)
