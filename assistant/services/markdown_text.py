"""Plain text as Markdown that renders as that same text (CommonMark and GitHub's extensions).

Only what would change the rendering where the text stands is escaped, so "Done!" stays
"Done!" and "snake_case" stays as it is. Always: "<" (raw HTML, autolinks), "`" (code), "["
(links, images, footnotes: so a link cannot be forged, and "!" needs nothing), "&" before an
entity name, and "\\" before punctuation or at the end. "*", "~" and "_" when they could open
or close emphasis or strikethrough (not between spaces, nor "_" inside a word). At the start
of a block (a paragraph, a list item), also what would begin another block: "#", ">", a list
marker, a thematic break. Text is put on one line first (the exports' lines are one line each).
"""

from __future__ import annotations

import re
import string

_SPACE = re.compile(r"\s+")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ORDERED = re.compile(r"(\d{1,9})([.)])(?=\s|$)")
_BULLET = re.compile(r"[-+*](?=\s|$)")
_HEADING = re.compile(r"#{1,6}(?=\s|$)")
_BREAK = re.compile(r"(?:[-*_]\s*){3,}$")
_CLOSING_HASHES = re.compile(r"(^|\s)(#+)$")
_PUNCTUATION = frozenset(string.punctuation)


def one_line(text: str) -> str:
    """Text on one line: runs of white space (newlines too) as one space, ends trimmed."""
    return _SPACE.sub(" ", text).strip()


def _escaped(char: str, before: str, after: str, text: str, at: int) -> bool:
    """Whether the character at `at` (between `before` and `after`) needs a backslash."""
    if char in "<`[":
        return True
    if char == "\\":
        return after == "" or after in _PUNCTUATION
    if char == "&":
        return _ENTITY.match(text, at) is not None
    if char in "*~_":
        spaced = (before == "" or before.isspace()) and (after == "" or after.isspace())
        inside_word = char == "_" and before.isalnum() and after.isalnum()
        return not (spaced or inside_word)
    return False


def inline(text: str) -> str:
    """`text` escaped for the middle of a line (after other Markdown on the same line)."""
    text = one_line(text)
    out = []
    for at, char in enumerate(text):
        before = text[at - 1] if at else " "
        after = text[at + 1] if at + 1 < len(text) else ""
        out.append("\\" + char if _escaped(char, before, after, text, at) else char)
    return "".join(out)


def block(text: str) -> str:
    """`text` escaped where it starts a block: a paragraph, a list item's text."""
    plain = one_line(text)
    escaped = inline(plain)
    if not plain:
        return escaped
    if _HEADING.match(plain) or plain[0] == ">" or _BULLET.match(plain) or _BREAK.match(plain):
        # The first character was left as it is by inline() unless it is "*" or "_" between
        # spaces: escape it (once).
        return escaped if escaped.startswith("\\") else "\\" + escaped
    ordered = _ORDERED.match(plain)
    if ordered:
        digits = ordered.group(1)
        return digits + "\\" + escaped[len(digits) :]
    return escaped


def heading(text: str) -> str:
    """`text` escaped as the text of an ATX heading ("# text"): a closing run of "#" kept."""
    return _CLOSING_HASHES.sub(r"\1\\\2", inline(text))
