"""The embedded shape's pushes: jobs on the in-process pools publish while viewers listen.

The in-memory channel layer holds asyncio queues of the web process's loop; a push from a job
thread must be handed to that loop (assistant/services/broadcasts.py), never made from the
thread. Made from the thread, it completes the viewer's waiting future from the wrong thread:
under asyncio's debug mode that raises "Non-thread-safe operation" and the viewer's wakeup is
lost for good (the socket hangs); without it, the wakeup is late or, in a race, the message is
dropped. Neither shows reliably, so the layer here is the real one, made to refuse any call from
a thread other than the one it was made on, the loop's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from celery import shared_task
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client, override_settings

from assistant import jobs
from assistant.asgi import application
from assistant.models import Meeting
from assistant.services import live
from assistant.services.transcript import SegmentInput, record_segment

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

MEETINGS = 3
LINES = 30  # per meeting
TIMEOUT = 10


def _say(meeting_id: int, line: int) -> None:
    record_segment(
        meeting_id,
        SegmentInput(
            source="native",
            speaker_user_id=16778240 + line % 3,
            speaker_name="Priya Raman",
            start_ms=line * 1000,
            end_ms=line * 1000 + 900,
            text=f"line {line} of the meeting",
        ),
    )


@shared_task(name="tests.broadcasts.say")
def say(meeting_id: int, line: int) -> None:
    """Store a segment on the default queue (two threads)."""
    _say(meeting_id, line)


@shared_task(name="asr.tests.broadcasts.say")
def asr_say(meeting_id: int, line: int) -> None:
    """Store a segment on the asr queue."""
    _say(meeting_id, line)


@shared_task(name="llm.tests.broadcasts.say")
def llm_say(meeting_id: int, line: int) -> None:
    """Store a segment on the llm queue."""
    _say(meeting_id, line)


SAYERS = [say.name, asr_say.name, llm_say.name]


class InMemoryChannelLayerRefusingOtherThreads(InMemoryChannelLayer):
    """The in-memory layer, which raises when used from another thread than its loop's."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.thread = threading.get_ident()  # made on first use, by a viewer's consumer

    def _on_its_thread(self) -> None:
        if threading.get_ident() != self.thread:
            raise RuntimeError("in-memory channel layer used off its event loop's thread")

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        self._on_its_thread()
        await super().send(channel, message)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self._on_its_thread()
        await super().group_send(group, message)

    async def group_add(self, group: str, channel: str) -> None:
        self._on_its_thread()
        await super().group_add(group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        self._on_its_thread()
        await super().group_discard(group, channel)


@pytest.fixture
async def embedded() -> AsyncIterator[None]:
    """Jobs in process and the in-memory channel layer, as `make demo` runs."""
    backend = f"{__name__}.{InMemoryChannelLayerRefusingOtherThreads.__name__}"
    layers = {"default": {"BACKEND": backend}}
    with override_settings(JOBS_IN_PROCESS=True, CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        yield
        await asyncio.to_thread(jobs.shutdown)
        channel_layers.backends.clear()
    await database_sync_to_async(connections.close_all)()


@database_sync_to_async
def _session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def _viewer(meeting_id: int, cookie: bytes) -> WebsocketCommunicator:
    headers = [
        (b"origin", settings.SITE_URL.encode()),
        (b"host", b"127.0.0.1"),
        (b"cookie", cookie),
    ]
    socket = WebsocketCommunicator(application, f"/ws/meetings/{meeting_id}/", headers=headers)
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert connected, f"refused with {code}"
    return socket


async def _received(socket: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Everything the socket sends until it goes quiet."""
    received = []
    while not await socket.receive_nothing(timeout=0.5):
        received.append(await socket.receive_json_from(timeout=TIMEOUT))
    return received


def _submit_interleaved(meeting_ids: list[int]) -> None:
    """Every meeting's lines as jobs, spread over the three queues' four threads."""
    for line in range(LINES):
        for n, meeting_id in enumerate(meeting_ids):
            jobs.submit(SAYERS[(line + n) % len(SAYERS)], meeting_id, line)


async def test_concurrent_jobs_push_every_event_once_in_order_to_each_viewer(
    embedded: None,
    make_meeting: Callable[..., Meeting],
    host: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    meetings = [await database_sync_to_async(make_meeting)(owner=host) for _ in range(MEETINGS)]
    cookie = await _session_cookie(host)
    viewers = [await _viewer(meeting.pk, cookie) for meeting in meetings]

    await database_sync_to_async(_submit_interleaved)([meeting.pk for meeting in meetings])
    # The loop stays free meanwhile: the jobs' pushes are sent on it.
    await asyncio.to_thread(jobs.shutdown)
    failed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("broadcast of")]
    assert failed == []

    for meeting, viewer in zip(meetings, viewers, strict=True):
        received = await _received(viewer)
        stored = await database_sync_to_async(live.events_since)(meeting.pk, 0)
        # Every stored event (segments, and the notes updates the segments set off) once, in order.
        assert [e["seq"] for e in received] == list(range(1, len(stored) + 1))
        assert received == stored
        texts = [e["text"] for e in received if e["type"] == "segment"]
        assert sorted(texts) == sorted(f"line {line} of the meeting" for line in range(LINES))
        await viewer.disconnect()
