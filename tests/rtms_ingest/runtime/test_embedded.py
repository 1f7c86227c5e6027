"""The embedded shape: webhook -> in-process ingest -> in-memory channel layer -> viewer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client, override_settings

from assistant.models import Meeting
from rtms_ingest.runtime.embedded import stop_in_process_supervisor
from rtms_ingest.simulator import RtmsSimulator, SimulatorConfig
from rtms_ingest.simulator.fixture import load_meeting
from tests.rtms_ingest.simulator.fixtures import write_short_meeting
from tests.rtms_ingest.webhooks.edge import apost

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]
SECRET = "test-webhook-secret"


@pytest.fixture
async def embedded() -> AsyncIterator[None]:
    """In-process ingest and the in-memory channel layer, as `make demo` runs."""
    layers = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    with override_settings(RTMS_INGEST_IN_PROCESS=True, CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        yield
        await stop_in_process_supervisor()
        channel_layers.backends.clear()
    await sync_to_async(connections.close_all)()


async def post_webhook(body: dict[str, Any]) -> int:
    return (await apost(body, secret=SECRET)).status_code


def staff_session() -> str:
    user = get_user_model().objects.create_user("staff", password=None, is_staff=True)
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def test_webhook_starts_the_in_process_ingest_and_captions_reach_a_viewer(
    embedded: None, tmp_path: Path
) -> None:
    from assistant.asgi import application

    recording = load_meeting(write_short_meeting(tmp_path))
    config = SimulatorConfig(
        client_id="test-client-id",
        client_secret="test-client-secret",
        webhook_secret_token=SECRET,
        speed=2.0,
    )
    session = await sync_to_async(staff_session)()
    async with RtmsSimulator(recording, config) as simulator:
        stream = simulator.new_stream()
        playing = asyncio.create_task(simulator.play(stream))
        assert await post_webhook(stream.webhook_payload("meeting.rtms_started")) == 200
        meeting = None
        while meeting is None:
            meeting = await sync_to_async(
                Meeting.objects.filter(rtms_stream_id=stream.rtms_stream_id).first
            )()
            await asyncio.sleep(0.02)
        viewer = WebsocketCommunicator(
            application,
            f"/ws/meetings/{meeting.pk}/",
            headers=[
                (b"origin", settings.SITE_URL.encode()),
                (b"cookie", f"sessionid={session}".encode()),
            ],
        )
        connected, _ = await viewer.connect()
        assert connected
        texts: list[str] = []
        while len(texts) < len(recording.utterances):
            event = await viewer.receive_json_from(timeout=10)
            if event["type"] == "segment":
                texts.append(event["text"])
        await viewer.disconnect()
        await playing
    assert texts == [u.text for u in recording.utterances]
