"""The panel once its meeting is over shows it as the finished meeting page does; host controls
show to hosts only and grant nothing."""

from __future__ import annotations

import html
import json
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from assistant.models import ConnectionLogEntry, Meeting
from tests.assistant.zoomapp.contexts import HOME, make_context, panel_client
from tests.assistant.zoomapp.finished_meeting import (
    ACTION,
    CHAT_URL,
    CITED_TEXT,
    LEFT,
    STAYED,
    SUMMARY,
    finished_meeting,
)

MakeMeeting = Callable[..., Meeting]
PANEL = "/zoomapp/panel"
ZOOM_ID = "mEeTiNg+uuid/1=="  # the meeting the default context names


def _panel(path: str = PANEL, **context: str) -> str:
    response = panel_client(**context).get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_ended_meeting_shows_its_stored_panes_and_no_live_connection(db: None) -> None:
    found = finished_meeting(ZOOM_ID)
    page = _panel()
    assert f'id="seg-{found.cited.pk}"' in page
    assert CITED_TEXT in page
    assert STAYED in page and "Until the end" in page
    assert LEFT in page and "Left at 13:00" in page
    assert "Staging dashboard" in page
    assert ACTION in page and SUMMARY in page  # the notes pane's data (notes-pane.js)
    assert 'data-clock-origin="0"' in page
    for live_only in (
        "Connecting…",
        "Captions appear here as people speak.",
        "Nobody has joined yet.",
        "/static/js/live-meeting.js",
        'id="state-names"',
    ):
        assert live_only not in page, live_only
    assert 'data-live="false"' in page
    assert '<span class="badge badge-ended" data-role="state-badge">Ended</span>' in page


def test_failed_meeting_says_why_as_the_dashboard_does(db: None) -> None:
    found = finished_meeting(ZOOM_ID, state=Meeting.State.FAILED)
    ConnectionLogEntry.objects.create(
        meeting=found.meeting, kind=ConnectionLogEntry.Kind.STOP, detail="signaling refused"
    )
    page = _panel()
    assert "Stream failed: signaling refused" in page
    assert "Connecting…" not in page


def test_panel_opens_the_transcript_part_that_holds_a_moment(db: None) -> None:
    # A minute a line for an hour: four parts of 15 minutes; line 47 is in the fourth.
    found = finished_meeting(ZOOM_ID, lines=60, step_ms=60_000, cited_line=47)
    first_part = _panel()
    assert f'id="seg-{found.cited.pk}"' not in first_part
    assert 'href="?part=2"' in first_part  # the parts' links stay in the panel
    at_moment = _panel(f"{PANEL}?at={found.cited.pk}")
    assert f'id="seg-{found.cited.pk}"' in at_moment
    assert '<span aria-current="page" class="part-current">45:00' in at_moment


def test_live_meeting_keeps_the_live_form(make_meeting: MakeMeeting) -> None:
    make_meeting(state=Meeting.State.LIVE, zoom_id=ZOOM_ID)
    page = _panel()
    assert 'data-live="true"' in page
    assert "Connecting…" in page
    assert "/static/js/live-meeting.js" in page
    assert "data-clock-origin" not in page


def test_chat_urls_are_links_and_the_rest_is_escaped_text(db: None) -> None:
    finished_meeting(ZOOM_ID)
    page = _panel()
    line = page.split('<p class="chat-text">')[1].split("</p>")[0]
    link = (
        f'<a class="chat-link" href="{html.escape(CHAT_URL)}" target="_blank" '
        'rel="noopener noreferrer nofollow">'
    )
    assert line.startswith(f"Staging dashboard: {link}https://<wbr>grafana.example.com/<wbr>d/")
    assert "</a>. &lt;b&gt;not bold&lt;/b&gt; javascript:alert(1)" in line
    assert line.count("<a ") == 1


# --- Host controls: to a host only, and never a power the viewer lacks ----------------------


def _signed_in_panel(user: User, role: str) -> Client:
    client = Client()
    client.force_login(user)
    response = client.get(HOME, HTTP_X_ZOOM_APP_CONTEXT=make_context(attendrole=role))
    assert response.status_code == 302
    return client


@pytest.fixture
def live_meeting(make_meeting: MakeMeeting, host: User) -> Meeting:
    # The host fixture's Zoom account started the stream: they host it here too.
    return make_meeting(state=Meeting.State.LIVE, zoom_id=ZOOM_ID, operator_id="zoom-host-1")


def test_signed_in_host_gets_the_choice_of_transcript(live_meeting: Meeting, host: User) -> None:
    page = _signed_in_panel(host, "host").get(PANEL).content.decode()
    assert 'data-role="rtms-controls"' in page
    assert 'data-role="transcription-choice"' in page
    assert "/static/js/transcription-choice.js" in page


@pytest.mark.parametrize("role", ["participant", "attendee"])
def test_meeting_host_opening_as_a_participant_sees_a_participants_panel(
    live_meeting: Meeting, host: User, role: str
) -> None:
    page = _signed_in_panel(host, role).get(PANEL).content.decode()
    assert 'data-role="rtms-controls"' not in page
    assert 'data-role="transcription-choice"' not in page


def test_zoom_host_not_signed_in_here_gets_no_choice_of_transcript(live_meeting: Meeting) -> None:
    client = panel_client(attendrole="host")
    page = client.get(PANEL).content.decode()
    assert 'data-role="rtms-controls"' in page  # Zoom's own RTMS calls: Zoom checks the role
    assert 'data-role="transcription-choice"' not in page
    url = f"/api/meetings/{live_meeting.pk}/transcription/"
    body = json.dumps({"transcription": "asr"})
    assert client.put(url, body, content_type="application/json").status_code == 401


def test_zoom_host_signed_in_as_someone_else_gets_no_choice_of_transcript(
    live_meeting: Meeting, coworker: User
) -> None:
    page = _signed_in_panel(coworker, "host").get(PANEL).content.decode()
    assert 'data-role="transcription-choice"' not in page


def test_finished_meeting_offers_no_choice_of_transcript(host: User) -> None:
    finished_meeting(ZOOM_ID, operator_id="zoom-host-1")
    page = _signed_in_panel(host, "host").get(PANEL).content.decode()
    assert 'data-role="transcription-choice"' not in page
