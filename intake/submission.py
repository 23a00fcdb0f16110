"""Receiving a submission: the multipart body is parsed as it streams in, and each message and
file is sealed to the reviewers chunk by chunk, so no plaintext part ever reaches a disk (I1).

Werkzeug's form parser is never used here: it would spool files over 500 KB to a temporary file.
Every problem is a 4xx: one the source can put right gives the form back (FormProblem), any
other a plain explanation; whatever was already stored is deleted (I8).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.exceptions import BadRequest
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder

from keys import age
from keys.sealed import ItemWriter

from .blobs import BlobWriter
from .i18n import number, size_in_words
from .store import Store

# Gunicorn's body reader buffers up to 1 MiB of the socket and copies what is left after each
# read, so reading in 64 KiB steps cost more than sealing. The parser may hold a read plus what
# it keeps between reads (at most a partial boundary, or part headers up to the old 1 MiB).
READ_SIZE = 1 << 20
PARSER_BUFFER = READ_SIZE + (1 << 20)
MAX_SMALL_FIELD = 1024
HONEYPOT_FIELD = "website"
# The codename, carried by the forms of a source's first session only to be shown again on the
# next page; it is read into memory like the token and never stored (I3).
CODENAME_FIELD = "codename"
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
    codename: str = ""  # as the form carried it, to be shown again; never stored (I3)


class FormProblem(Exception):
    """A problem the source can put right on the form (nothing sent, a first message too short,
    too much at once): the form comes back with the reason beside ``field`` and the message as
    typed, taken from this request's memory only (I1); nothing of the attempt is kept (I8)."""

    def __init__(self, field: str, reason: LazyString, code: int) -> None:
        super().__init__(field)
        self.field = field
        self.reason = reason
        self.code = code
        self.typed = ""  # the message so far, filled in by receive_submission
        self.codename = ""  # as the form carried it, likewise


def too_large(max_bytes: int) -> FormProblem:
    return FormProblem(
        "files",
        _l(
            "This is larger than the limit of %(limit)s. Please send it in several parts, or "
            "leave out the largest files.",
            limit=size_in_words(max_bytes),
        ),
        413,
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

    def __init__(self, receiver: _Receiver, max_chars: int, seal: bool = True) -> None:
        super().__init__(receiver, "message", "message.txt", "text/plain; charset=utf-8")
        self._seal = seal
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._max_chars = max_chars
        self.chars = 0
        # The text as typed, bounded by max_chars plus one read, for a form that comes back.
        self.typed: list[str] = []

    def feed(self, data: bytes) -> None:
        self._count(data, final=False)
        if self._seal:
            super().feed(data)

    def finish(self) -> None:
        self._count(b"", final=True)
        if self._seal:
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
        self.typed.append(text)
        if self.chars > self._max_chars:
            raise FormProblem(
                "message",
                _l(
                    "The message is longer than %(limit)s characters. Please shorten it, or "
                    "send it as a file.",
                    limit=number(self._max_chars),
                ),
                413,
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
        self,
        receiver: _Receiver,
        limits: SubmissionLimits,
        check_csrf: Callable[[str], None],
        refusal: FormProblem | None = None,
    ) -> None:
        self.receiver = receiver
        self.limits = limits
        # Set when the body is known to be refused (it says it is too large): the form is read
        # only as far as the message, for the page that gives it back, and nothing is stored.
        self.refusal = refusal
        self.csrf = _CsrfField(check_csrf)
        self.honeypot = _SmallField()
        self.codename = _SmallField()
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
            if self.refusal is not None:
                raise self.refusal
            if event.name != "files":
                raise BadRequest(_l("The form contained an unexpected file field."))
            self.file_parts += 1
            if self.file_parts > self.limits.max_files:
                raise FormProblem(
                    "files",
                    _l(
                        "At most %(limit)s files can be sent at once. Please send the others "
                        "in another submission.",
                        limit=number(self.limits.max_files),
                    ),
                    413,
                )
            return _SealedPart(
                self.receiver,
                "file",
                safe_file_name(_sent_file_name(event)),
                safe_media_type(event.headers.get("content-type")),
                keep_empty=bool(event.filename),  # a browser sends an unnamed part for "no file"
            )
        if event.name == "message" and self.message is None:
            self.message = _MessagePart(
                self.receiver, self.limits.max_message_chars, seal=self.refusal is None
            )
            return self.message
        if event.name == HONEYPOT_FIELD and not self.honeypot.value:
            return self.honeypot
        if event.name == CODENAME_FIELD and not self.codename.value:
            return self.codename
        raise BadRequest(_l("The form contained an unexpected field."))

    def receipt(self) -> Receipt:
        if self.refusal is not None:
            raise self.refusal
        if self.honeypot.value.strip():
            return Receipt(discarded=True, codename=self.carried_codename())
        if self.receiver.messages == 0 and self.receiver.files == 0:
            raise FormProblem(
                "message", _l("Nothing was sent. Please write a message or choose a file."), 400
            )
        chars = self.message.chars if self.message else 0
        if chars < self.limits.min_message_chars:
            raise FormProblem(
                "message",
                _l(
                    "Please write at least %(limit)s characters in your first message, so the "
                    "people reading it understand what it is about.",
                    limit=number(self.limits.min_message_chars),
                ),
                400,
            )
        return Receipt(
            messages=self.receiver.messages,
            files=self.receiver.files,
            codename=self.carried_codename(),
        )

    def typed_message(self) -> str:
        return "".join(self.message.typed) if self.message else ""

    def carried_codename(self) -> str:
        return self.codename.value.decode("utf-8", "replace")


def receive_submission(
    read: Callable[[int], bytes],
    boundary: bytes,
    store: Store,
    source_id: str,
    recipients: Sequence[age.Recipient],
    limits: SubmissionLimits,
    check_csrf: Callable[[str], None],
    declared_length: int | None = None,
) -> Receipt:
    """Parse and seal one multipart submission, all or nothing.

    A body that says it is over the limit is read only up to its first file (at most the
    message's own bound and one read past it), so the form can come back with the message."""
    receiver = _Receiver(store, source_id, recipients)
    over = declared_length is not None and declared_length > limits.max_bytes
    form = _Form(receiver, limits, check_csrf, too_large(limits.max_bytes) if over else None)
    try:
        _parse(read, boundary, form)
        receipt = form.receipt()
        if not receipt.discarded:
            receiver.complete()
    except BaseException as error:  # a failed completion too: its rows go now, not later
        receiver.discard()
        if isinstance(error, FormProblem):
            error.typed = form.typed_message()
            error.codename = form.carried_codename()
        raise
    if receipt.discarded:
        receiver.discard()
    return receipt


def _message_bound(limits: SubmissionLimits) -> int:
    """How far a refused body is read: a token, the honeypot and the longest message, in UTF-8."""
    return 4 * limits.max_message_chars + 4 * MAX_SMALL_FIELD + READ_SIZE


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
        if form.refusal is None and received > form.limits.max_bytes:
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
        if form.refusal is not None and received > _message_bound(form.limits):
            raise form.refusal
        if not data:
            raise BadRequest(INTERRUPTED)
