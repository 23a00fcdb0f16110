"""I11: nothing a source sends (or a reviewer pastes, or a server answers) can act on the screen.

Every command that prints is run on a workspace whose every free text is a hostile corpus, and
what it prints, table or JSON, output or error, is fed to a terminal emulator (pyte). The screen
must show plain lines where the text flowed, with the cursor where the lines end and the window
title untouched; and no byte that could act on a terminal may be in the output at all.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pyte
import pytest

from keys import age
from keys.signing import SigningKey
from tests.support.loopback import Loopback, courier
from tests.support.review import Review, Reviewer, TipSpec, make_bundle

HOSTILE = (
    "A\x1bc\x1b[2J\x1b[H"  # full reset, clear the screen, cursor home
    "\x1b]0;owned-title\x07"  # OSC 0: icon name and window title
    "\x1b]2;owned-title-2\x1b\\"  # OSC 2: window title, ended by ST
    "\x1b[5;5H\x1b[3A\x1b[2C\r\x08\x0b\x0c"  # cursor moves, carriage return, backspace
    "\x9b2J\x9b1;1H\x9d0;c1-title\x9c"  # C1 CSI and C1 OSC, one byte each
    "\x7f\x85\x1b7\x1b8"  # DEL, NEL, save and restore the cursor
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"  # bidi overrides, isolates
    "\u200b\u200c\u200d\ufeff\u2028\u2029\U000e0041"  # zero width, separators, a tag
    " [bold red]markup[/bold red] <script>alert(1)</script> <b>x</b> Z"
)
MEMO = "The director signed the memo on the third of March, before the board ever met. "
SOURCE_KEY = age.X25519Identity.generate()


def acts_on_a_terminal(char: str) -> bool:
    return not (char.isprintable() or char == "\n" or unicodedata.category(char) == "Zs")


@pytest.fixture
def hostile(
    review: Review, server: SigningKey, offline_reviewer: Reviewer, tmp_path: Path
) -> Review:
    """A workspace whose tips, file names, notes, claims, quotes and notes on relations are all
    the hostile corpus."""
    tips = [
        TipSpec("m1", "srcA", (MEMO + HOSTILE).encode(), reply_recipient=str(SOURCE_KEY.recipient)),
        TipSpec("m2", "srcB", (HOSTILE + " " + MEMO).encode()),
        TipSpec("f1", "srcC", HOSTILE.encode(), kind="file", name=HOSTILE, media_type=HOSTILE),
    ]
    bundle = make_bundle(tmp_path / "b.tar", server, tips, [offline_reviewer.identity.recipient])
    review("import", str(bundle))
    review("note", "m1", HOSTILE)
    review("claim", "add", HOSTILE)
    review("link", "m1", "1", "--supports", "--basis", "firsthand", "--quote", HOSTILE)
    review("relate", "srcA", "srcC", "--shared-origin", "--note", HOSTILE)
    review("reply", "srcA", input=HOSTILE)  # read as text: its carriage return becomes a newline
    return review


def screen_after(output: str) -> pyte.Screen:
    """A terminal, as wide as the longest line, after showing ``output`` (LF as CR LF, as a
    terminal's line discipline turns it)."""
    lines = output.split("\n")
    screen = pyte.Screen(max(map(len, lines)) + 1, len(lines) + 1)
    pyte.Stream(screen).feed(output.replace("\n", "\r\n"))
    return screen


def check_inert(output: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in output if acts_on_a_terminal(c)})
    assert found == [], f"raw characters that act on a terminal: {found}"
    screen = screen_after(output)
    lines = output.split("\n")
    assert (screen.title, screen.icon_name) == ("", "")
    shown = [line.rstrip() for line in screen.display[: len(lines)]]
    assert shown == [line.rstrip() for line in lines]
    assert (screen.cursor.y, screen.cursor.x) == (len(lines) - 1, len(lines[-1]))


def test_the_check_sees_a_hostile_text_act_on_the_screen() -> None:
    """The emulator is not blind: the corpus itself moves the cursor and sets the title."""
    screen = screen_after(f"first line\n{HOSTILE}\nlast line\n")
    assert screen.title != ""
    with pytest.raises(AssertionError):
        check_inert(f"first line\n{HOSTILE}\n")
    with pytest.raises(AssertionError):
        check_inert("a\n\x1b[1Ab\n")  # no raw-byte check needed: the screen check alone fails


