"""Zoom's rtms_concurrency_limited: logged, and the refused meeting's panel says why no stream."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User

from assistant.services import stream_refusals
from tests.assistant.zoomapp.contexts import panel_client
from tests.rtms_ingest.queued_commands import queued_commands
from tests.rtms_ingest.webhooks.edge import post

pytestmark = pytest.mark.django_db(transaction=True)

PANEL_MEETING = "/zoomapp/panel/meeting"


def _notice(event: str, meeting_uuid: str) -> dict[str, Any]:
    return {
        "event": event,
        "event_ts": int(time.time() * 1000),
        "payload": {"meeting_uuid": meeting_uuid, "account_id": "acct-1"},
    }


def test_a_refused_meetings_panel_says_zoom_is_at_the_apps_stream_limit(
    queue: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    meeting_uuid = f"{uuid.uuid4()}=="
    panel = panel_client(mid=meeting_uuid)
    waiting_since = int(time.time() * 1000)
    assert panel.get(PANEL_MEETING, {"since": waiting_since}).json()["refused"] == ""
    with caplog.at_level(logging.WARNING):
        answer = post(_notice("meeting.rtms_concurrency_limited", meeting_uuid))
    assert answer.status_code == 200
    assert queued_commands(queue) == []  # no stream to start
    assert f"refused a stream of meeting {meeting_uuid}" in caplog.text
    found = panel.get(PANEL_MEETING, {"since": waiting_since}).json()
    assert found == {"meeting": None, "refused": stream_refusals.CONCURRENCY_LIMITED}
    # Another meeting's panel is not told.
    other = panel_client(mid=f"{uuid.uuid4()}==")
    assert other.get(PANEL_MEETING).json()["refused"] == ""


def test_a_refusal_from_before_the_panel_began_to_wait_is_not_shown(queue: redis.Redis) -> None:
    meeting_uuid = f"{uuid.uuid4()}=="
    assert post(_notice("meeting.rtms_concurrency_limited", meeting_uuid)).status_code == 200
    panel = panel_client(mid=meeting_uuid)
    later = int((time.time() + 5 * 60) * 1000)  # a new wait, five minutes on
    assert panel.get(PANEL_MEETING, {"since": later}).json()["refused"] == ""
    assert panel.get(PANEL_MEETING, {"since": "garbage"}).json()["refused"] != ""


def test_a_stream_that_starts_after_the_refusal_makes_it_moot(
    queue: redis.Redis, make_meeting: Any, host: User
) -> None:
    meeting_uuid = f"{uuid.uuid4()}=="
    assert post(_notice("meeting.rtms_concurrency_limited", meeting_uuid)).status_code == 200
    make_meeting(zoom_id=meeting_uuid, owner=host)
    panel = panel_client(mid=meeting_uuid)
    assert panel.get(PANEL_MEETING).json()["refused"] == ""


def test_near_the_limit_is_logged_only(
    queue: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    meeting_uuid = f"{uuid.uuid4()}=="
    with caplog.at_level(logging.WARNING):
        answer = post(_notice("meeting.rtms_concurrency_near_limit", meeting_uuid))
    assert answer.status_code == 204
    assert "near its limit of concurrent RTMS streams" in caplog.text
    assert panel_client(mid=meeting_uuid).get(PANEL_MEETING).json()["refused"] == ""


@pytest.mark.parametrize("payload", [None, {}, {"meeting_uuid": 7}, "x"])
def test_a_refusal_without_a_meeting_is_logged_not_refused(
    queue: redis.Redis, payload: object
) -> None:
    body = {"event": "meeting.rtms_concurrency_limited", "event_ts": 1, "payload": payload}
    assert post(body).status_code in (200, 400)  # 400 only where the envelope is invalid
