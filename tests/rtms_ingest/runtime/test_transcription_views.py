"""A host or staff chooses whose transcript a meeting gets; a live stream is told to follow."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from assistant.models import Meeting
from rtms_ingest.cluster.commands import StreamCommand
from tests.rtms_ingest.runtime.choice_requests import put_choice, signed_in

pytestmark = pytest.mark.django_db

MakeMeeting = Callable[..., Meeting]


def put(client: Client, meeting: Meeting, body: object) -> tuple[int, dict[str, object]]:
    return put_choice(client, "api-meeting-transcription", meeting, body)


def test_the_host_switches_a_live_meeting_to_our_captions_and_the_stream_is_told(
    host: User, make_meeting: MakeMeeting, queued: Callable[[], list[StreamCommand]]
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE)
    status, body = put(signed_in(host), meeting, {"transcription": "asr"})
    assert (status, body) == (
        200,
        {"transcription": "asr", "effective": "asr", "record_audio": None, "recording": False},
    )
    assert Meeting.objects.get(pk=meeting.pk).transcription == "asr"
    [command] = queued()
    assert (command.action, command.rtms_stream_id) == ("reconfigure", meeting.rtms_stream_id)


def test_back_to_the_server_default(
    host: User, make_meeting: MakeMeeting, queued: Callable[[], list[StreamCommand]]
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.ENDED, transcription="asr")
    status, body = put(signed_in(host), meeting, {"transcription": ""})
    assert (status, body["transcription"], body["effective"]) == (200, "", settings.TRANSCRIPTION)
    assert queued() == [], "an ended meeting has no stream to tell"


def test_someone_elses_meeting_is_not_found(
    coworker: User, host: User, make_meeting: MakeMeeting
) -> None:
    meeting = make_meeting(owner=host)
    assert put(signed_in(coworker), meeting, {"transcription": "asr"})[0] == 404
    assert Meeting.objects.get(pk=meeting.pk).transcription == ""


def test_anonymous_callers_are_refused(make_meeting: MakeMeeting) -> None:
    assert put(Client(), make_meeting(), {"transcription": "asr"})[0] == 401


def test_a_cross_site_request_without_the_csrf_token_is_refused(
    host: User, make_meeting: MakeMeeting
) -> None:
    meeting = make_meeting(owner=host)
    url = reverse("api-meeting-transcription", args=[meeting.pk])
    response = signed_in(host, csrf=True).put(
        url, json.dumps({"transcription": "asr"}), content_type="application/json"
    )
    assert response.status_code == 403
    assert Meeting.objects.get(pk=meeting.pk).transcription == ""


def test_the_host_turns_recording_on_and_keeps_the_transcript_choice(
    host: User, make_meeting: MakeMeeting, queued: Callable[[], list[StreamCommand]]
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE, transcription="both")
    status, body = put(signed_in(host), meeting, {"record_audio": True})
    assert (status, body["record_audio"], body["recording"]) == (200, True, True)
    assert (body["transcription"], body["effective"]) == ("both", "both")
    assert Meeting.objects.get(pk=meeting.pk).record_audio is True
    [command] = queued()  # the stream now asks Zoom for audio if it did not
    assert command.action == "reconfigure"
    status, body = put(signed_in(host), meeting, {"record_audio": None})
    assert (status, body["record_audio"], body["recording"]) == (200, None, settings.RECORD_AUDIO)


@pytest.mark.parametrize(
    "body",
    [
        {"transcription": "whisper"},
        {"mode": "asr"},
        ["asr"],
        {"record_audio": "yes", "transcription": "asr"},
    ],
)
def test_a_bad_choice_is_a_400_that_names_the_choices(
    host: User, make_meeting: MakeMeeting, body: object
) -> None:
    meeting = make_meeting(owner=host)
    status, answer = put(signed_in(host), meeting, body)
    assert status == 400 and ("asr" in str(answer["error"]) or "true" in str(answer["error"]))
    unchanged = Meeting.objects.get(pk=meeting.pk)
    assert (unchanged.transcription, unchanged.record_audio) == ("", None)


def test_the_live_page_offers_the_choice_with_its_csrf_token(
    host: User, make_meeting: MakeMeeting
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE)
    html = signed_in(host).get(reverse("meeting-detail", args=[meeting.pk])).content.decode()
    assert 'data-role="transcription-choice"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert reverse("api-meeting-transcription", args=[meeting.pk]) in html
