"""Languages of the source pages (issue 7; I4: still no JavaScript, the switcher is plain links).

The catalogue check: the messages extracted from intake/ now are exactly those of every
catalogue, each translated (no empty or fuzzy entry, placeholders and markup kept), and every
committed .mo says what its .po says. The page check: every page, error pages included, renders
in every language with the right ``lang`` and ``dir``, and no sentence is left in English.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections import Counter
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import render_template
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from intake import create_app, received_page
from intake.i18n import DIRECTIONS, LANGUAGES
from intake.instance import Instance
from tests.support import ROOT
from tests.support.browser import BROWSER_LOCALES, deliver_reply
from tests.support.intake import CODENAME, CSRF, VENV_BIN

TRANSLATIONS = ROOT / "intake" / "translations"
LOCALES = {locale for tag, (locale, _) in LANGUAGES.items() if tag != "en"}
# Names that stay as they are in every language.
PROPER_NOUNS = {"Tor Browser", "Tor", "JavaScript", "Safest", "MiB", "IP"}
# Text the pages show as the operator or a reviewer wrote it, in whatever language that was.
ORGANISATION, ADDRESS_PUBLISHED_AT, REPLY = "Harbour Gazette", "harbourgazette.example", "Yes."
NOT_OURS = {ORGANISATION, ADDRESS_PUBLISHED_AT, REPLY}
TAG = re.compile(r"</?[a-z]+[^>]*>")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]")
BOUNDARY = "cairnboundary"
MIB = 1 << 20


# The catalogues


def _extract(tmp_path: Path) -> Catalog:
    """What `make catalog` extracts, with the same command."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(VENV_BIN / "pybabel"),
            *("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext"),
            *("--add-location=file", "-w", "100", "-o", str(pot), "."),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        return read_po(f)


