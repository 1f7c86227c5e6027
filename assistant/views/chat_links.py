"""Chat text as the pages show it: its http(s) URLs as links, everything else as plain text.

Mirrors static/js/chat-links.js (the live pages'), so a line reads the same however it arrived.
The result is pieces, not HTML: the template escapes every piece and writes the link itself, so
no scheme but http and https ever becomes an href (a `javascript:` URL stays text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A URL starts a line, or follows a space, an opening bracket or a quote ("see:http://x" is
# text); it runs to the next space, angle bracket or quote.
URL = re.compile(r"""(?<![^\s(\[{<"'])https?://[^\s<>"'/?#]+(?:[/?#][^\s<>"']*)?""", re.I)
# Punctuation that ends a sentence rather than the URL before it.
TRAILING = ".,;:!?"
CLOSING = {")": "(", "]": "[", "}": "{"}
# Where a long URL may wrap: after a slash (not inside "//") or "=", before "?", "#" or "&".
BREAKS = re.compile(r"(?<=[/=])(?=[^/])|(?=[?#&])")


@dataclass(frozen=True)
class ChatPiece:
    """A run of a chat line: plain text, or a link whose `url` is also its text."""

    text: str
    url: str = ""

    @property
    def chunks(self) -> list[str]:
        """The link's text cut where it may wrap (the template puts a <wbr> between)."""
        return [chunk for chunk in BREAKS.split(self.text) if chunk]


def _trimmed(url: str) -> str:
    """The URL without the sentence's punctuation after it; a closing bracket stays when the
    URL opened one ("https://en.wikipedia.org/wiki/Zoom_(software)")."""
    while url:
        last = url[-1]
        if last in TRAILING or (last in CLOSING and url.count(last) > url.count(CLOSING[last])):
            url = url[:-1]
        else:
            break
    return url


def _has_host(url: str) -> bool:
    rest = url.split("://", 1)[1]
    return bool(re.split(r"[/?#]", rest, maxsplit=1)[0])


def chat_pieces(text: str) -> list[ChatPiece]:
    """`text` as plain runs and links, in order; joined, their texts are `text` again."""
    pieces: list[ChatPiece] = []
    plain_from = 0
    for match in URL.finditer(text):
        url = _trimmed(match.group())
        if not _has_host(url):
            continue
        if match.start() > plain_from:
            pieces.append(ChatPiece(text[plain_from : match.start()]))
        pieces.append(ChatPiece(url, url=url))
        plain_from = match.start() + len(url)
    if plain_from < len(text):
        pieces.append(ChatPiece(text[plain_from:]))
    return pieces
