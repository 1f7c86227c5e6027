"""Chat URLs become links (http and https only, text escaped), the same on the server
(chat_links.py) and in the browser for live lines (static/js/chat-links.js, run in Chromium)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Route, async_playwright

from assistant.views.chat_links import ChatPiece, chat_pieces
from tests.integration.browser_support import CHROMIUM, CHROMIUM_ARGS

STATIC = Path(__file__).resolve().parents[2] / "static"
ORIGIN = "http://chat-links.test"

# (text, [(piece text, url)]): each expected piece's url is "" for plain text.
CASES: list[tuple[str, list[tuple[str, str]]]] = [
    ("no links here", [("no links here", "")]),
    (
        "see https://example.com/a.",
        [("see ", ""), ("https://example.com/a", "https://example.com/a"), (".", "")],
    ),
    ("http://x.io", [("http://x.io", "http://x.io")]),
    ("HTTPS://EXAMPLE.COM", [("HTTPS://EXAMPLE.COM", "HTTPS://EXAMPLE.COM")]),
    ("javascript:alert(1)", [("javascript:alert(1)", "")]),
    ("javascript:https://x.io", [("javascript:https://x.io", "")]),
    ("ftp://x.io mailto:a@b.io", [("ftp://x.io mailto:a@b.io", "")]),
    ("xhttps://x.io", [("xhttps://x.io", "")]),
    ("http:// and http://.", [("http:// and http://.", "")]),
    (
        "(https://en.wikipedia.org/wiki/Zoom_(software))",
        [
            ("(", ""),
            (
                "https://en.wikipedia.org/wiki/Zoom_(software)",
                "https://en.wikipedia.org/wiki/Zoom_(software)",
            ),
            (")", ""),
        ],
    ),
    (
        'a "https://x.io/<b>" b',
        [('a "', ""), ("https://x.io/", "https://x.io/"), ('<b>" b', "")],
    ),
    (
        "two:\nhttps://a.io, https://b.io/p?q=1&r=2#s!",
        [
            ("two:\n", ""),
            ("https://a.io", "https://a.io"),
            (", ", ""),
            ("https://b.io/p?q=1&r=2#s", "https://b.io/p?q=1&r=2#s"),
            ("!", ""),
        ],
    ),
]


def _pieces(text: str) -> list[tuple[str, str]]:
    return [(p.text, p.url) for p in chat_pieces(text)]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:30] for c in CASES])
def test_chat_pieces_link_http_and_https_urls_only(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert _pieces(text) == expected
    assert "".join(p.text for p in chat_pieces(text)) == text


def test_a_long_url_wraps_after_slashes_and_before_its_query() -> None:
    url = "https://grafana.example.com/d/payments-retry?orgId=1&from=now-6h#panel"
    assert ChatPiece(url, url=url).chunks == [
        "https://",
        "grafana.example.com/",
        "d/",
        "payments-retry",
        "?orgId=",
        "1",
        "&from=",
        "now-6h",
        "#panel",
    ]


async def _serve_static(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN)
    if path.startswith("/static/js/"):
        body = (STATIC / path.removeprefix("/static/")).read_text()
        await route.fulfill(status=200, content_type="text/javascript", body=body)
    else:
        await route.fulfill(status=200, content_type="text/html", body="<!doctype html><p></p>")


BROWSER_CHECK = """async ([cases, hostile, url]) => {
  const links = await import("/static/js/chat-links.js");
  const pieces = cases.map((text) => links.chatPieces(text).map((p) => [p.text, p.url ?? ""]));
  const line = document.querySelector("p");
  line.replaceChildren(...links.chatNodes(hostile));
  const anchors = [...line.querySelectorAll("a")].map((a) => ({
    href: a.getAttribute("href"), target: a.target, rel: a.rel, text: a.textContent,
    wbr: a.querySelectorAll("wbr").length,
  }));
  return { pieces, chunks: links.urlChunks(url), html: line.innerHTML, anchors };
}"""


@pytest.mark.browser
async def test_live_chat_lines_link_as_the_server_does_and_escape_the_rest() -> None:
    url = "https://grafana.example.com/d/payments-retry?orgId=1&from=now-6h#panel"
    hostile = f'<img src=x onerror="alert(1)"> javascript:alert(1) {url}'
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await browser.new_page()
        await page.route(f"{ORIGIN}/**", _serve_static)
        await page.goto(f"{ORIGIN}/")
        result = await page.evaluate(BROWSER_CHECK, [[c[0] for c in CASES], hostile, url])
        await browser.close()
    assert result["pieces"] == [[list(p) for p in _pieces(text)] for text, _ in CASES]
    assert result["chunks"] == ChatPiece(url, url=url).chunks
    assert result["html"].startswith(
        '&lt;img src=x onerror="alert(1)"&gt; javascript:alert(1) <a '
    ), result["html"]
    assert result["anchors"] == [
        {
            "href": url,
            "target": "_blank",
            "rel": "noopener noreferrer nofollow",
            "text": url,
            "wbr": len(ChatPiece(url, url=url).chunks) - 1,
        }
    ]
    assert json.dumps(result).count("<img") == 0