def _read_po(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return _extract(tmp_path_factory.mktemp("catalog"))


def test_there_is_a_catalogue_for_every_language_and_no_other() -> None:
    found = {p.name for p in TRANSLATIONS.iterdir() if p.is_dir()}
    assert found == LOCALES
    makefile = re.search(r"^LOCALES := (.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert makefile and set(makefile.group(1).split()) == LOCALES  # what `make catalog` updates


def test_the_sources_have_messages_to_translate(template: Catalog) -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert len(ids) >= 80
    # The error descriptions raised deep in intake/ are among them, not only the templates.
    assert "Nothing was sent. Please write a message or choose a file." in ids
    assert "Files can only be sent with the submission form." in ids
    assert "Your codename" in ids


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_every_message_is_translated_in_every_catalogue(template: Catalog, locale: str) -> None:
    """The CI catalogue check: run `make catalog` and translate whatever this names."""
    catalog = _read_po(locale)
    wanted = {m.id for m in template if m.id}
    have = {m.id for m in catalog if m.id}
    assert sorted(map(str, wanted - have)) == [], f"missing from {locale}: run `make catalog`"
    assert sorted(map(str, have - wanted)) == [], f"stale in {locale}: run `make catalog`"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if len(strings) != (catalog.num_plurals if message.pluralizable else 1):
            problems.append(f"wrong number of plural forms: {message.id!r}")
        if not all(s and s.strip() for s in strings):
            problems.append(f"untranslated: {message.id!r}")
        source = message.id if isinstance(message.id, str) else message.id[0]
        for string in strings:
            if Counter(TAG.findall(string)) != Counter(TAG.findall(source)):
                problems.append(f"markup differs: {string!r}")
            if not message.pluralizable and set(PLACEHOLDER.findall(string)) != set(
                PLACEHOLDER.findall(source)
            ):
                problems.append(f"placeholders differ: {string!r}")
    problems += [f"{m.id!r}: {e}" for m, errors in catalog.check() for e in errors]
    assert problems == []


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_every_compiled_catalogue_is_up_to_date(locale: str) -> None:
    """The .mo files are committed, so a fresh clone runs without a build step."""
    catalog = _read_po(locale)
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = read_mo(f)

    def entries(messages: Catalog) -> dict[object, object]:
        def plain(value: object) -> object:
            return tuple(value) if isinstance(value, list | tuple) else value

        return {plain(m.id): plain(m.string) for m in messages if m.id and not m.fuzzy}

    assert entries(compiled) == entries(catalog), "run `make catalog`"


# Every page in every language


def _csrf(response: TestResponse) -> str:
    match = CSRF.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def _multipart(client: FlaskClient, parts: list[tuple[str, str | None, bytes]]) -> TestResponse:
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += content + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    return client.post(
        "/submit", data=body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


def _client(instance: Instance, accept_language: str, **settings: Any) -> FlaskClient:
    changed = dataclasses.replace(instance.config, **settings)
    client = create_app(dataclasses.replace(instance, config=changed)).test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return client


def every_page(instance: Instance, accept_language: str) -> dict[str, TestResponse]:
    """Name -> response for every page a source can meet, errors included."""
    client = _client(
        instance,
        accept_language,
        organisation_name=ORGANISATION,
        address_published_at=ADDRESS_PUBLISHED_AT,
    )
    pages: dict[str, tuple[TestResponse, int]] = {}

    def see(name: str, response: TestResponse, status: int) -> TestResponse:
        pages[name] = (response, status)
        return response

    landing = see("landing", client.get("/"), 200)
    shown = see("codename", client.post("/start", data={"csrf_token": _csrf(landing)}), 200)
    match = CODENAME.search(shown.get_data(as_text=True))
    assert match
    codename = match.group(1)
    carried = {"csrf_token": _csrf(shown), "codename": codename}
    see("submit-form-first-session", client.post("/written", data=carried), 200)
    see("landing-logged-in", client.get("/"), 200)
    form = see("submit-form", client.get("/submit"), 200)
    token = _csrf(form).encode()
    big = [("csrf_token", None, token), ("files", "big.bin", bytes(2 * MIB))]
    see("submit-too-large", _multipart(client, big), 413)
    see("error-400-nothing-sent", _multipart(client, [("csrf_token", None, token)]), 400)
    see(
        "error-400-not-text",
        _multipart(client, [("csrf_token", None, token), ("message", None, b"\xff")]),
        400,
    )
    first = [("csrf_token", None, token), ("codename", None, codename.encode())]
    see("submitted-first-session", _multipart(client, [*first, ("message", None, b"A tip.")]), 200)
    sent = _multipart(client, [("csrf_token", None, token), ("message", None, b"More.")])
    see("submitted", sent, 200)
    see("logged-out", client.post("/logout", data={"csrf_token": _csrf(sent)}), 200)
    see("error-403", client.get("/submit"), 403)
    login = see("login", client.get("/login"), 200)
    wrong = {"csrf_token": _csrf(login), "codename": "not the words"}
    see("login-failed", client.post("/login", data=wrong), 403)
    right = {"csrf_token": _csrf(login), "codename": codename}
    deliver_reply(instance, codename, REPLY)
    back = see("check-back", client.post("/login", data=right), 200)
    [delete_path] = re.findall(r'href="(/replies/[^"]+/delete)"', back.get_data(as_text=True))
    see("reply-delete", client.get(delete_path), 200)
    see("error-404", client.get("/no-such-page"), 404)
    see("error-405", client.get("/start"), 405)
    see("error-400-csrf", client.post("/start"), 400)

    busy = _client(instance, accept_language, global_page_limit="1/minute")
    busy.get("/")
    see("error-429", busy.get("/"), 429)
    closed = _client(instance, accept_language, max_stored_gib=0.0)
    see("error-503", closed.post("/start", data={"csrf_token": _csrf(closed.get("/"))}), 503)

    for name, (response, status) in pages.items():
        assert response.status_code == status, (name, response.get_data(as_text=True))
    return {name: response for name, (response, _) in pages.items()}


VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class _PageText(HTMLParser):
    """The words a person sees or hears on a page, leaving out whatever is marked as being in
    another language (the codename, the names in the language switcher)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.dir: str | None = None
        self.texts: list[str] = []
        self._foreign: list[bool] = []

    def _in_foreign(self) -> bool:
        return bool(self._foreign) and self._foreign[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.lang, self.dir = attributes.get("lang"), attributes.get("dir")
        lang = attributes.get("lang")
        foreign = self._in_foreign() or (lang is not None and lang != self.lang)
        if not foreign:
            for name in ("aria-label", "title", "placeholder", "alt"):
                if attributes.get(name):
                    self.texts.append(" ".join(str(attributes[name]).split()))
        if tag not in VOID_ELEMENTS:
            self._foreign.append(foreign)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_ELEMENTS and self._foreign:
            self._foreign.pop()

    def handle_data(self, data: str) -> None:
        if self._in_foreign():
            return
        for part in data.split(" · "):  # <title>: page · site
            text = " ".join(part.split())
            if text:
                self.texts.append(text)


def page_text(html: str) -> _PageText:
    parser = _PageText()
    parser.feed(html)
    parser.close()
    return parser


def _meaningful(text: str) -> bool:
    """Text that would need translating: not a proper noun, a number or punctuation alone."""
    if text in PROPER_NOUNS or text in NOT_OURS:
        return False
    return bool(re.search(r"[^\W\d_]{2,}", text))


def english_sentences(template: Catalog) -> set[str]:
    """Every run of three or more English words in the messages, markup and placeholders out."""
    runs = set()
    for message in template:
        if not message.id:
            continue
        for source in message.id if isinstance(message.id, tuple) else (message.id,):
            for run in PLACEHOLDER.split(TAG.sub("|", source)):
                for piece in run.split("|"):
                    piece = " ".join(piece.split()).strip(" .,:;?")
                    if len(piece.split()) >= 3:
                        runs.add(piece)
    return runs


@pytest.fixture
def instance(make_instance: Callable[..., Instance]) -> Instance:
    return make_instance(max_upload_mib=1)


@pytest.fixture
def english_pages(instance: Instance) -> dict[str, TestResponse]:
    return every_page(instance, "en-US,en;q=0.5")


def test_every_page_in_english(english_pages: dict[str, TestResponse]) -> None:
    for name, response in english_pages.items():
        text = page_text(response.get_data(as_text=True))
        assert (text.lang, text.dir) == ("en", "ltr"), name
    assert "Nothing was sent" in english_pages["error-400-nothing-sent"].get_data(as_text=True)
    assert "1 MB" in english_pages["submit-too-large"].get_data(as_text=True)


@pytest.mark.parametrize("language", [tag for tag in LANGUAGES if tag != "en"])
def test_every_page_renders_in_every_language_with_nothing_left_in_english(
    instance: Instance,
    english_pages: dict[str, TestResponse],
    template: Catalog,
    language: str,
) -> None:
    """Every page, error pages included, in this language: ``lang`` and ``dir`` right, and no
    sentence of the catalogue nor any text of the English page left untranslated."""
    pages = every_page(instance, BROWSER_LOCALES[language])
    assert pages.keys() == english_pages.keys()
    sentences = english_sentences(template)
    problems: dict[str, list[str]] = {}
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        text = page_text(html)
        english = page_text(english_pages[name].get_data(as_text=True))
        found = []
        if (text.lang, text.dir) != (language, DIRECTIONS[language]):
            found.append(f"<html lang={text.lang!r} dir={text.dir!r}>")
        found += [f"as in English: {t!r}" for t in set(text.texts) & set(english.texts)]
        found = [f for f in found if _meaningful(f.split(": ", 1)[-1].strip("'\""))]
        joined = " ".join(text.texts)
        found += [f"English sentence: {s!r}" for s in sentences if s in joined]
        assert len(text.texts) > 5, name
        if found:
            problems[name] = sorted(found)
    assert problems == {}


def test_the_language_comes_from_the_link_then_the_session_then_the_browser(
    make_instance: Callable[..., Instance],
) -> None:
    instance = make_instance()

    def lang_of(response: TestResponse) -> str | None:
        return page_text(response.get_data(as_text=True)).lang

    client = _client(instance, "zh-TW,zh;q=0.9,en;q=0.5")
    assert lang_of(client.get("/")) == "zh-Hans"  # any Chinese gets Simplified
    assert lang_of(client.get("/?lang=fr")) == "fr"  # a switcher link
    assert lang_of(client.get("/login")) == "fr"  # remembered for the session
    assert lang_of(client.get("/login?lang=xx")) == "fr"  # an unknown code changes nothing
    assert lang_of(client.get("/no-such-page")) == "fr"  # error pages too

    for header, expected in [
        ("", "en"),
        ("pt-BR, de;q=0.5", "de"),
        ("ar-EG", "ar"),
        ("ru;q=0, es;q=0.1", "es"),
        ("*", "en"),
        ("en-GB", "en"),
    ]:
        assert lang_of(_client(instance, header).get("/")) == expected, header


def test_the_switcher_stays_on_the_page_only_where_that_is_safe(
    make_instance: Callable[..., Instance],
) -> None:
    """A GET page reloads itself in the new language; a POST's answer or an error goes to the
    start page (it cannot be fetched again); the codename page has no switcher at all."""
    client = _client(make_instance(), "en")
    landing = client.get("/").get_data(as_text=True)
    assert 'href="/?lang=de"' in landing
    assert 'href="/login?lang=ar"' in client.get("/login").get_data(as_text=True)
    assert 'href="/?lang=ar"' in client.get("/no-such-page").get_data(as_text=True)
    shown = client.post("/start", data={"csrf_token": CSRF.findall(landing)[0]})
    assert 'class="languages"' not in shown.get_data(as_text=True)
    assert 'lang="en" dir="ltr"' in shown.get_data(as_text=True)  # the codename's own words


def test_the_received_page_is_rendered_once_per_language_with_each_requests_own_token(
    make_instance: Callable[..., Instance],
) -> None:
    """The page after a submission is rendered once per language and cached with a placeholder
    for the CSRF token (intake/received_page.py): what each source gets must be exactly the page
    rendered afresh for it, its own token included, in its own language."""
    app = create_app(make_instance())
    tokens = set()
    for language in [*LANGUAGES, "en"]:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = BROWSER_LOCALES[language]
        sent = _a_first_message(client)
        page, token = sent.get_data(as_text=True), _csrf(sent)
        headers = {"Accept-Language": BROWSER_LOCALES[language]}
        with app.test_request_context("/submit", method="POST", headers=headers):
            fresh = render_template(
                "submitted.html",
                csrf_token=lambda: token,  # noqa: B023
                logged_in=True,  # as every source who gets this page is
            )
        assert page == fresh, language
        assert page_text(page).lang == language
        tokens.add(token)
    assert len(tokens) == len(LANGUAGES) + 1  # every source its own


def test_the_received_pages_kept_are_bounded(
    make_instance: Callable[..., Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One page per language and URL prefix is kept, up to a bound; past it pages are still
    right, rendered each time."""
    monkeypatch.setattr(received_page, "MAX_PAGES", 2)
    app = create_app(make_instance())
    served = app.wsgi_app
    for prefix in ("/a", "/b", "/c"):
        # As a server mounting the app under the prefix would call it.
        app.wsgi_app = lambda environ, respond, prefix=prefix: served(  # type: ignore[method-assign]
            {**environ, "SCRIPT_NAME": prefix}, respond
        )
        page = _a_first_message(app.test_client()).get_data(as_text=True)
        assert f'href="{prefix}/static/style.css"' in page
    assert len(app.extensions["cairn.received"]) == 2


def _a_first_message(client: FlaskClient) -> TestResponse:
    """A new source's way to its first message: start, 'I have written it down', send."""
    shown = client.post("/start", data={"csrf_token": _csrf(client.get("/"))})
    client.post("/written", data={"csrf_token": _csrf(shown)})
    form = client.get("/submit")
    parts = [("csrf_token", None, _csrf(form).encode()), ("message", None, b"A tip.")]
    return _multipart(client, parts)
