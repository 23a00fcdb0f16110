"""Receiving a submission: the multipart body is parsed as it streams in, and each message and
file is sealed to the reviewers chunk by chunk, so no plaintext part ever reaches a disk (I1).

Werkzeug's form parser is never used here: it would spool files over 500 KB to a temporary file.
Every problem is a 4xx with a plain explanation, and whatever was already stored is deleted (I8).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder

from keys import age
from keys.sealed import ItemWriter

from .blobs import BlobWriter
from .i18n import number
from .store import Store

# Gunicorn's body reader buffers up to 1 MiB of the socket and copies what is left after each
# read, so reading in 64 KiB steps cost more than sealing. The parser may hold a read plus what
# it keeps between reads (at most a partial boundary, or part headers up to the old 1 MiB).
READ_SIZE = 1 << 20
PARSER_BUFFER = READ_SIZE + (1 << 20)
MAX_SMALL_FIELD = 1024
HONEYPOT_FIELD = "website"
INTERRUPTED = _l("The connection was interrupted before everything arrived. Please try again.")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]{0,63}/[A-Za-z0-9][\w.+-]{0,127}\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class SubmissionLimits:
    max_bytes: int
    max_message_chars: int
    max_files: int
    min_message_chars: int = 0


@dataclass(frozen=True)
class Receipt:
    """What was stored; ``discarded`` when the honeypot caught a bot (it is shown success)."""

    messages: int = 0
    files: int = 0
    discarded: bool = False


def too_large(max_bytes: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(
        _l(
            "This submission is larger than the limit of %(limit)s MiB. Please send it in "
            "several parts, or leave out the largest files.",
            limit=number(max_bytes >> 20),
        )
    )


def safe_file_name(raw: str) -> str:
    """The last path component, without control characters; the name lives only in ciphertext."""
    name = _CONTROL.sub("", re.split(r"[\\/]", raw)[-1]).strip()
    return name[:255] or "unnamed"


def _sent_file_name(event: File) -> str:
    """The file name as the browser sent it. Browsers do not escape a backslash, but Werkzeug
    unescapes one, which would glue C:\\Users\\name\\memo.docx into a single component."""
    disposition = event.headers.get("content-disposition", "").replace("\\", "/")
    return parse_options_header(disposition)[1].get("filename", event.filename)


def safe_media_type(raw: str | None) -> str:
    media_type = (raw or "").split(";")[0].strip().lower()
    return media_type if _MEDIA_TYPE.match(media_type) else "application/octet-stream"


class _SmallField:
    def __init__(self) -> None:
        self.value = bytearray()

    def feed(self, data: bytes) -> None:
        self.value += data
        if len(self.value) > MAX_SMALL_FIELD:
            raise BadRequest(_l("A form field was far longer than expected."))

    def finish(self) -> None:
        pass


class _SealedPart:
    """Seals one message or file; the item is created only when its first byte arrives."""

    def __init__(
        self, receiver: _Receiver, kind: str, name: str, media_type: str, keep_empty: bool = False
    ) -> None:
        self._receiver = receiver
        self.kind = kind
        self._name = name
        self._media_type = media_type
        self._keep_empty = keep_empty
        self._item_id: str | None = None
        self._blob: BlobWriter | None = None
        self._writer: ItemWriter | None = None
        self.length = 0

    def _open(self) -> ItemWriter:
        if self._writer is None:
            self._item_id = self._receiver.writer.add_item(self.kind)
            self._blob = self._receiver.writer.blob_writer(self._item_id)
            self._writer = ItemWriter(
                self._blob, self._receiver.recipients, self.kind, self._name, self._media_type
            )
        return self._writer

    def feed(self, data: bytes) -> None:
        if data:
            self.length += len(data)
            self._open().write(data)

    def finish(self) -> None:
        """A part with no bytes is dropped, unless it is a named (empty) file: nothing is lost."""
        if self._keep_empty:
            self._open()
        if self._writer is None or self._blob is None or self._item_id is None:
            return
        self._writer.close()
        self._receiver.writer.finish_item(self._item_id, self._blob.close())
        self._receiver.stored(self.kind)


class _MessagePart(_SealedPart):
    """A message must be text: valid UTF-8, no NUL, at most ``max_chars`` characters."""

    def __init__(self, receiver: _Receiver, max_chars: int) -> None:
        super().__init__(receiver, "message", "message.txt", "text/plain; charset=utf-8")
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._max_chars = max_chars
        self.chars = 0

    def feed(self, data: bytes) -> None:
        self._count(data, final=False)
        super().feed(data)

    def finish(self) -> None:
        self._count(b"", final=True)
        super().finish()

    def _count(self, data: bytes, final: bool) -> None:
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError:
            raise BadRequest(
                _l(
                    "Part of the message is not valid text, perhaps because of how it was "
                    "copied. Please paste or type it again, or send it as a file."
                )
            ) from None
        if "\x00" in text:
            raise BadRequest(
                _l(
                    "The message contains characters that are not text. Please send it as a "
                    "file instead."
                )
            )
        self.chars += len(text)
        if self.chars > self._max_chars:
            raise RequestEntityTooLarge(
                _l(
                    "The message is longer than %(limit)s characters. Please shorten it, or "
                    "send it as a file.",
                    limit=number(self._max_chars),
                )
            )


class _Receiver:
    def __init__(self, store: Store, source_id: str, recipients: Sequence[age.Recipient]) -> None:
        self.recipients = recipients
        self.writer = store.submission_writer(source_id)  # stores nothing before the first item
        self.messages = 0
        self.files = 0

    def stored(self, kind: str) -> None:
        if kind == "message":
            self.messages += 1
        else:
            self.files += 1

    def complete(self) -> None:
        self.writer.complete()

    def discard(self) -> None:
        self.writer.discard()


class _CsrfField(_SmallField):
    """The first part of the form: checked as soon as it ends, before anything is stored."""

    def __init__(self, check: Callable[[str], None]) -> None:
        super().__init__()
        self._check = check
        self.checked = False

    def finish(self) -> None:
        self._check(self.value.decode("ascii", "replace"))
        self.checked = True


class _Form:
    """Which part comes next, and what the parts so far said."""

    def __init__(
        self, receiver: _Receiver, limits: SubmissionLimits, check_csrf: Callable[[str], None]
    ) -> None:
        self.receiver = receiver
        self.limits = limits
        self.csrf = _CsrfField(check_csrf)
        self.honeypot = _SmallField()
        self.message: _MessagePart | None = None
        self.file_parts = 0

    def start_part(self, event: Field | File) -> _SmallField | _SealedPart:
        if not self.csrf.checked:
            if isinstance(event, Field) and event.name == "csrf_token" and not self.csrf.value:
                return self.csrf
            raise BadRequest(
                _l(
                    "This form has expired or is incomplete. Please go back, reload the page and "
                    "try again."
                )
            )
        if isinstance(event, File):
            if event.name != "files":
                raise BadRequest(_l("The form contained an unexpected file field."))
            self.file_parts += 1
            if self.file_parts > self.limits.max_files:
                raise RequestEntityTooLarge(
                    _l(
                        "At most %(limit)s files can be sent at once. Please send the others "
                        "in another submission.",
                        limit=number(self.limits.max_files),
                    )
                )
            return _SealedPart(
                self.receiver,
                "file",
                safe_file_name(_sent_file_name(event)),
                safe_media_type(event.headers.get("content-type")),
                keep_empty=bool(event.filename),  # a browser sends an unnamed part for "no file"
            )
        if event.name == "message" and self.message is None:
            self.message = _MessagePart(self.receiver, self.limits.max_message_chars)
            return self.message
        if event.name == HONEYPOT_FIELD and not self.honeypot.value:
            return self.honeypot
        raise BadRequest(_l("The form contained an unexpected field."))

    def receipt(self) -> Receipt:
        if self.honeypot.value.strip():
            return Receipt(discarded=True)
        if self.receiver.messages == 0 and self.receiver.files == 0:
            raise BadRequest(_l("Nothing was sent. Please write a message or choose a file."))
        chars = self.message.chars if self.message else 0
        if chars < self.limits.min_message_chars:
            raise BadRequest(
                _l(
                    "Please write at least %(limit)s characters in your first message, so the "
                    "people reading it understand what it is about.",
                    limit=number(self.limits.min_message_chars),
                )
            )
        return Receipt(messages=self.receiver.messages, files=self.receiver.files)


def receive_submission(
    read: Callable[[int], bytes],
    boundary: bytes,
    store: Store,
    source_id: str,
    recipients: Sequence[age.Recipient],
    limits: SubmissionLimits,
    check_csrf: Callable[[str], None],
) -> Receipt:
    """Parse and seal one multipart submission, all or nothing."""
    receiver = _Receiver(store, source_id, recipients)
    form = _Form(receiver, limits, check_csrf)
    try:
        _parse(read, boundary, form)
        receipt = form.receipt()
        if not receipt.discarded:
            receiver.complete()
    except BaseException:  # a failed completion too: its rows go now, not at the next sweep
        receiver.discard()
        raise
    if receipt.discarded:
        receiver.discard()
    return receipt


def _parse(read: Callable[[int], bytes], boundary: bytes, form: _Form) -> None:
    decoder = MultipartDecoder(boundary, PARSER_BUFFER, max_parts=form.limits.max_files + 3)
    part: _SmallField | _SealedPart | None = None
    received = 0
    while True:
        try:
            data = read(READ_SIZE)
        except OSError:  # the source went away mid-body (gunicorn's NoMoreData is one)
            raise BadRequest(INTERRUPTED) from None
        form.receiver.writer.keep_alive()  # however slowly it arrives, it is alive
        received += len(data)
        if received > form.limits.max_bytes:
            raise too_large(form.limits.max_bytes)
        try:
            decoder.receive_data(data or None)
            while (event := decoder.next_event()) is not NEED_DATA:
                if isinstance(event, Field | File):
                    part = form.start_part(event)
                elif isinstance(event, Data) and part is not None:
                    part.feed(event.data)
                    if not event.more_data:
                        part.finish()
                        part = None
                elif isinstance(event, Epilogue):
                    return
        except ValueError:  # the decoder's word for malformed input, UnicodeDecodeError included
            raise BadRequest(
                _l(
                    "The form did not arrive whole, perhaps because the connection was "
                    "interrupted. Please try again."
                )
            ) from None
        if not data:
            raise BadRequest(INTERRUPTED)
