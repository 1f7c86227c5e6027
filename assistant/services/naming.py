"""Naming meetings by their RTMS stream (the webhook carries no topic; the demo knows it)."""

from __future__ import annotations

from assistant.models import Meeting
from assistant.services.meetings import set_topic


def set_topic_for_stream(stream_id: str, topic: str) -> bool:
    """Name the meeting of a stream; False while no meeting has that stream yet."""
    meeting_id = (
        Meeting.objects.filter(rtms_stream_id=stream_id).values_list("pk", flat=True).first()
    )
    if meeting_id is None:
        return False
    set_topic(meeting_id, topic)
    return True
