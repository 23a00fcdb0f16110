"""What may reach the reviewer's screen: one policy for every character Cairn prints (I11).

A tip's words, its file name and type, the server's error text, and what the reviewer pasted
into a note may all carry characters that act on a terminal rather than show: escape sequences
(clear the screen, set the title, move the cursor), C1 controls such as U+009B (a one-character
CSI), bidirectional overrides and isolates and U+061C that reorder what is shown, zero-width
characters (U+200B-U+200D, U+FEFF) that hide text, and U+2028/U+2029 line separators. Shown
text keeps only what Python deems printable, plus spaces, newlines and tabs; everything else
becomes a visible U+FFFD. JSON keeps the data whole for scripts: the same characters are
written as ``\\uXXXX`` escapes, which ``json.loads`` turns back into them and which a terminal
shows as six harmless characters.
"""

from __future__ import annotations

import json
import unicodedata

_LAYOUT = frozenset("\n\t")


def _shown(char: str) -> bool:
    """Whether ``char`` reaches a terminal as itself: Python's printable set (no category C,
    Zl or Zp character), spaces (Zs), and the newline and tab that lay text out."""
    return char.isprintable() or char in _LAYOUT or unicodedata.category(char) == "Zs"


def printable(text: str) -> str:
    """``text`` with every character that could act on a terminal made visible as U+FFFD."""
    if text.isprintable():
        return text
    return "".join(char if _shown(char) else "\ufffd" for char in text)


def one_line(text: str) -> str:
    """``text`` as one printable line, as an error relayed from elsewhere must be."""
    return printable(" ".join(text.split()))


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells a character beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(value: object) -> str:
    """``value`` as indented JSON whose every unprintable character is a ``\\u`` escape.

    ``json.dumps`` already escapes C0 controls in strings; the newlines it leaves are its own
    indentation, so every other character that ``printable`` would replace is escaped here.
    """
    text = json.dumps(value, indent=2, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(char if _shown(char) else _json_escape(char) for char in text)
