"""Text in the Markdown export renders as itself, and only what would not is escaped.

Checked with a real CommonMark renderer (markdown-it-py, raw HTML allowed, as in a careless
viewer) plus GitHub's strikethrough and tables: whatever the text, the rendering shows exactly
that text, with no tag of its own (no link, image, emphasis, code or raw HTML).
"""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from assistant.services.markdown_text import block, heading, inline, one_line

RENDERER = MarkdownIt("commonmark").enable("strikethrough").enable("table")
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click here](https://evil.test)",
    "![pixel](https://evil.test/p.png)",
    "[ref]: https://evil.test",
    "<https://evil.test>",
    "**bold** and __strong__",
    "*em* and _em_ and a*b*c",
    "`code` and ``more``",
    "~~struck~~ and ~single~",
    "# not a heading",
    "###### six",
    "- not a list",
    "+ not a list",
    "* not a list",
    "1. not a list",
    "2) not a list either",
    "> not a quote",
    "---",
    "***",
    "_ _ _",
    "- - -",
    "```",
    "~~~",
    "&amp; &#65; &#x42; stay as typed",
    "a trailing backslash \\",
    "escaped \\* star",
    "| a | b |",
    "[^1] footnote",
    "Release #",
    "Zoë's café! Done? (yes) 100% <3",
]
PLAIN = [
    "Done! Ship it!",
    "snake_case_name and foo_bar",
    "2 * 3 = 6, and 4 ~ 5",
    r"C:\Users\priya",
    "AT&T and R&D",
    "Priya's plan (v2) for Q3: 3 items; #1 first",
    "The release is on Thursday, agreed?",
    "well -- maybe",
    "a > b and c = d",
]


def _inner(rendered: str, tag: str) -> str:
    match = re.fullmatch(rf"<{tag}>(.*)</{tag}>\n", rendered, re.S)
    assert match, rendered
    assert "<" not in match.group(1), rendered  # no tag of the text's own
    return html.unescape(match.group(1))


def _as_block(text: str) -> str:
    return _inner(RENDERER.render(block(text)), "p")


def _as_inline(text: str) -> str:
    return _inner(RENDERER.render("said: " + inline(text)), "p").removeprefix("said:").lstrip(" ")


def _as_heading(text: str) -> str:
    return _inner(RENDERER.render("# " + heading(text)), "h1")


@pytest.mark.parametrize("text", HOSTILE + PLAIN)
def test_text_renders_as_itself_at_the_start_of_a_block(text: str) -> None:
    assert _as_block(text) == one_line(text)


@pytest.mark.parametrize("text", HOSTILE + PLAIN)
def test_text_renders_as_itself_inside_a_line(text: str) -> None:
    assert _as_inline(text) == one_line(text)


@pytest.mark.parametrize("text", HOSTILE + PLAIN)
def test_text_renders_as_itself_in_a_heading(text: str) -> None:
    assert _as_heading(text) == one_line(text)


@pytest.mark.parametrize("text", PLAIN)
def test_plain_punctuation_is_left_as_typed(text: str) -> None:
    assert block(text) == inline(text) == heading(text) == text


def test_only_the_characters_that_would_act_are_escaped() -> None:
    assert inline("<b> [x](y) `c` a*b* _x_") == r"\<b> \[x](y) \`c\` a\*b\* \_x\_"
    assert block("# 1. - >") == r"\# 1. - >"
    assert block("1. first") == r"1\. first"
    assert heading("C# tips #") == r"C# tips \#"


MARKDOWN_ALPHABET = st.sampled_from([*"ab1 _*~`[]()!<>#-+=.&;\\|:^x\n\t", "&amp;", "é"])


@settings(max_examples=1000, deadline=None)
@given(st.lists(MARKDOWN_ALPHABET, max_size=24).map("".join))
def test_any_text_renders_as_itself(text: str) -> None:
    assert _as_inline(text) == one_line(text)
    if one_line(text):
        assert _as_block(text) == one_line(text)
        assert _as_heading(text) == one_line(text)
