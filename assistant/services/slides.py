"""Slides: what a meeting's screen share showed, kept when the picture changed, and their text.

The ingest (rtms_ingest/storage/slides.py) decides which frames are new slides and calls
`record_slide` from a database thread; the slide's text is read afterwards by a job
(`asr.read_slide`, the CPU-bound queue) through `read_slide`, which publishes the slide again
with its title. Slide text is searchable (services/search.py) and shown by the pages and
exports; it is what a picture said, untrusted like the transcript.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from assistant import events, jobs, pictures, slide_text
from assistant.models import Meeting, Slide
from assistant.services import live
from assistant.services.notes.draft import Utterance

log = logging.getLogger(__name__)

MAX_TITLE = 300


def wants_slides(meeting: Meeting) -> bool:
    """The meeting's own choice, else the SLIDES setting."""
    chosen = meeting.capture_slides
    return settings.SLIDES if chosen is None else chosen


def set_capture_slides(meeting_id: int, choice: bool | None) -> Meeting:
    """Turn slides on or off for a meeting (None = the setting); the ingest is told apart."""
    Meeting.objects.filter(pk=meeting_id).update(capture_slides=choice)
    return Meeting.objects.get(pk=meeting_id)


@dataclass(frozen=True)
class NewSlide:
    """A picture the ingest decided to keep, encoded and ready to store."""

    shown_at_ms: int
    sharer_user_id: int | None
    sharer_name: str
    image: bytes
    extension: str  # "jpg" or "png"
    thumbnail: bytes  # JPG
    width: int
    height: int
    picture_hash: str


def record_slide(meeting_id: int, new: NewSlide) -> Slide | None:
    """Store a slide (files, row, live event) and queue the reading of its text.

    None when the meeting is gone (deleted: nothing is written for it) or the slide was stored
    before. The files are written under the meeting's row lock, which a deletion takes too, so
    a deleted meeting never gets a picture written after its folder went.
    """
    with transaction.atomic():
        try:
            seq = live.next_seq(meeting_id)  # locks the meeting row
        except Meeting.DoesNotExist:
            return None
        if Slide.objects.filter(meeting_id=meeting_id, shown_at_ms=new.shown_at_ms).exists():
            return None
        slide = Slide.objects.create(
            meeting_id=meeting_id,
            seq=seq,
            shown_at_ms=new.shown_at_ms,
            sharer_user_id=new.sharer_user_id,
            sharer_name=new.sharer_name[:300],
            image_name="pending",
            thumbnail_name="pending",
            content_type=pictures.CONTENT_TYPES[f".{new.extension}"],
            width=new.width,
            height=new.height,
            picture_hash=new.picture_hash,
        )
        slide.image_name = f"slide-{slide.pk}.{new.extension}"
        slide.thumbnail_name = f"slide-{slide.pk}-thumb.jpg"
        pictures.write(meeting_id, slide.image_name, new.image)
        pictures.write(meeting_id, slide.thumbnail_name, new.thumbnail)
        slide.save(update_fields=["image_name", "thumbnail_name"])
        live.publish(meeting_id, slide_payload(slide, seq))
        jobs.submit(jobs.READ_SLIDE, slide.pk)
    return slide


def read_slide(slide_id: int) -> Slide | None:
    """Read a slide's text (OCR) and store it; publish the slide again with its title.

    Idempotent: a slide read before is left as it is. None if the slide (or its file) is gone.
    """
    slide = Slide.objects.filter(pk=slide_id).first()
    if slide is None or slide.read_at is not None:
        return slide
    path = pictures.path_of(slide.meeting_id, slide.image_name)
    if path is None:
        return None
    lines = slide_text.read_lines(path)
    text = "\n".join(lines)
    title = (lines[0] if lines else "")[:MAX_TITLE]
    with transaction.atomic():
        updated = Slide.objects.filter(pk=slide_id, read_at__isnull=True).update(
            text=text, title=title, read_at=timezone.now()
        )
        if updated:
            slide.refresh_from_db()
            live.append(slide.meeting_id, lambda seq: slide_payload(slide, seq))
    log.info("slide %d of meeting %d read: %d lines", slide_id, slide.meeting_id, len(lines))
    return slide


def image_url(slide: Slide, thumbnail: bool = False) -> str:
    """Where the page fetches a slide's picture (served only to those who may see it)."""
    name = slide.thumbnail_name if thumbnail else slide.image_name
    return reverse("meeting-picture", args=[slide.meeting_id, name])


def slide_payload(slide: Slide, seq: int) -> events.SlidePayload:
    """The live event of a slide (again, with its title, once its text is read)."""
    return {
        "type": events.SLIDE,
        "seq": seq,
        "id": slide.pk,
        "at_ms": slide.shown_at_ms,
        "sharer_user_id": slide.sharer_user_id,
        "sharer": slide.sharer_name,
        "title": slide.title,
        "image_url": image_url(slide),
        "thumbnail_url": image_url(slide, thumbnail=True),
    }


def meeting_slides(meeting_id: int) -> list[Slide]:
    """A meeting's slides in the order they were shown."""
    return list(Slide.objects.filter(meeting_id=meeting_id).order_by("shown_at_ms", "id"))


def slide_at(slides: list[Slide], at_ms: int) -> Slide | None:
    """The slide on screen at a moment of the stream clock (the last one shown before it)."""
    shown = [slide for slide in slides if slide.shown_at_ms <= at_ms]
    return shown[-1] if shown else None


def with_slide_titles(meeting_id: int, utterances: Sequence[Utterance]) -> list[Utterance]:
    """The utterances, each with the title of the slide on screen when it began (if any)."""
    shown = list(
        Slide.objects.filter(meeting_id=meeting_id)
        .order_by("shown_at_ms", "id")
        .values_list("shown_at_ms", "title")
    )
    if not shown:
        return list(utterances)
    moments = [at for at, _ in shown]
    titled = []
    for utterance in utterances:
        index = bisect.bisect_right(moments, utterance.start_ms) - 1
        title = shown[index][1] if index >= 0 else ""
        titled.append(dataclasses.replace(utterance, slide=title) if title else utterance)
    return titled
