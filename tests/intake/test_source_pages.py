"""The source pages leave no dead end and say what they mean (issue 19): a refused submission
gives the form back with the message as typed and the reason beside the field, every page of a
logged-in source offers Log out, replies show their day and are deleted only after a second
page says what deleting means, the organisation's name and where it publishes this address are
on every page, sizes read as words, and the codename is shown again during the first session
without ever being stored (I3)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from babel.dates import format_date
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from intake import create_app, state
from intake.i18n import size_in_words
from intake.instance import Instance, load_instance
from intake.stamps import today
from keys.codename import derive_source_keys
from tests.support.browser import deliver_reply
from tests.support.forms import (
    CONTENT_TYPE,
    FORM_RETURNED,
    csrf_of,
    form,
    log_in,
    part,
    start_source,
)
from tests.support.intake import CODENAME, table_counts

MIB = 1 << 20
NO_LIMITS = {
    "global_post_limit": "100000/minute",
    "global_page_limit": "100000/minute",
    "session_limit": "100000/minute",
}
TYPED = "The harbour contract <was> signed early & I saw the papers."


def _post(client: FlaskClient, body: bytes, **kwargs: object) -> TestResponse:
    return client.post("/submit", data=body, content_type=CONTENT_TYPE, **kwargs)  # type: ignore[arg-type]


def _textarea(response: TestResponse) -> str:
    match = re.search(
        r'<textarea id="message"[^>]*>(.*?)</textarea>', response.get_data(True), re.S
    )
    assert match, response.get_data(as_text=True)
    return html.unescape(match.group(1))


def _error_beside(response: TestResponse, field: str) -> str:
    match = re.search(
        rf'<p class="field-error" id="{field}-error">(.*?)</p>', response.get_data(True), re.S
    )
    assert match, response.get_data(as_text=True)
    return html.unescape(match.group(1))


@pytest.fixture
def source_client(make_instance: Callable[..., Instance]) -> tuple[FlaskClient, str, Instance]:
    instance = make_instance(max_upload_mib=1, min_first_message_chars=100, **NO_LIMITS)
    client = create_app(instance).test_client()
    return client, log_in(client), instance


# 11. Dead ends


def test_i8_a_first_message_too_short_comes_back_in_the_form_with_the_reason(
    source_client: tuple[FlaskClient, str, Instance],
) -> None:
    client, token, instance = source_client
    before = table_counts(instance)
    response = _post(client, form(token, part(b"message", TYPED.encode())))
    assert response.status_code == 400
    assert _textarea(response) == TYPED
    assert "at least 100 characters" in _error_beside(response, "message")
    assert FORM_RETURNED in response.get_data(as_text=True)
    assert table_counts(instance) == before  # I8: nothing of it is stored


def test_i8_an_empty_form_comes_back_with_the_reason_beside_the_message(
    source_client: tuple[FlaskClient, str, Instance],
) -> None:
    client, token, _ = source_client
    response = _post(client, form(token, part(b"message", b""), part(b"files", b"", b"")))
    assert response.status_code == 400
    assert _textarea(response) == ""
    assert "Nothing was sent" in _error_beside(response, "message")


def test_i8_too_large_comes_back_with_the_message_and_asks_for_the_files_again(
    source_client: tuple[FlaskClient, str, Instance],
) -> None:
    """A browser's body says its length: it is read only as far as the message, which comes
    back as typed; the files are never echoed, and nothing is stored. (A body found too large
    as it streams: tests/intake/test_bad_input.py, chunked.)"""
    client, token, instance = source_client
    before = table_counts(instance)
    body = form(
        token,
        part(b"message", (TYPED * 3).encode()),
        part(b"files", b"x" * (2 * MIB), b"big.bin"),
    )
    response = _post(client, body)
    assert response.status_code == 413
    assert _textarea(response) == TYPED * 3
    beside_files = _error_beside(response, "files")
    assert "limit of 1 MB" in beside_files and "choose them again" in beside_files
    assert "big.bin" not in response.get_data(as_text=True)
    assert table_counts(instance) == before


def test_every_page_of_a_logged_in_source_offers_log_out_and_the_start_page_says_so(
    source_client: tuple[FlaskClient, str, Instance],
) -> None:
    client, token, _ = source_client
    logout = 'action="/logout"'
    pages = {
        "start": client.get("/"),
        "form": client.get("/submit"),
        "login form": client.get("/login"),
        "missing page": client.get("/no-such-page"),
        "form back": _post(client, form(token, part(b"message", b"short"))),
        "sent": _post(client, form(token, part(b"message", b"x" * 120))),
    }
    assert all(logout in page.get_data(as_text=True) for page in pages.values()), [
        name for name, page in pages.items() if logout not in page.get_data(as_text=True)
    ]
    assert "You are still logged in" in pages["start"].get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_of(pages["sent"])})
    after = client.get("/").get_data(as_text=True)
    assert logout not in after and "You are still logged in" not in after


# 12. Replies


def test_each_reply_shows_its_day_and_deleting_asks_first(
    make_instance: Callable[..., Instance],
) -> None:
    instance = make_instance(**NO_LIMITS)
    client = create_app(instance).test_client()
    codename, token = start_source(client)
    assert _post(client, form(token, part(b"message", b"A tip."))).status_code == 200
    deliver_reply(instance, codename, "Thank you, who else was there?")
    login = client.get("/login")
    back = client.post("/login", data={"csrf_token": csrf_of(login), "codename": codename})
    text = back.get_data(as_text=True)
    day = today()  # the day the reply reached the server
    written = f"Sent on {format_date(day, 'long', locale='en')}"
    assert f'<time datetime="{day.isoformat()}">{written}</time>' in text
    [delete_path] = re.findall(r'href="(/replies/[^"]+/delete)"', text)
    assert f'action="{delete_path}"' not in text  # no one-click deletion

    confirm = client.get(delete_path)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "Delete this reply?" in page and "for good" in page
    assert table_counts(instance, ("replies",)) == {"replies": 1}  # asking deletes nothing
    assert client.get("/replies/not-a-reply/delete").status_code == 404

    deleted = client.post(delete_path, data={"csrf_token": csrf_of(confirm)})
    assert deleted.status_code == 200 and "Reply deleted" in deleted.get_data(as_text=True)
    assert table_counts(instance, ("replies",)) == {"replies": 0}
    assert client.get(delete_path).status_code == 404


def test_a_codename_that_never_sent_anything_is_not_told_that_replies_may_come(
    make_instance: Callable[..., Instance],
) -> None:
    client = create_app(make_instance(**NO_LIMITS)).test_client()
    codename, _ = start_source(client)
    login = client.get("/login")
    never = client.post("/login", data={"csrf_token": csrf_of(login), "codename": codename})
    text = never.get_data(as_text=True)
    assert "You have not sent anything with this codename yet" in text
    assert "no replies for you yet" not in text and "check back in a few days" not in text
    assert _post(client, form(csrf_of(never), part(b"message", b"A tip."))).status_code == 200
    login = client.get("/login")
    sent = client.post("/login", data={"csrf_token": csrf_of(login), "codename": codename})
    assert "no replies for you yet" in sent.get_data(as_text=True)


# 13. Trust


def test_every_page_names_the_organisation_and_where_it_publishes_this_address(
    make_instance: Callable[..., Instance],
) -> None:
    instance = make_instance(
        organisation_name="Harbour <Gazette>",
        address_published_at="the Contact page of harbourgazette.example",
        **NO_LIMITS,
    )
    client = create_app(instance).test_client()
    pages = {"start": client.get("/"), "login": client.get("/login")}
    pages["missing"] = client.get("/no-such-page")
    pages["codename"] = client.post("/start", data={"csrf_token": csrf_of(pages["start"])})
    for name, response in pages.items():
        text = response.get_data(as_text=True)
        assert "Harbour &lt;Gazette&gt;" in text and "<Gazette>" not in text, name
        assert "Harbour &lt;Gazette&gt; · Tip line</title>" in text, name
        assert (
            "compare it with the one published at "
            '<span dir="auto">the Contact page of harbourgazette.example</span>'
        ) in text, name


def test_the_settings_come_from_the_environment_too(
    make_instance: Callable[..., Instance],
) -> None:
    instance = make_instance()
    env = {"CAIRN_ORGANISATION_NAME": "Le Courrier", "CAIRN_ADDRESS_PUBLISHED_AT": "page 2"}
    loaded = load_instance(instance.path, env=env)
    assert loaded.config.organisation_name == "Le Courrier"
    assert loaded.config.address_published_at == "page 2"
    page = create_app(loaded).test_client().get("/").get_data(as_text=True)
    assert "Le Courrier" in page and "published at <span" in page


def test_without_the_settings_a_page_still_says_how_to_check_the_address(
    client: FlaskClient,
) -> None:
    text = client.get("/").get_data(as_text=True)
    assert "Tip line</a>" in text
    assert "compare it with the one the organisation that runs it publishes" in text


@pytest.mark.parametrize(
    ("size", "locale", "words"),
    [
        (500 * MIB, "en", "500 MB"),
        (1 << 30, "en", "1 GB"),
        (1536 * MIB, "de", "1,5 GB"),
        (500 * MIB, "fr", "500 Mo"),
        ((1 << 30) - 1, "en", "1,023.9 MB"),  # rounded down: a limit never reads as larger
        (2047, "en", "1.9 kB"),
    ],
)
def test_sizes_read_as_words(size: int, locale: str, words: str) -> None:
    assert " ".join(size_in_words(size, locale).split()) == words  # Babel's no-break spaces


def test_limits_on_the_pages_read_as_words(client: FlaskClient) -> None:
    assert "You can send up to 500 MB at a time" in client.get("/").get_data(as_text=True)
    assert "MiB" not in client.get("/").get_data(as_text=True)


# 10. The codename, shown again while the first session lasts


def _codenames_on(response: TestResponse) -> list[str]:
    return CODENAME.findall(response.get_data(as_text=True))


def test_the_codename_is_shown_again_during_the_first_session_only(
    source_client: tuple[FlaskClient, str, Instance],
) -> None:
    client = source_client[0]
    client.post("/logout", data={"csrf_token": source_client[1]})
    landing = client.get("/")
    shown = client.post("/start", data={"csrf_token": csrf_of(landing)})
    [codename] = _codenames_on(shown)
    carried = {"csrf_token": csrf_of(shown), "codename": codename}
    first_form = client.post("/written", data=carried)
    assert first_form.status_code == 200
    assert _codenames_on(first_form) == [codename]  # behind "Show my codename"
    assert f'name="codename" value="{codename}"' in first_form.get_data(as_text=True)

    token = csrf_of(first_form)
    too_short = _post(
        client, form(token, part(b"codename", codename.encode()), part(b"message", b"short"))
    )
    assert too_short.status_code == 400 and _codenames_on(too_short) == [codename]
    sent = _post(
        client, form(token, part(b"codename", codename.encode()), part(b"message", b"x" * 120))
    )
    text = sent.get_data(as_text=True)
    assert "Is your codename written down?" in text and _codenames_on(sent) == [codename]
    more = client.post("/written", data={"csrf_token": csrf_of(sent), "codename": codename})
    assert _codenames_on(more) == [codename]

    # Pages reached without it (a link, a later session) never show it.
    assert _codenames_on(client.get("/submit")) == []
    later = _post(client, form(token, part(b"message", b"more")))
    assert later.status_code == 200 and _codenames_on(later) == []
    login = client.get("/login")
    back = client.post("/login", data={"csrf_token": csrf_of(login), "codename": codename})
    assert codename not in back.get_data(as_text=True)


@pytest.mark.parametrize(
    "carried",
    ["<b>bold</b> words here are not a codename at all", "one two three", "x" * 400, ""],
)
def test_only_something_shaped_like_a_codename_is_shown_as_one(
    source_client: tuple[FlaskClient, str, Instance], carried: str
) -> None:
    client, token, _ = source_client
    page = client.post("/written", data={"csrf_token": token, "codename": carried})
    assert page.status_code == 303  # on to the plain form
    sent = _post(
        client,
        form(token, part(b"codename", carried.encode()[:1000]), part(b"message", b"x" * 120)),
    )
    assert sent.status_code == 200 and _codenames_on(sent) == []
    assert "<b>bold" not in sent.get_data(as_text=True)


def test_a_codename_holding_a_word_denied_since_still_logs_in(
    make_instance: Callable[..., Instance],
) -> None:
    """Item 10: the deny list changes what is generated, never who can log in."""
    instance = make_instance(**NO_LIMITS)
    app = create_app(instance)
    old = "abacus evil prison zoology zoom yo-yo t-shirt"
    keys = derive_source_keys(old, instance.pepper, instance.kdf_params)
    with app.app_context():
        state().store.create_source(keys.lookup_id, str(keys.reply_identity.recipient))
    client = app.test_client()
    login = client.get("/login")
    back = client.post("/login", data={"csrf_token": csrf_of(login), "codename": old.upper()})
    assert back.status_code == 200 and "Welcome back" in back.get_data(as_text=True)
