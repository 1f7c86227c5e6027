"""Naming a meeting by its stream id."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assistant.models import Meeting
from assistant.services.naming import set_topic_for_stream

pytestmark = pytest.mark.django_db


def test_meeting_of_the_stream_gets_the_topic(make_meeting: Callable[..., Meeting]) -> None:
    meeting = make_meeting(rtms_stream_id="s-named", topic="")
    assert set_topic_for_stream("s-named", "Quarterly planning")
    assert Meeting.objects.get(pk=meeting.pk).topic == "Quarterly planning"


def test_stream_without_a_meeting_yet_names_nothing(make_meeting: Callable[..., Meeting]) -> None:
    other = make_meeting(topic="Unchanged")
    assert not set_topic_for_stream("s-not-yet", "Quarterly planning")
    assert Meeting.objects.get(pk=other.pk).topic == "Unchanged"
