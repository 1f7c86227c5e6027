"""A meeting's slides in its exports: Markdown links and the JSON's `slides` array.

Links are absolute (SITE_URL), so they work from a downloaded file; the pictures behind them
are still served only to those who may see the meeting (assistant/views/pictures.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings

from assistant.models import Slide
from assistant.services import clock, slides
from assistant.services.markdown_text import inline


def absolute(path: str) -> str:
    """A site path as a URL a file opened elsewhere can follow."""
    return f"{settings.SITE_URL}{path}"


def markdown_link(slide: Slide) -> str:
    """`[title](url)` of the slide's full-size picture."""
    title = inline(slide.title) or "Slide"
    return f"[{title}]({absolute(slides.image_url(slide))})"


def markdown_marker(slide: Slide, origin: int) -> str:
    """A transcript line saying a slide was put on screen then."""
    when = clock.elapsed(max(0, slide.shown_at_ms - origin))
    return f"\n*{when} Slide shown: {markdown_link(slide)}*\n"


def markdown_section(rows: list[Slide], origin: int) -> Iterator[str]:
    """The Slides section: one list item a slide, its time, link and who shared it."""
    if not rows:
        return
    yield "\n## Slides\n\n"
    for slide in rows:
        when = clock.elapsed(max(0, slide.shown_at_ms - origin))
        sharer = inline(slide.sharer_name)
        by = f" (shared by {sharer})" if sharer else ""
        yield f"- {when} {markdown_link(slide)}{by}\n"


def json_slides(meeting_id: int) -> list[dict[str, Any]]:
    """The JSON's `slides` (docs/export-schema.json)."""
    return [
        {
            "id": s.pk,
            "shown_at_ms": s.shown_at_ms,
            "sharer": s.sharer_name,
            "sharer_user_id": s.sharer_user_id,
            "title": s.title,
            "text": s.text,
            "content_type": s.content_type,
            "width": s.width,
            "height": s.height,
            "image_url": absolute(slides.image_url(s)),
            "thumbnail_url": absolute(slides.image_url(s, thumbnail=True)),
        }
        for s in slides.meeting_slides(meeting_id)
    ]
