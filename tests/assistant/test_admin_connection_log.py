"""The connection log in the admin says where a gap lies, in meeting time, and what it lost."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from assistant.models import ConnectionLogEntry, Meeting
from assistant.services import meetings
from assistant.services.transcript import SegmentInput, record_segment

pytestmark = pytest.mark.django_db

MakeMeeting = Callable[..., Meeting]
WALL = 1_764_000_000_000  # real Zoom's stream clock is Unix ms


def test_a_gap_in_the_connection_log_reads_in_caption_time(
    make_meeting: MakeMeeting, admin_user: User
) -> None:
    meeting = make_meeting()
    record_segment(meeting.pk, SegmentInput("native", 7, "Ana Lima", WALL, WALL + 900, "Hi."))
    meetings.record_gap(
        meeting.pk,
        "audio: 12 frames dropped",
        from_ms=WALL + 61_000,
        to_ms=WALL + 62_400,
        frames_lost=12,
    )
    entry = ConnectionLogEntry.objects.get(meeting=meeting, kind=ConnectionLogEntry.Kind.GAP)
    client = Client()
    client.force_login(admin_user)

    meeting_page = client.get(reverse("admin:assistant_meeting_change", args=[meeting.pk]))
    entry_page = client.get(reverse("admin:assistant_connectionlogentry_change", args=[entry.pk]))

    for page in (meeting_page, entry_page):
        assert page.status_code == 200
        assert "01:01 to 01:02, 12 frames lost" in page.content.decode()