MARKUP = "red]markup[/bold"  # no space, so no table wraps it
COMMANDS = [  # each command, and whether it shows the corpus whole (tables cut some of it short)
    (("tips",), False),
    (("tips", "--json"), False),
    (("show", "m1"), True),
    (("show", "m1", "--json"), True),
    (("show", "f1"), True),
    (("show", "f1", "--json"), True),
    (("claims",), True),
    (("claims", "--json"), True),
    (("sources",), False),
    (("sources", "--json"), True),
    (("suggest",), False),
    (("suggest", "--json"), False),
    (("outbox",), True),
    (("outbox", "--json"), True),
]


@pytest.mark.parametrize(("args", "whole"), COMMANDS, ids=[" ".join(c[0]) for c in COMMANDS])
def test_i11_no_listing_acts_on_the_terminal(
    hostile: Review, args: tuple[str, ...], whole: bool
) -> None:
    result = hostile(*args)
    if whole:  # shown made inert, not dropped, and its markup shown as it is
        assert MARKUP in result.stdout
    check_inert(result.output)


def test_i11_json_keeps_the_text_whole_for_scripts(hostile: Review) -> None:
    shown: Any = hostile.json("show", "m1")
    assert shown["text"] == MEMO + HOSTILE
    assert shown["notes"] == [HOSTILE]
    assert shown["links"][0]["quote"] == HOSTILE
    (claim,) = hostile.json("claims")
    assert claim["text"] == HOSTILE and claim["evidence"][0]["quote"] == HOSTILE
    file_tip: Any = hostile.json("show", "f1")
    assert (file_tip["name"], file_tip["type"]) == (HOSTILE, HOSTILE)
    (reply,) = hostile.json("outbox")
    assert reply["text"] == HOSTILE.replace("\r", "\n")


def test_i11_messages_and_errors_are_inert(hostile: Review, tmp_path: Path) -> None:
    for args in (
        ("note", "m1", HOSTILE),
        ("claim", "edit", "1", HOSTILE),
        ("mark", "m1", "flagged"),
        ("export", "f1", "--out", str(tmp_path / "out")),
        ("link", "m2", "1", "--contradicts", "--quote", HOSTILE),
        ("unlink", "m2", "1"),
        ("outbox", "--out", str(tmp_path / "replies.tar")),
    ):
        check_inert(hostile(*args).output)
    for args in (
        ("show", HOSTILE),
        ("tips", "--source", HOSTILE),
        ("relate", "srcA", HOSTILE, "--same-person"),
        ("mark", "m1", HOSTILE),
        (HOSTILE,),
        ("tips", HOSTILE),
    ):
        result = hostile.run(*args)
        assert result.exit_code != 0
        check_inert(result.output)


@pytest.mark.parametrize("format_", ["md", "html"])
def test_i11_a_report_shown_in_a_terminal_is_inert(
    hostile: Review, tmp_path: Path, format_: str
) -> None:
    out = tmp_path / f"report.{format_}"
    check_inert(hostile("report", "--format", format_, "--out", str(out)).output)
    report = out.read_text()
    assert "Z" in report
    check_inert(report)


def refusing(status: int, body: bytes, reason: str | None = None) -> Callable[[Any], None]:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status, reason)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


@pytest.mark.parametrize(
    "answer",
    [
        refusing(403, json.dumps({"error": HOSTILE}).encode()),
        refusing(403, json.dumps({"error": HOSTILE}, ensure_ascii=False).encode()),
        refusing(500, b"not json", reason="\x1b]0;owned\x07\x1b[2J\x9b2J"),
    ],
    ids=["escaped-json", "raw-json", "reason-phrase"],
)
@pytest.mark.parametrize("command", ["fetch", "push"])
def test_i11_a_server_error_relayed_by_the_courier_is_inert(
    answer: Callable[[Any], None], command: str, tmp_path: Path
) -> None:
    key = tmp_path / "courier.key"
    key.write_text(f"{SigningKey.generate()}\n")
    sent = tmp_path / "replies.tar"
    sent.write_bytes(b"ciphertext")
    args = ("--out", str(tmp_path / "bundle.tar")) if command == "fetch" else (str(sent),)
    loopback = Loopback(answer)
    try:
        result = courier(loopback, key, command, *args)
    finally:
        loopback.server.shutdown()
        loopback.server.server_close()
    assert result.exit_code == 1 and "the server refused" in result.output
    check_inert(result.output)
    assert len(result.output.strip().splitlines()) == 1
