"""Languages of the source pages (Flask-Babel).

A source's language comes from, in order: a ``?lang=`` link of the switcher on every page (no
JavaScript), the choice such a link stored in a cookie of its own, and the browser's
Accept-Language. The choice stays in the source's browser, never in the server's storage (I5):
the cookie is HttpOnly, SameSite=Strict, and ends with the browser or at log-out. Tor Browser
usually asks for English whatever its own language is, which is why the plain link switcher
matters.

Catalogues live in intake/translations/<locale>/LC_MESSAGES/messages.po, with the compiled .mo
beside each (``make catalog`` extracts, updates and compiles; tests/source/test_i18n.py fails
when a message is missing, untranslated, fuzzy, or a .mo is stale).
"""

from __future__ import annotations

import functools

from babel import Locale
from babel.units import format_unit
from flask import Flask, Response, after_this_request, current_app, g, request, url_for
from flask_babel import Babel, format_number, get_locale

# Public tag (BCP 47: the ?lang= value and the <html lang>) -> (Babel locale id, native name).
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("en", "English"),
    "es": ("es", "Español"),
    "fr": ("fr", "Français"),
    "de": ("de", "Deutsch"),
    "ru": ("ru", "Русский"),
    "ar": ("ar", "العربية"),
    "zh-Hans": ("zh_Hans", "简体中文"),
}
DEFAULT_LANGUAGE = "en"
COOKIE_NAME = "cairn_lang"
# The pages a source can open with a plain GET: the switcher reloads them in the new language.
# Every other page (a POST's answer, an error) switches by going to the start page.
GET_PAGES = frozenset({"source.index", "source.login_form", "source.submit_form"})
_BY_PRIMARY = {tag.split("-")[0]: tag for tag in LANGUAGES}
DIRECTIONS = {tag: Locale.parse(locale).text_direction for tag, (locale, _) in LANGUAGES.items()}


def _known(tag: object) -> str | None:
    return tag if isinstance(tag, str) and tag in LANGUAGES else None


def _from_accept_language() -> str | None:
    """The first language the browser asks for that we have; any Chinese gets Simplified."""
    for value, quality in request.accept_languages:
        if quality <= 0:
            continue
        primary = value.replace("_", "-").split("-")[0].lower()
        if primary in _BY_PRIMARY:
            return _BY_PRIMARY[primary]
    return None


def current_language() -> str:
    """The public tag of the language this request is answered in (asked a dozen times a page)."""
    tag = _known(g.get("cairn_lang"))
    if tag is None:
        tag = g.cairn_lang = (
            _known(request.args.get("lang"))
            or _known(request.cookies.get(COOKIE_NAME))
            or _from_accept_language()
            or DEFAULT_LANGUAGE
        )
    return tag


def select_locale() -> str:
    return LANGUAGES[current_language()][0]


def remember_choice() -> None:
    """A switcher link (``?lang=xx``) sets the language until the browser closes or log-out."""
    tag = _known(request.args.get("lang"))
    if tag and request.cookies.get(COOKIE_NAME) != tag:
        secure = current_app.config["SESSION_COOKIE_SECURE"]

        @after_this_request
        def set_cookie(response: Response) -> Response:
            response.set_cookie(
                COOKIE_NAME, tag, path="/", httponly=True, samesite="Strict", secure=secure
            )
            return response


def forget_language_after_this_page() -> None:
    """At log-out: answer this request in the language it had, and forget the choice."""
    g.cairn_lang = current_language()

    @after_this_request
    def delete_cookie(response: Response) -> Response:
        response.delete_cookie(COOKIE_NAME, path="/")
        return response


def number(value: int | float) -> str:
    """A number written the way the source's language writes it (100,000 / 100 000 / 100.000)."""
    return str(format_number(value))


# Sizes as a source reads them: in steps of 1,024, named as most people name them ("500 MB"
# for what an operator sets as 500 MiB), so a limit never reads as something larger than it is.
_SIZE_UNITS = (
    (1 << 30, "digital-gigabyte"),
    (1 << 20, "digital-megabyte"),
    (1 << 10, "digital-kilobyte"),
)


def size_in_words(size: int, locale: Locale | str | None = None) -> str:
    """A size in bytes as a short phrase in the source's language: '500 MB', '1,5 Go'."""
    value: float = size
    unit = "digital-byte"
    for unit_size, name in _SIZE_UNITS:
        if size >= unit_size:
            value, unit = int(size * 10 / unit_size) / 10, name  # rounded down, never up
            break
    return str(format_unit(value, unit, "short", "#,##0.#", locale or get_locale() or "en"))


def _language_links(endpoint: str | None) -> list[dict[str, object]]:
    target = endpoint if request.method == "GET" and endpoint in GET_PAGES else "source.index"
    current = current_language()
    urls = _switcher_urls(request.script_root, target)
    return [
        {
            "tag": tag,
            "name": name,
            "url": url,
            "current": tag == current,
            "dir": DIRECTIONS[tag],
        }
        for (tag, (_locale, name)), url in zip(LANGUAGES.items(), urls, strict=True)
    ]


@functools.lru_cache(maxsize=64)
def _switcher_urls(script_root: str, target: str) -> tuple[str, ...]:
    """Every page carries these links; building them each time cost a tenth of a page."""
    return tuple(url_for(target, lang=tag) for tag in LANGUAGES)


def _template_context() -> dict[str, object]:
    tag = current_language()
    return {
        "html_lang": tag,
        "html_dir": DIRECTIONS[tag],
        "language_links": _language_links,
    }


def init_i18n(app: Flask) -> Babel:
    babel = Babel(app, locale_selector=select_locale)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    app.before_request(remember_choice)
    app.context_processor(_template_context)
    return babel
