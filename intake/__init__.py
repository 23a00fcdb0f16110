"""The intake server: source pages that seal every tip to the reviewers as it streams in."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from flask import Flask, Request, current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import BadRequest

from keys import age
from keys.codename import KdfGate

from .courier_store import CourierStore
from .db import make_engine
from .errors import register_error_pages
from .headers import add_security_headers
from .i18n import init_i18n
from .instance import Instance
from .limits import init_limiter
from .listeners import route_by_listener
from .sessions import DatabaseSessionInterface
from .store import Store

SWEEP_INTERVAL = 600


class IntakeRequest(Request):
    """Small forms stay in memory; a file part anywhere but the submission form is refused,
    so Werkzeug never spools an upload to a temporary file (I1)."""

    max_form_memory_size = 64 * 1024
    max_form_parts = 16

    @property
    def max_content_length(self) -> int | None:
        """Werkzeug reads a urlencoded body whole, so every form but the submission form (which
        streams and counts its own bytes) is refused (413) past this size, before it is read.
        The courier API streams and counts its bodies too, each against its own limit."""
        if self._max_content_length is not None:
            return self._max_content_length
        streamed = self.endpoint == "source.submit" or self.blueprint == "courier"
        return None if streamed else self.max_form_memory_size

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise BadRequest(_l("Files can only be sent with the submission form."))


class IntakeFlask(Flask):
    request_class = IntakeRequest

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        """Log the kind of failure only: a message or traceback could carry request content."""
        kind = exc_info[0].__name__ if exc_info[0] else "unknown error"
        self.logger.error("unhandled %s", kind)


@dataclass
class IntakeState:
    instance: Instance
    store: Store
    couriers: CourierStore
    recipients: list[age.X25519Recipient]
    kdf: KdfGate
    last_sweep: float = field(default=0.0)

    def sweep_if_due(self) -> None:
        if time.monotonic() - self.last_sweep > SWEEP_INTERVAL:
            self.last_sweep = time.monotonic()
            self.store.sweep(self.instance.config.unsubmitted_source_days)
            self.couriers.sweep(self.instance.config.ack_grace_days)


def state() -> IntakeState:
    return current_app.extensions["cairn"]  # type: ignore[no-any-return]


def create_app(instance: Instance, threads: int | None = None) -> Flask:
    """Build the app for an instance (see ``intake.instance.load_instance``); ``threads``, how
    many threads serve it in each process, bounds the uploads in progress at once."""
    from .courier import courier_api
    from .source import source_pages, submit

    config = instance.config
    app = IntakeFlask(__name__)
    app.config.update(
        SECRET_KEY=instance.secret_key,
        MAX_CONTENT_LENGTH=None,
        # A token lives as long as its session, which the server ends (sessions.py).
        WTF_CSRF_TIME_LIMIT=None,
        TEMPLATES_AUTO_RELOAD=False,
        SESSION_COOKIE_SECURE=config.cookie_secure,  # the session's and the language's cookies
    )
    app.logger.setLevel(logging.WARNING)
    sessions = sessionmaker(make_engine(instance.database_url), expire_on_commit=False)
    store = Store(sessions)
    app.extensions["cairn"] = IntakeState(
        instance=instance,
        store=store,
        couriers=CourierStore(sessions),
        recipients=instance.recipients,
        kdf=KdfGate(config.kdf_concurrency, params=instance.kdf_params),
    )
    app.session_interface = DatabaseSessionInterface(store, int(config.session_hours * 3600))
    init_limiter(app, config, source_pages, courier_api, threads)  # first: before CSRF checks
    csrf = CSRFProtect(app)
    csrf.exempt(submit)  # it checks its token itself, as the body streams in
    csrf.exempt(courier_api)  # every courier request is signed instead
    init_i18n(app)
    app.register_blueprint(source_pages)
    app.register_blueprint(courier_api)
    register_error_pages(app)
    if config.courier_port:
        app.before_request(lambda: route_by_listener(config.courier_port))
    app.after_request(add_security_headers)
    app.before_request(lambda: state().sweep_if_due())
    return app
