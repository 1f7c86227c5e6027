"""Live events as stored in the outbox: exactly the keys and value types events.py declares."""

from __future__ import annotations

import re
import time
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest
from django.test import override_settings

from assistant import events
from assistant.models import ChatMessage, LiveEvent, Meeting, Slide
from assistant.services import live, meetings, participants, slides, speech, streaming
from assistant.services.chat import record_chat
from assistant.services.transcript import (
    Recognised,
    SegmentInput,
    record_recognition,
    record_segment,
)
from assistant.speech_audio import audio_store

pytestmark = pytest.mark.django_db

MakeMeeting = Callable[..., Meeting]

SHAPES: dict[str, type[Mapping[str, object]]] = {
    events.SEGMENT: events.SegmentPayload,
    events.PARTICIPANT: events.ParticipantPayload,
    events.CHAT: events.ChatPayload,
    events.STATE: events.StatePayload,
    events.NOTES: events.NotesPayload,
    events.CAPTIONS: events.CaptionsPayload,
    events.SLIDE: events.SlidePayload,
}


def _declared_shape(payload: Mapping[str, Any]) -> type[Mapping[str, object]]:
    """The TypedDict a stored payload must match: by its type, and GapPayload for a gap."""
    if payload["type"] == events.STATE and payload["state"] == events.GAP:
        return events.GapPayload
    return SHAPES[payload["type"]]


def _conforms(value: object, hint: object) -> bool:
    """Whether a JSON value fits a TypedDict field's type (the few kinds events.py uses)."""
    if get_origin(hint) is Literal:
        return value in get_args(hint)
    if get_origin(hint) in (Union, types.UnionType):
        return any(_conforms(value, arg) for arg in get_args(hint))
    if hint is type(None):
        return value is None
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(hint, type) and isinstance(value, hint)


def _mismatches(payload: Mapping[str, Any]) -> list[str]:
    """How a payload differs from its declared TypedDict; empty when it matches."""
    shape = _declared_shape(payload)
    required: frozenset[str] = shape.__required_keys__  # type: ignore[attr-defined]
    optional: frozenset[str] = shape.__optional_keys__  # type: ignore[attr-defined]
    problems = [f"missing {key}" for key in sorted(required - set(payload))]
    problems += [f"undeclared {key}" for key in sorted(set(payload) - required - optional)]
    hints = get_type_hints(shape)
    problems += [
        f"{key}={value!r} is not {hints[key]}"
        for key, value in payload.items()
        if key in hints and not _conforms(value, hints[key])
    ]
    return problems


def _every_kind_of_event(meeting_id: int) -> None:
    """Publish one event of each kind the services produce."""
    meetings.set_state(meeting_id, Meeting.State.LIVE)
    record_segment(meeting_id, SegmentInput("native", 7, "Ana Lima", 1000, 1900, "Hello.", "en"))
    record_segment(meeting_id, SegmentInput("native", None, "", 2000, 2100, "Unknown."))
    record_chat(meeting_id, 7, "Ana Lima", 1500, "the link")
    record_chat(meeting_id, None, "", 1600, "from nobody we know")
    participants.record_join(meeting_id, 8, "Ben Ode", 1600)
    participants.record_active_speaker(meeting_id, 8, "", None)
    participants.record_leave(meeting_id, 8, None, 2400)
    meetings.record_gap(meeting_id, "socket dropped")
    meetings.record_gap(meeting_id, "frames dropped", from_ms=1000, to_ms=1200, frames_lost=40)
    draft = Recognised(7, "Ana Lima", 3000, 3000, 4000, "we ship on", "en", 0, False, 1)
    record_recognition(meeting_id, draft)
    late = speech.UtteranceJob(meeting_id, 7, "Ana Lima", 0, 0, 900, 0, True, time.time() - 9)
    with override_settings(JOBS_IN_PROCESS=True):  # this process's store: a fresh flag
        streaming.final_stored(audio_store(), late)
    slide = Slide.objects.create(
        meeting_id=meeting_id,
        seq=0,
        shown_at_ms=2500,
        sharer_user_id=None,
        image_name="slide-1.png",
        thumbnail_name="slide-1-thumb.jpg",
        content_type="image/png",
        width=4,
        height=3,
        picture_hash="0" * 16,
    )
    live.append(meeting_id, lambda seq: slides.slide_payload(slide, seq))
    meetings.set_state(meeting_id, Meeting.State.ENDED, detail="meeting ended", reason=6)


