"""Slides and camera thumbnails as the meeting page, the panel and the timeline show them."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.models import Slide
from assistant.services import camera, slides
from assistant.views import presenters


@dataclass(frozen=True)
class SlideRow:
    """One slide: its moment, who shared it, its title, and where its pictures are."""

    slide_id: int
    at_ms: int
    clock: str
    sharer: str
    title: str
    image_url: str
    thumbnail_url: str
    percent: int = 0  # its moment on the timeline, 0-100 (CSS class at-N positions it)

    @property
    def label(self) -> str:
        """What the slide is called: its title, else when it was shown."""
        return self.title or f"Slide at {self.clock}" if self.clock else self.title or "Slide"


def slide_rows(
    rows: list[Slide], origin: int, span: tuple[int, int] | None = None
) -> list[SlideRow]:
    """The meeting's slides in order; `span` (start, end ms) places them on the timeline."""
    shown = []
    for slide in rows:
        percent = 0
        if span is not None and span[1] > span[0]:
            percent = round(100 * (slide.shown_at_ms - span[0]) / (span[1] - span[0]))
        shown.append(
            SlideRow(
                slide_id=slide.pk,
                at_ms=slide.shown_at_ms,
                clock=presenters.clock_label(slide.shown_at_ms, origin),
                sharer=slide.sharer_name or "Someone",
                title=slide.title,
                image_url=slides.image_url(slide),
                thumbnail_url=slides.image_url(slide, thumbnail=True),
                percent=min(100, max(0, percent)),
            )
        )
    return shown


def camera_thumbnails(meeting_id: int) -> dict[int, str]:
    """Each participant's camera thumbnail URL, by Zoom user id."""
    return camera.thumbnail_urls(meeting_id)
