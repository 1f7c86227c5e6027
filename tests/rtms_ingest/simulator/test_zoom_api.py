"""The simulator's Zoom REST and OAuth side over real HTTP: RTMS started, paused, resumed and
stopped by `PATCH /v2/live_meetings/{meetingId}/rtms_app/status`, bearer tokens checked."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from tests.rtms_ingest.simulator.fixtures import write_short_meeting
from tests.rtms_ingest.simulator.simulator_client import (
    CLIENT_ID,
    CLIENT_SECRET,
    RawClient,
    WebhookReceiver,
    make_config,
)

HOST = "zoom-host-1"
SESSION_STATE_UPDATE = 9


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    endpoint = WebhookReceiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def meeting(tmp_path: Path) -> RecordedMeeting:
    # A minute long at real speed: time to pause, resume and stop it.
    return load_meeting(write_short_meeting(tmp_path, duration_s=60.0))


@pytest.fixture
async def sim(meeting: RecordedMeeting, receiver: WebhookReceiver) -> AsyncIterator[RtmsSimulator]:
    config = make_config(webhook_url=receiver.url, speed=1.0)
    async with RtmsSimulator(meeting, config) as simulator:
        await simulator.serve_zoom_api()
        yield simulator


def _request(
    method: str, url: str, *, token: str = "", body: Any = None, form: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        pair = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        headers["Authorization"] = f"Basic {pair}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else {}


async def _rtms(
    sim: RtmsSimulator, meeting_id: str, action: str, token: str, client_id: str = CLIENT_ID
) -> tuple[int, dict[str, Any]]:
    assert sim.zoom_api is not None
    url = f"{sim.zoom_api.base_url}/v2/live_meetings/{meeting_id}/rtms_app/status"
    body = {"action": action, "settings": {"client_id": client_id}}
    return await asyncio.to_thread(_request, "PATCH", url, token=token, body=body)


async def _join(payload: dict[str, Any]) -> RawClient:
    client = RawClient(
        payload["server_urls"],
        CLIENT_ID,
        CLIENT_SECRET,
        payload["meeting_uuid"],
        payload["rtms_stream_id"],
    )
    assert (await client.handshake())["status_code"] == 0
    await client.ready()
    return client


async def _session_states(client: RawClient, count: int) -> list[int]:
    for _ in range(200):
        states = [m["state"] for m in client.messages(SESSION_STATE_UPDATE)]
        if len(states) >= count:
            return states
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {client.messages(SESSION_STATE_UPDATE)}")


async def test_host_starts_pauses_resumes_and_stops_rtms_by_meeting_number(
    sim: RtmsSimulator, receiver: WebhookReceiver
) -> None:
    live = sim.live_meetings.open(HOST)
    token = sim.tokens.issue(HOST)["access_token"]
    assert await _rtms(sim, str(live.meeting_number), "start", token) == (204, {})
    started = (await receiver.next()).json
    assert started["event"] == "meeting.rtms_started"
    payload = started["payload"]
    assert payload["meeting_uuid"] == live.meeting_uuid
    assert payload["meeting_id"] == live.meeting_number
    assert payload["operator_id"] == HOST
    client = await _join(payload)

    assert (await _rtms(sim, str(live.meeting_number), "pause", token))[0] == 204
    assert (await _rtms(sim, str(live.meeting_number), "resume", token))[0] == 204
    # STARTED (2) at ready, then PAUSED (3) and RESUMED (4).
    assert (await _session_states(client, 3))[-2:] == [3, 4]

    assert (await _rtms(sim, str(live.meeting_number), "stop", token))[0] == 204
    stopped = (await receiver.next()).json
    assert stopped["event"] == "meeting.rtms_stopped"
    assert stopped["payload"]["stop_reason"] == 25  # MANUAL_API_TRIGGERED
    assert [action for action, _ in live.calls] == ["start", "pause", "resume", "stop"]
    await client.close()


async def test_a_second_start_while_running_answers_zoom_already_running(
    sim: RtmsSimulator, receiver: WebhookReceiver
) -> None:
    live = sim.live_meetings.open(HOST)
    token = sim.tokens.issue(HOST)["access_token"]
    assert (await _rtms(sim, str(live.meeting_number), "start", token))[0] == 204
    status, body = await _rtms(sim, str(live.meeting_number), "start", token)
    assert (status, body["code"]) == (409, 10308)


async def test_a_uuid_with_slashes_is_found_double_encoded(
    sim: RtmsSimulator, receiver: WebhookReceiver
) -> None:
    live = sim.live_meetings.open(HOST, meeting_uuid="/ab//cd+ef==")
    token = sim.tokens.issue(HOST)["access_token"]
    twice = urllib.parse.quote(urllib.parse.quote(live.meeting_uuid, safe=""), safe="")
    assert (await _rtms(sim, twice, "start", token))[0] == 204
    assert (await receiver.next()).json["payload"]["meeting_uuid"] == "/ab//cd+ef=="


async def test_bad_expired_and_revoked_tokens_get_401(sim: RtmsSimulator) -> None:
    live = sim.live_meetings.open(HOST)
    number = str(live.meeting_number)
    assert (await _rtms(sim, number, "start", "not-a-token"))[0] == 401
    token = sim.tokens.issue(HOST)["access_token"]
    sim.tokens.expire(HOST)
    status, body = await _rtms(sim, number, "start", token)
    assert (status, body["code"]) == (401, 124)
    assert "expired" in body["message"]
    assert live.calls == []


async def test_refresh_tokens_rotate_and_a_revoked_one_is_invalid_grant(
    sim: RtmsSimulator,
) -> None:
    assert sim.zoom_api is not None
    url = f"{sim.zoom_api.base_url}/oauth/token"
    first = sim.tokens.issue(HOST)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    status, fresh = await asyncio.to_thread(_request, "POST", url, form=form)
    assert status == 200 and fresh["access_token"] != first["access_token"]
    # Used once: the old refresh token is spent.
    status, body = await asyncio.to_thread(_request, "POST", url, form=form)
    assert (status, body["error"]) == (400, "invalid_grant")
    sim.tokens.revoke(HOST)
    form["refresh_token"] = fresh["refresh_token"]
    status, body = await asyncio.to_thread(_request, "POST", url, form=form)
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_bad_body_unknown_meeting_and_non_host_are_refused(sim: RtmsSimulator) -> None:
    live = sim.live_meetings.open(HOST)
    number = str(live.meeting_number)
    token = sim.tokens.issue(HOST)["access_token"]
    assert (await _rtms(sim, number, "start", token, client_id="other-app"))[0] == 400
    assert (await _rtms(sim, number, "launch", token))[0] == 400
    assert (await _rtms(sim, "99999999999", "start", token))[0] == 404
    someone = sim.tokens.issue("zoom-someone-else")["access_token"]
    assert (await _rtms(sim, number, "start", someone))[0] == 403
    # Nothing runs, so there is nothing to pause.
    assert (await _rtms(sim, number, "pause", token))[0] == 409
    assert live.calls == []