def test_every_event_type_has_one_declared_payload() -> None:
    declared = {
        get_args(get_type_hints(shape)["type"])[0] for shape in get_args(events.LivePayload)
    }
    assert declared == set(events.EVENT_TYPES)
    assert set(SHAPES) == set(events.EVENT_TYPES)


def test_stored_events_have_exactly_the_declared_keys(make_meeting: MakeMeeting) -> None:
    meeting = make_meeting()
    _every_kind_of_event(meeting.pk)
    stored = list(LiveEvent.objects.filter(meeting=meeting).order_by("seq"))
    # Nothing in the app produces notes yet; every other type must have been checked here.
    assert {e.type for e in stored} == set(events.EVENT_TYPES) - {events.NOTES}
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    for event in stored:
        assert _mismatches(event.payload) == [], event.payload
        assert (event.payload["type"], event.payload["seq"]) == (event.type, event.seq)


def test_state_events_name_meeting_states(make_meeting: MakeMeeting) -> None:
    meeting = make_meeting()
    _every_kind_of_event(meeting.pk)
    states = LiveEvent.objects.filter(meeting=meeting, type=events.STATE).order_by("seq")
    names = [(e.payload["state"], e.payload.get("current")) for e in states]
    assert names == [
        (Meeting.State.LIVE, None),
        (events.GAP, Meeting.State.LIVE),
        (events.GAP, Meeting.State.LIVE),
        (Meeting.State.ENDED, None),
    ]


def test_a_gap_carries_the_meetings_state_at_the_time(make_meeting: MakeMeeting) -> None:
    meeting = make_meeting()
    meetings.set_state(meeting.pk, Meeting.State.RECONNECTING, detail="socket closed")
    meetings.record_gap(meeting.pk, "audio lost for 4 s")
    gap = LiveEvent.objects.filter(meeting=meeting).order_by("seq").last()
    assert gap is not None
    assert gap.payload == {
        "type": events.STATE,
        "seq": 2,
        "state": events.GAP,
        "detail": "audio lost for 4 s",
        "stop_reason": None,
        "current": Meeting.State.RECONNECTING,
        "from_ms": None,
        "to_ms": None,
        "frames_lost": None,
    }


def test_a_gap_carries_its_stream_clock_range_and_frames_lost(make_meeting: MakeMeeting) -> None:
    meeting = make_meeting()
    meetings.set_state(meeting.pk, Meeting.State.LIVE)
    meetings.record_gap(
        meeting.pk, "audio: 12 frames dropped", from_ms=61_000, to_ms=61_240, frames_lost=12
    )
    gap = LiveEvent.objects.filter(meeting=meeting).order_by("seq").last()
    assert gap is not None
    assert _mismatches(gap.payload) == []
    assert (gap.payload["from_ms"], gap.payload["to_ms"], gap.payload["frames_lost"]) == (
        61_000,
        61_240,
        12,
    )


def test_a_row_published_with_another_seq_is_refused(make_meeting: MakeMeeting) -> None:
    meeting = make_meeting()

    def create(seq: int) -> ChatMessage:
        return ChatMessage.objects.create(
            meeting=meeting, seq=seq, sender_name="Ana", sent_at_ms=0, text="hi", dedupe_key="k"
        )

    def stale(row: ChatMessage) -> events.ChatPayload:
        return {
            "type": events.CHAT,
            "seq": row.seq + 1,
            "id": row.pk,
            "user_id": None,
            "sender": row.sender_name,
            "at_ms": row.sent_at_ms,
            "text": row.text,
        }

    with pytest.raises(ValueError, match="seq"):
        live.publish_new_row(meeting.pk, create, stale)
    assert not LiveEvent.objects.filter(meeting=meeting).exists()
    assert not ChatMessage.objects.filter(meeting=meeting).exists()


def test_the_live_page_takes_every_event_type() -> None:
    """live-socket.js drops events of a type it does not list: it must list them all."""
    script = (Path(__file__).resolve().parents[2] / "static/js/live-socket.js").read_text()
    listed = re.search(r"EVENT_TYPES = new Set\(\[(.*?)\]\)", script, re.S)
    assert listed is not None
    assert set(re.findall(r'"(\w+)"', listed.group(1))) == set(events.EVENT_TYPES)
