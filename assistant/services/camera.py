"""Participants' camera thumbnails: the latest key frame of each, small, one file per person.

Video is never stored beyond this: one thumbnail per participant, replaced at most every 10 s
(rtms_ingest/storage/slides.py decides when), deleted with the meeting.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from assistant import pictures
from assistant.models import Meeting, ParticipantPicture


def keep_thumbnail(meeting_id: int, zoom_user_id: int, taken_at_ms: int, jpeg: bytes) -> bool:
    """Store a participant's newest thumbnail; False when the meeting is gone (nothing written).

    Under the meeting's row lock, which a deletion takes too: no file outlives its meeting.
    """
    name = f"camera-{int(zoom_user_id)}.jpg"
    with transaction.atomic():
        locked = (
            Meeting.objects.select_for_update(no_key=True)
            .filter(pk=meeting_id)
            .values_list("pk", flat=True)
            .first()
        )
        if locked is None:
            return False
        pictures.write(meeting_id, name, jpeg)
        ParticipantPicture.objects.update_or_create(
            meeting_id=meeting_id,
            zoom_user_id=zoom_user_id,
            defaults={"image_name": name, "taken_at_ms": taken_at_ms},
        )
    return True


def thumbnail_urls(meeting_id: int) -> dict[int, str]:
    """Each participant's thumbnail URL, by Zoom user id (those with a camera seen)."""
    rows = ParticipantPicture.objects.filter(meeting_id=meeting_id).values_list(
        "zoom_user_id", "image_name", "updated_at"
    )
    return {
        user_id: reverse("meeting-picture", args=[meeting_id, name])
        + f"?v={int(updated.timestamp())}"
        for user_id, name, updated in rows
    }
