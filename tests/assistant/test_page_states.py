"""The live page takes its state names from Python (Meeting.State, events.GAP), not its script."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from assistant import events
from assistant.models import Meeting
from assistant.services import meetings
from assistant.views import presenters

MakeMeeting = Callable[..., Meeting]

LIVE_SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "live-meeting.js"
STATE_NAMES = re.compile(r'<script id="state-names" type="application/json">(.*?)</script>', re.S)
# Names that are also LiveSocket statuses (live-socket.js), which the script may spell.
SOCKET_STATUSES = {"connecting", "live", "reconnecting", "ended"}


def _page(meeting: Meeting, user: User) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("meeting-detail", args=[meeting.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _embedded_names(html: str) -> Any:
    found = STATE_NAMES.search(html)
    assert found is not None, "the live page embeds no state names"
    return json.loads(found.group(1))


def test_live_page_embeds_every_meeting_state_with_its_badge(
    make_meeting: MakeMeeting, host: User
) -> None:
    names = _embedded_names(_page(make_meeting(owner=host, state=Meeting.State.LIVE), host))
    assert list(names["meeting"]) == list(Meeting.State.values)
    for state in Meeting.State:
        assert state in presenters.BADGE_CLASSES, f"{state} has no badge of its own"
        assert names["meeting"][state] == {
            "label": state.label,
            "badge": presenters.BADGE_CLASSES[state],
            "finished": not Meeting(state=state).is_live,
        }
    assert [s for s, shown in names["meeting"].items() if shown["finished"]] == ["ended", "failed"]


def test_live_page_embeds_the_gap_name_and_a_stream_text_for_every_state(
    make_meeting: MakeMeeting, host: User
) -> None:
    names = _embedded_names(_page(make_meeting(owner=host, state=Meeting.State.LIVE), host))
    assert names["gap"] == events.GAP == "gap"
    assert set(names["stream"]) == {*Meeting.State.values, events.GAP}
    assert all(text.startswith("Stream: ") for text in names["stream"].values())


@pytest.mark.parametrize("state", [Meeting.State.PENDING, Meeting.State.RECONNECTING])
def test_live_page_starts_with_the_stream_text_the_script_would_show(
    state: Meeting.State, make_meeting: MakeMeeting, host: User
) -> None:
    html = _page(make_meeting(owner=host, state=state), host)
    text = _embedded_names(html)["stream"][state]
    assert f'<span class="status-item" data-role="stream-state">{text}</span>' in html


def test_finished_page_embeds_no_state_names(make_meeting: MakeMeeting, host: User) -> None:
    html = _page(make_meeting(owner=host, state=Meeting.State.FAILED), host)
    assert STATE_NAMES.search(html) is None
    assert "live-meeting.js" not in html  # no live socket either


def test_live_script_spells_no_state_names_of_its_own() -> None:
    # Comments may name states (the JSDoc of the embedded names does); code may not.
    source = re.sub(r"/\*[\s\S]*?\*/|^\s*//.*$", "", LIVE_SCRIPT.read_text(), flags=re.M)
    own_names = {*Meeting.State.values, events.GAP} - SOCKET_STATUSES
    for name in sorted(own_names):
        assert not re.search(rf"[\"'`]{name}[\"'`]|\b{name}\s*:", source), name
    assert "state-names" in source


def test_a_failed_meetings_page_says_why_its_stream_failed(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = make_meeting(owner=host, state=Meeting.State.LIVE)
    why = "refused ws://10.0.0.5: not an allowed RTMS host (RTMS_ALLOWED_HOSTS)"
    meetings.fail_if_open(meeting.pk, f"{why}; the stream was not joined")
    assert f"Stream failed: {why}" in _page(Meeting.objects.get(pk=meeting.pk), host)


def test_the_live_page_knows_the_failed_state_by_the_servers_name(
    make_meeting: MakeMeeting, host: User
) -> None:
    names = _embedded_names(_page(make_meeting(owner=host, state=Meeting.State.LIVE), host))
    assert names["failed"] == Meeting.State.FAILED == "failed"
