"""Simulator -> signed webhook -> ingest -> PostgreSQL -> Channels Redis -> viewer sockets."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from assistant.models import Meeting, TranscriptSegment
from rtms_ingest.protocol.webhook_signing import webhook_signature
from rtms_ingest.simulator import RtmsSimulator, SimulatorConfig
from rtms_ingest.simulator.fixture import RecordedMeeting, sample_meeting
from tests.integration.conftest import OPERATOR_ID
from tests.integration.stack import CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET, Stack
from tests.integration.viewer import Viewer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]
SPEED = 10.0


def simulator_config(stack: Stack, *, webhook: bool = True) -> SimulatorConfig:
    return SimulatorConfig(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        webhook_secret_token=WEBHOOK_SECRET,
        webhook_url=stack.webhook_url if webhook else None,
        speed=SPEED,
        keepalive_interval_s=2.0,
        operator_id=OPERATOR_ID,
    )


async def meeting_for_stream(stream_id: str, timeout_s: float = 15.0) -> Meeting:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = await sync_to_async(Meeting.objects.filter(rtms_stream_id=stream_id).first)()
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no meeting was created for stream {stream_id}")


def viewer(stack: Stack, cookie: str, meeting_id: int, since: int = 0) -> Viewer:
    url = f"{stack.ws_url}/ws/meetings/{meeting_id}/?since={since}"
    return Viewer(url=url, cookie=cookie, origin=stack.base_url)


def expected_captions(meeting: RecordedMeeting) -> list[tuple[str, str]]:
    """(speaker, text) in the order Zoom delivers native transcripts: by end time."""
    ordered = sorted(meeting.utterances, key=lambda u: (u.end_s, u.start_s))
    return [(meeting.user_name(u.user_id), u.text) for u in ordered]


def captions(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["speaker"], e["text"]) for e in events if e["type"] == "segment"]


async def wait_for_segments(target: Viewer, count: int) -> None:
    while len(target.of_type("segment")) < count:
        await asyncio.sleep(0.02)


async def test_every_utterance_reaches_both_viewers_in_order_once(
    stack: Stack, viewer_cookie: tuple[Any, str]
) -> None:
    _, cookie = viewer_cookie
    recording = sample_meeting()
    async with RtmsSimulator(recording, simulator_config(stack)) as simulator:
        stream = simulator.new_stream()
        playing = asyncio.create_task(simulator.play(stream))
        meeting = await meeting_for_stream(stream.rtms_stream_id)
        first = viewer(stack, cookie, meeting.pk)
        first_task = asyncio.create_task(first.run(timeout_s=120))
        await asyncio.wait_for(wait_for_segments(first, 4), 60)
        since = first.of_type("segment")[1]["seq"]
        second = viewer(stack, cookie, meeting.pk, since=since)
        second_task = asyncio.create_task(second.run(timeout_s=120))
        report = await playing
        await asyncio.wait_for(asyncio.gather(first_task, second_task), 30)

    assert report.joined and report.stop_reason == 6
    assert captions(first.events) == expected_captions(recording)
    seqs = [e["seq"] for e in first.events]
    assert seqs == list(range(1, len(seqs) + 1)), "gapless, ordered, nothing doubled"
    assert second.events == [e for e in first.events if e["seq"] > since]
    stored = [
        row
        async for row in TranscriptSegment.objects.filter(meeting=meeting)
        .order_by("seq")
        .values_list("speaker_name", "text")
    ]
    assert stored == expected_captions(recording)
    ended = await sync_to_async(Meeting.objects.get)(pk=meeting.pk)
    assert ended.state == Meeting.State.ENDED and ended.stop_reason == 6
    joined = {e["user_id"] for e in first.of_type("participant") if e["action"] == "join"}
    assert joined == {p.user_id for p in recording.participants}
    assert [e["text"] for e in first.of_type("chat")] == [c.text for c in recording.chat]


def post_signed(url: str, body: dict[str, Any]) -> int:
    raw = json.dumps(body, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (local URL)
        url,
        data=raw,
        headers={
            "content-type": "application/json",
            "x-zm-request-timestamp": timestamp,
            "x-zm-signature": webhook_signature(WEBHOOK_SECRET, timestamp, raw),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return int(response.status)


async def test_fifty_concurrent_duplicate_webhooks_open_one_rtms_connection(
    stack: Stack, viewer_cookie: tuple[Any, str]
) -> None:
    recording = sample_meeting()
    config = simulator_config(stack, webhook=False)
    config.speed = 40.0
    async with RtmsSimulator(recording, config) as simulator:
        stream = simulator.new_stream()
        body = stream.webhook_payload("meeting.rtms_started")
        playing = asyncio.create_task(simulator.play(stream))
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = await asyncio.gather(
                *(
                    loop.run_in_executor(pool, post_signed, stack.webhook_url, body)
                    for _ in range(50)
                )
            )
        report = await playing

    assert statuses == [200] * 50
    assert report.signaling_connections == 1
    assert report.kicked_connections == 0
    meeting = await meeting_for_stream(stream.rtms_stream_id)
    count = await sync_to_async(TranscriptSegment.objects.filter(meeting=meeting).count)()
    assert count == len(recording.utterances)
