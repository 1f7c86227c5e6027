"""The production stack refuses RTMS servers outside RTMS_ALLOWED_HOSTS before connecting.

The stack allows the simulator's 127.0.0.1 only (as a user testing locally would). A listener
on 127.0.0.2 stands for an internal service: it records every connection attempt, and must see
none, whether a signed webhook or the signaling answer names it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async

from assistant.models import ConnectionLogEntry, Meeting
from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import sample_meeting
from rtms_ingest.simulator.webhooks import webhook_body
from tests.integration.stack import Stack
from tests.integration.test_end_to_end import meeting_for_stream, post_signed, simulator_config

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

INTERNAL_HOST = "127.0.0.2"  # loopback, but not the allowed 127.0.0.1


class Listener:
    """A TCP socket on INTERNAL_HOST that counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((INTERNAL_HOST, 0))
        self.sock.listen()
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])

    def attempts(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def internal_service() -> Iterator[Listener]:
    listener = Listener()
    try:
        yield listener
    finally:
        listener.sock.close()


async def failed_meeting(stream_id: str, timeout_s: float = 30.0) -> tuple[Meeting, str]:
    """The stream's meeting once FAILED, and the detail of its stop entry."""
    meeting = await meeting_for_stream(stream_id)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        meeting = await sync_to_async(Meeting.objects.get)(pk=meeting.pk)
        if meeting.state == Meeting.State.FAILED:
            entry = await sync_to_async(
                ConnectionLogEntry.objects.filter(meeting=meeting, kind="stop").last
            )()
            assert entry is not None
            return meeting, entry.detail
        await asyncio.sleep(0.1)
    raise AssertionError(f"meeting {meeting.pk} is {meeting.state}, not failed")


async def test_a_webhook_naming_a_host_outside_the_allowed_list_is_refused_unconnected(
    stack: Stack, internal_service: Listener
) -> None:
    stream_id = f"url-policy-webhook-{time.monotonic_ns()}"
    body = webhook_body(
        "meeting.rtms_started",
        {
            "meeting_uuid": "url-policy-meeting==",
            "rtms_stream_id": stream_id,
            "server_urls": f"ws://{INTERNAL_HOST}:{internal_service.port}/signaling?token=hunter2",
            "operator_id": "url-policy-operator",
        },
    )
    assert await asyncio.to_thread(post_signed, stack.webhook_url, body) == 200

    _, detail = await failed_meeting(stream_id)

    assert internal_service.attempts() == 0
    assert f"ws://{INTERNAL_HOST}" in detail and "not an allowed RTMS host" in detail
    assert "hunter2" not in detail
    assert stack.log_dir is not None
    logged = (stack.log_dir / "ingest.log").read_text(errors="replace")
    assert f"refused ws://{INTERNAL_HOST}" in logged and "hunter2" not in logged


async def test_media_urls_outside_the_allowed_list_are_refused_unconnected(
    stack: Stack, internal_service: Listener
) -> None:
    config = simulator_config(stack)
    config.faults.media_url_base = f"ws://{INTERNAL_HOST}:{internal_service.port}"
    async with RtmsSimulator(sample_meeting(), config) as simulator:
        stream = simulator.new_stream()
        playing = asyncio.create_task(simulator.play(stream))
        try:
            _, detail = await failed_meeting(stream.rtms_stream_id)
        finally:
            playing.cancel()
            with contextlib.suppress(BaseException):
                await playing

    assert internal_service.attempts() == 0
    assert f"ws://{INTERNAL_HOST}" in detail and "not an allowed RTMS host" in detail
    assert stream.report.signaling_connections >= 1  # signaling, on 127.0.0.1, was allowed
