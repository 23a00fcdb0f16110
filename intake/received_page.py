"""The page a source gets after every submission, rendered once per language.

It is the page the server serves most after a tip comes in, and it depends on nothing but the
language, the URL prefix and the CSRF token (it holds the log-out form, as every page of a
logged-in source does): rendering it with a
placeholder for the token, once, and filling in each request's own token costs a tenth of
rendering it afresh. Whatever else the template is ever given must go into the cache key.
"""

from __future__ import annotations

import secrets

from flask import current_app, render_template, request
from flask_wtf.csrf import generate_csrf

from .i18n import current_language

TEMPLATE = "submitted.html"
MAX_PAGES = 64  # languages times URL prefixes: a few; the bound only guards against surprises
_TOKEN_PLACEHOLDER = f"csrf-token-{secrets.token_hex(16)}"


def received_page(first_codename: str = "") -> str:
    """The page; during a source's first session it also shows the codename again, so it is
    rendered afresh then (and never cached: I3)."""
    if first_codename:
        return render_template(TEMPLATE, first_codename=first_codename)
    pages: dict[tuple[str, str], str] = current_app.extensions.setdefault("cairn.received", {})
    key = (current_language(), request.script_root)
    page = pages.get(key)
    if page is None:
        page = render_template(TEMPLATE, csrf_token=lambda: _TOKEN_PLACEHOLDER)
        if len(pages) < MAX_PAGES:
            pages[key] = page
    return page.replace(_TOKEN_PLACEHOLDER, generate_csrf())
