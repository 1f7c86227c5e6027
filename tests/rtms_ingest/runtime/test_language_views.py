"""The host chooses the language a meeting is spoken in; a live stream asks Zoom for it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from assistant.models import Meeting
from rtms_ingest.cluster.commands import StreamCommand
from tests.assistant.zoomapp.contexts import panel_client
from tests.rtms_ingest.runtime.choice_requests import put_choice, signed_in

pytestmark = pytest.mark.django_db

MakeMeeting = Callable[..., Meeting]


def put(client: Client, meeting: Meeting, body: object) -> tuple[int, dict[str, object]]:
    return put_choice(client, "api-meeting-language", meeting, body)


def test_the_host_chooses_spanish_for_a_live_meeting_and_the_stream_is_told(
    host: User, make_meeting: MakeMeeting, queued: Callable[[], list[StreamCommand]]
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE, asr_language="en")
    status, body = put(signed_in(host), meeting, {"language": 28})
    assert (status, body["language"], body["effective"], body["effective_name"]) == (
        200,
        28,
        28,
        "Spanish",
    )
    stored = Meeting.objects.get(pk=meeting.pk)
    assert (stored.language, stored.asr_language) == (28, "")  # detection starts over
    [command] = queued()
    assert (command.action, command.rtms_stream_id) == ("reconfigure", meeting.rtms_stream_id)


@pytest.mark.parametrize(
    ("choice", "stored"), [("auto", -1), ("FRENCH_CANADA", 12), ("9", 9), ("", None), (None, None)]
)
def test_a_choice_may_be_auto_an_id_a_name_or_the_default(
    host: User, make_meeting: MakeMeeting, choice: object, stored: int | None
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.ENDED, language=20)
    assert put(signed_in(host), meeting, {"language": choice})[0] == 200
    assert Meeting.objects.get(pk=meeting.pk).language == stored


def test_the_default_follows_meeting_language(
    host: User, make_meeting: MakeMeeting, settings: Settings
) -> None:
    settings.MEETING_LANGUAGE = 14
    status, body = put(signed_in(host), make_meeting(owner=host), {"language": ""})
    assert (status, body["language"], body["effective_name"]) == (200, None, "German")


@pytest.mark.parametrize("body", [{"language": 37}, {"language": "klingon"}, {"lang": 9}, [9]])
def test_a_bad_choice_is_a_400_and_changes_nothing(
    host: User, make_meeting: MakeMeeting, body: object
) -> None:
    meeting = make_meeting(owner=host)
    status, answer = put(signed_in(host), meeting, body)
    assert status == 400 and "auto" in str(answer["error"])
    assert Meeting.objects.get(pk=meeting.pk).language is None


def test_a_participant_who_may_see_the_meeting_may_not_choose(
    host: User, outsider: User, make_meeting: MakeMeeting
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE)
    client = panel_client(mid=meeting.zoom_id, uid="zoom-part-1")
    client.force_login(outsider)
    status, body = put(client, meeting, {"language": 28})
    assert (status, body["error"]) == (403, "Only the meeting's host may choose its language.")
    assert Meeting.objects.get(pk=meeting.pk).language is None


def test_someone_elses_meeting_is_not_found(
    host: User, outsider: User, make_meeting: MakeMeeting
) -> None:
    meeting = make_meeting(owner=host)
    assert put(signed_in(outsider), meeting, {"language": 28})[0] == 404


def test_a_request_without_the_csrf_token_is_refused(host: User, make_meeting: MakeMeeting) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE)
    url = reverse("api-meeting-language", args=[meeting.pk])
    response = signed_in(host, csrf=True).put(
        url, json.dumps({"language": 28}), content_type="application/json"
    )
    assert response.status_code == 403
    assert Meeting.objects.get(pk=meeting.pk).language is None


def test_the_live_page_offers_the_host_the_choice(host: User, make_meeting: MakeMeeting) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE, language=12)
    html = signed_in(host).get(reverse("meeting-detail", args=[meeting.pk])).content.decode()
    assert reverse("api-meeting-language", args=[meeting.pk]) in html
    assert '<option value="12" selected>French (Canada)</option>' in html
    assert 'id="language-names"' in html
    assert 'data-language="fr-CA"' in html  # segments in French need no label


def test_an_english_only_model_with_another_language_says_so(
    host: User, make_meeting: MakeMeeting, settings: Settings
) -> None:
    settings.WHISPER_MODEL = "tiny.en"
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE, transcription="both", language=28)
    html = signed_in(host).get(reverse("meeting-detail", args=[meeting.pk])).content.decode()
    assert "understands English only: its captions of Spanish speech are not a transcript" in html
    status, body = put(signed_in(host), meeting, {"language": 9})
    assert (status, body["asr_caveat"]) == (200, "")
