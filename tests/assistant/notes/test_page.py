"""The Notes pane on the meeting page: data as JSON (no inline code), edit rights, the label."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from assistant.models import Meeting
from assistant.services.notes import updates
from tests.assistant.notes.conftest import PlaySample
from tests.assistant.zoomapp.contexts import panel_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _extractive(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""


def _page(user: User, meeting: Meeting) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/meetings/{meeting.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _notes_data(html: str) -> object:
    match = re.search(r'<script id="notes-data" type="application/json">(.*?)</script>', html)
    assert match is not None
    return json.loads(match.group(1))


def test_a_finished_meetings_page_carries_its_final_notes(
    play_sample: PlaySample, host: User
) -> None:
    meeting = play_sample()
    Meeting.objects.filter(pk=meeting.pk).update(state=Meeting.State.ENDED)
    updates.finish(meeting.pk)
    html = _page(host, meeting)
    data = _notes_data(html)
    assert isinstance(data, dict)
    assert data["final"] is True and data["engine"] == "extractive"
    assert len(data["action_items"]) == 6
    assert 'data-can-edit="true"' in html
    assert 'src="/static/js/notes-pane.js"' in html
    # No inline code: every <script> either loads a file or carries JSON data.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag


def test_staff_who_do_not_host_may_edit_and_the_page_says_so(
    play_sample: PlaySample, admin_user: User
) -> None:
    meeting = play_sample()
    assert 'data-can-edit="true"' in _page(admin_user, meeting)


def test_a_live_meeting_before_any_notes_has_an_empty_pane(
    play_sample: PlaySample, host: User
) -> None:
    meeting = play_sample(limit=0)
    html = _page(host, meeting)
    assert _notes_data(html) is None
    assert "Notes appear here once enough has been said." in html


def test_a_live_meeting_keeps_its_captions_first_and_the_notes_below(
    play_sample: PlaySample, host: User
) -> None:
    html = _page(host, play_sample(limit=3))
    assert html.index('class="pane pane-captions"') < html.index('data-role="ai-notes"')


def test_the_host_is_offered_to_add_an_action_item_and_others_are_not(
    play_sample: PlaySample, host: User, coworker: User
) -> None:
    meeting = play_sample()
    updates.update(meeting.pk)
    html = _page(host, meeting)
    assert 'data-role="notes-add-action"' in html
    assert f'data-add-item-url="/api/meetings/{meeting.pk}/action-items/"' in html
    assert 'data-decision-url="/api/decisions/0/"' in html
    client = panel_client(mid=meeting.zoom_id, uid="zoom-part-1")
    client.force_login(coworker)
    html = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert 'data-can-edit="false"' in html and 'data-role="notes-add-action"' not in html
