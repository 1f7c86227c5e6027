"""Every Zoom stop reason (0-26) reads as a sentence to the host, live and once finished."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from assistant.models import Meeting
from assistant.services import meetings
from assistant.views import stop_reasons
from rtms_ingest.protocol.enums import StopReason
from tests.assistant.test_page_states import _embedded_names, _page

MakeMeeting = Callable[..., Meeting]


def test_every_stop_reason_of_the_protocol_has_its_own_sentence() -> None:
    assert sorted(stop_reasons.SENTENCES) == [int(reason) for reason in StopReason]
    assert list(StopReason)[-1] == 26
    texts = list(stop_reasons.SENTENCES.values())
    assert len(set(texts)) == len(texts), "two reasons read the same"
    for reason in StopReason:
        text = stop_reasons.sentence(int(reason))
        assert text.endswith(".") and text[0].isupper(), text
        # Words, not Zoom's constant: no MEETING_ENDED, no bare number.
        assert reason.name not in text and str(int(reason)) not in text, text


@pytest.mark.parametrize("code", [27, 99, -1])
def test_an_unknown_stop_reason_reads_generically_with_its_number(code: int) -> None:
    assert stop_reasons.sentence(code) == f"Zoom stopped the stream (reason {code})."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "reason", "text"),
    [
        (Meeting.State.ENDED, 24, "keep-alive checks were missed three times"),
        (Meeting.State.ENDED, 6, "The meeting ended."),
        (Meeting.State.FAILED, 18, "could not verify this app&#x27;s credentials"),
        (Meeting.State.ENDED, 42, "Zoom stopped the stream (reason 42)."),
    ],
)
def test_a_finished_meetings_page_says_why_its_stream_stopped(
    state: Meeting.State, reason: int, text: str, make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE)
    meetings.finish_if_open(meeting.pk, state, detail="stream terminated", reason=reason)
    html = _page(Meeting.objects.get(pk=meeting.pk), host)
    assert 'data-role="stop-reason"' in html
    assert text in html


@pytest.mark.django_db
def test_a_meeting_ended_without_a_reason_shows_none(make_meeting: MakeMeeting, host: User) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE)
    meetings.finish_if_open(meeting.pk, Meeting.State.ENDED, detail="", reason=None)
    assert 'data-role="stop-reason"' not in _page(Meeting.objects.get(pk=meeting.pk), host)


@pytest.mark.django_db
def test_the_live_page_carries_every_sentence_for_its_script(
    make_meeting: MakeMeeting, host: User
) -> None:
    names = _embedded_names(_page(make_meeting(owner=host, state=Meeting.State.LIVE), host))
    assert names["stop_reasons"] == {
        str(code): text for code, text in stop_reasons.SENTENCES.items()
    }
    assert names["stop_reason_unknown"].replace("{code}", "99") == stop_reasons.sentence(99)
