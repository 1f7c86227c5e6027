"""A host starts, pauses, resumes and stops RTMS from the dashboard against the simulator, with the
production shape's web and ingest processes taking the stream Zoom then starts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client, override_settings

from assistant.models import Meeting, ZoomUserLink
from assistant.services import zoom_grants
from assistant.views.rtms_controls import stream_phase
from assistant.zoomapp.client import TokenSet
from rtms_ingest.simulator import SimulatorConfig
from rtms_ingest.simulator.fixture import load_meeting
from tests.assistant.zoomapp.simulated_zoom import SimulatedZoom
from tests.integration.conftest import stack_database_url
from tests.integration.stack import CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET, running_stack
from tests.rtms_ingest.simulator.fixtures import write_short_meeting

HOST_ZOOM_ID = "rtms-control-host"
# This test's own Redis database: its ingest takes only the streams it starts.
REDIS_URL = "redis://127.0.0.1:6379/10"


def _wait_for(what: str, check: Callable[[], Any], timeout_s: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def zoom_and_stack(transactional_db: None, tmp_path: Path) -> Iterator[SimulatedZoom]:
    recording = load_meeting(write_short_meeting(tmp_path / "meeting", duration_s=120.0))
    config = SimulatorConfig(CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET, connect_timeout_s=30.0)
    redis.Redis.from_url(REDIS_URL).flushdb()
    with SimulatedZoom(recording, config) as zoom:
        env = {"ZOOM_API_BASE_URL": zoom.api_url, "ZOOM_OAUTH_BASE_URL": zoom.oauth_url}
        with running_stack(stack_database_url(), REDIS_URL, tmp_path / "logs", env) as stack:
            zoom.simulator.config.webhook_url = stack.webhook_url
            with override_settings(
                ZOOM_CLIENT_ID=CLIENT_ID,
                ZOOM_CLIENT_SECRET=CLIENT_SECRET,
                ZOOM_API_BASE_URL=zoom.api_url,
                ZOOM_OAUTH_BASE_URL=zoom.oauth_url,
            ):
                yield zoom


def test_host_starts_pauses_resumes_and_stops_rtms_from_the_dashboard(
    zoom_and_stack: SimulatedZoom,
) -> None:
    zoom = zoom_and_stack
    host = User.objects.create_user("rtms-host", password="x-rtms-host-1")
    ZoomUserLink.objects.create(user=host, zoom_user_id=HOST_ZOOM_ID)
    issued = zoom.call(lambda: zoom.simulator.tokens.issue(HOST_ZOOM_ID))
    zoom_grants.store(host, HOST_ZOOM_ID, TokenSet.from_json(issued))
    live = zoom.open_meeting(HOST_ZOOM_ID)
    client = Client()
    client.force_login(host)

    # Before the meeting's stream exists here: by the ID the host types.
    response = client.post("/meetings/rtms/start/", {"meeting_id": str(live.meeting_number)})
    assert response.status_code == 302
    meeting = _wait_for(
        "the meeting to go live",
        lambda: Meeting.objects.filter(zoom_id=live.meeting_uuid, state=Meeting.State.LIVE).first(),
    )
    assert meeting.owner_id == host.pk and meeting.meeting_number == live.meeting_number
    assert stream_phase(meeting) == "live"

    def act(action: str) -> None:
        answer = client.post(f"/meetings/{meeting.pk}/rtms/", {"action": action})
        assert answer.status_code == 302

    act("pause")
    _wait_for("paused", lambda: stream_phase(meeting) == "paused")
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert 'data-phase="paused"' in page
    act("resume")
    _wait_for("resumed", lambda: stream_phase(meeting) == "live")
    act("stop")
    ended = _wait_for(
        "the meeting to end",
        lambda: Meeting.objects.filter(pk=meeting.pk, state=Meeting.State.ENDED).first(),
    )
    assert ended.stop_reason == 25  # MANUAL_API_TRIGGERED
    assert zoom.call(lambda: [a for a, _ in live.calls]) == ["start", "pause", "resume", "stop"]
