"""The Slack message of a meeting's notes (an incoming webhook's JSON), its text escaped.

Slack reads `<...>` as a link, a mention or a command (`<!channel>`, `<@U123>`,
`<https://x|label>`); its rule is to escape exactly &, < and > as &amp;, &lt; and &gt; in any
text that is not meant as markup. Every text that came from a meeting goes through `escape`:
the only link in the message is ours, to the meeting's page. `link_names` is never set, so a
plain "@channel" stays plain text.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from assistant.services.deliveries.content import NotesContent

# Slack truncates a message's text at 40,000 characters; stay under it with the link kept.
MAX_TEXT_CHARS = 39_000


def escape(text: str) -> str:
    """Text as Slack shows it literally: no link, mention or command can form."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message_text(content: NotesContent) -> str:
    """The message in Slack's mrkdwn: title and date, summary, decisions, action items, the
    template's sections, link."""
    lines = [f"*{escape(_one_line(content.title))}*"]
    if content.started_at is not None:
        lines.append(timezone.localtime(content.started_at).strftime("%a %d %b %Y, %H:%M"))
    if content.summary.strip():
        lines += ["", escape(content.summary.strip())]
    if content.decisions:
        lines += ["", "*Decisions*", *(f"• {escape(_one_line(d))}" for d in content.decisions)]
    if content.actions:
        lines += ["", "*Action items*"]
        for item in content.actions:
            who = [escape(_one_line(item.owner))] if item.owner else []
            if item.due:
                who.append(f"due {escape(_one_line(item.due))}")
            suffix = f" ({', '.join(who)})" if who else ""
            lines.append(f"• {escape(_one_line(item.text))}{suffix}")
    if content.sections:
        lines += ["", f"*{escape(_one_line(content.template_name))}*"]
        for section in content.sections:
            lines.append(f"_{escape(_one_line(section.heading))}_")
            lines += [f"• {escape(_one_line(line))}" for line in section.lines]
            if section.note:
                lines.append(escape(_one_line(section.note)))
    text = "\n".join(lines)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rsplit("\n", 1)[0] + "\n…"
    # Our own link: the URL is SITE_URL's, the label ours.
    return f"{text}\n\n<{content.link}|Open the meeting notes>"


def payload(content: NotesContent) -> bytes:
    """The incoming webhook's JSON body."""
    body: dict[str, Any] = {
        "text": message_text(content),
        "mrkdwn": True,
        "unfurl_links": False,
        "unfurl_media": False,
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _one_line(text: str) -> str:
    return " ".join(text.split())
