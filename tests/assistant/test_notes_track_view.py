"""The host chooses a meeting's notes track: the endpoint's rules and what the page offers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.models import ChatMessage, Meeting, MeetingNotes, TranscriptSegment
from tests.assistant.zoomapp.contexts import panel_client

pytestmark = pytest.mark.django_db(transaction=True)

MakeMeeting = Callable[..., Meeting]


@pytest.fixture(autouse=True)
def _extractive_in_process(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""
    settings.JOBS_IN_PROCESS = True


def _signed_in(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def _put(client: Client, meeting: Meeting, body: object) -> tuple[int, dict[str, object]]:
    url = reverse("api-meeting-notes-track", args=[meeting.pk])
    response = client.put(url, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def finished(make_meeting: MakeMeeting, host: User) -> Meeting:
    """An ended meeting of the host with both tracks: Zoom's says Tomás, ours to Mars."""
    meeting = make_meeting(
        owner=host, state=Meeting.State.ENDED, transcription="both", zoom_id="the+meeting=="
    )
    lines = {
        "native": "Tomás, please write the release notes by Wednesday.",
        "asr": "to Mars, please write the release notes by Wednesday.",
    }
    for n, (source, text) in enumerate(lines.items()):
        TranscriptSegment.objects.create(
            meeting=meeting,
            seq=n + 1,
            source=source,
            speaker_name="Priya Raman",
            start_ms=1000,
            end_ms=4000,
            text=text,
            dedupe_key=source,
        )
    ChatMessage.objects.create(
        meeting=meeting, seq=3, sender_name="Zoë", sent_at_ms=2000, text="PR #482", dedupe_key="c"
    )
    return meeting


def test_the_host_switches_a_finished_meeting_and_its_notes_are_rebuilt(
    finished: Meeting, host: User
) -> None:
    status, body = _put(_signed_in(host), finished, {"notes_track": "asr"})
    assert (status, body["notes_track"], body["primary"], body["rebuilding"]) == (
        200,
        "asr",
        "asr",
        True,
    )
    assert body["message"] == (
        "Rebuilding the notes from our captions: reload in a minute to see them."
    )
    jobs.shutdown()
    notes = MeetingNotes.objects.get(meeting=finished)
    assert notes.track == "asr" and notes.is_final and "to Mars" in notes.summary


def test_back_to_the_setting(finished: Meeting, host: User) -> None:
    Meeting.objects.filter(pk=finished.pk).update(notes_track="asr")
    status, body = _put(_signed_in(host), finished, {"notes_track": ""})
    assert (status, body["notes_track"], body["primary"]) == (200, "", "native")
    jobs.shutdown()
    assert "Tomás" in MeetingNotes.objects.get(meeting=finished).summary


def test_anonymous_callers_are_refused(finished: Meeting) -> None:
    assert _put(Client(), finished, {"notes_track": "asr"})[0] == 401


def test_someone_elses_meeting_is_not_found(finished: Meeting, outsider: User) -> None:
    assert _put(_signed_in(outsider), finished, {"notes_track": "asr"})[0] == 404
    assert Meeting.objects.get(pk=finished.pk).notes_track == ""


def test_a_participant_who_may_see_the_meeting_may_not_choose(
    finished: Meeting, outsider: User
) -> None:
    client = panel_client(mid=finished.zoom_id, uid="zoom-part-1")
    client.force_login(outsider)
    assert _put(client, finished, {"notes_track": "asr"})[0] == 403
    assert Meeting.objects.get(pk=finished.pk).notes_track == ""


def test_a_request_without_the_csrf_token_is_refused(finished: Meeting, host: User) -> None:
    url = reverse("api-meeting-notes-track", args=[finished.pk])
    response = _signed_in(host, csrf=True).put(
        url, json.dumps({"notes_track": "asr"}), content_type="application/json"
    )
    assert response.status_code == 403
    assert Meeting.objects.get(pk=finished.pk).notes_track == ""


@pytest.mark.parametrize(
    "body", [{"notes_track": "both"}, {"track": "asr"}, ["asr"], {"notes_track": None}]
)
def test_a_bad_choice_is_a_400_that_names_the_choices(
    finished: Meeting, host: User, body: object
) -> None:
    status, answer = _put(_signed_in(host), finished, body)
    assert status == 400 and "native" in str(answer["error"])
    assert Meeting.objects.get(pk=finished.pk).notes_track == ""


def test_only_put_is_allowed(finished: Meeting, host: User) -> None:
    response = _signed_in(host).get(reverse("api-meeting-notes-track", args=[finished.pk]))
    assert (response.status_code, response["Allow"]) == (405, "PUT")


def _page(client: Client, meeting: Meeting) -> str:
    response = client.get(reverse("meeting-detail", args=[meeting.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_finished_page_shows_zoom_s_track_first_and_counts_what_it_shows(
    finished: Meeting, host: User
) -> None:
    html = _page(_signed_in(host), finished)
    assert 'data-role="captions" data-track="native"' in html
    assert re.search(r'data-role="caption-count">1<', html), "one line of the shown track"
    assert 'data-track="asr" aria-pressed="false"' in html  # the other is a click away
    assert f'id="chat-{finished.chat_messages.get().pk}"' in html


def test_the_host_is_offered_the_choice_with_what_it_does(finished: Meeting, host: User) -> None:
    html = _page(_signed_in(host), finished)
    url = reverse("api-meeting-notes-track", args=[finished.pk])
    assert f'name="notes_track" data-url="{url}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Changing “Notes from” rebuilds the notes." in html
    assert 'src="/static/js/transcription-choice.js"' in html
    assert 'name="transcription"' not in html, "the transcript itself is chosen while live"


def test_a_live_page_says_the_meeting_is_read_again(make_meeting: MakeMeeting, host: User) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE, transcription="both")
    html = _page(_signed_in(host), meeting)
    assert 'name="notes_track"' in html and 'name="transcription"' in html
    assert "Changing “Notes from” reads the meeting again from the start." in html
    assert 'data-role="captions" data-track="native"' in html


def test_a_viewer_who_is_not_the_host_is_not_offered_the_choice(
    finished: Meeting, outsider: User
) -> None:
    client = panel_client(mid=finished.zoom_id, uid="zoom-part-1")
    client.force_login(outsider)
    html = _page(client, finished)
    assert 'name="notes_track"' not in html
    assert "transcription-choice.js" not in html


def test_a_meeting_with_one_track_offers_no_choice_of_track(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.ENDED, transcription="native")
    TranscriptSegment.objects.create(
        meeting=meeting, seq=1, source="native", start_ms=0, end_ms=1, text="hi", dedupe_key="k"
    )
    html = _page(_signed_in(host), meeting)
    assert 'name="notes_track"' not in html and "transcription-choice.js" not in html
    live = make_meeting(owner=host, state=Meeting.State.LIVE, transcription="native")
    html = _page(_signed_in(host), live)
    assert 'name="transcription"' in html and 'name="notes_track"' not in html
