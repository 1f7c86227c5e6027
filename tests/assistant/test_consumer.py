"""The live viewer socket against the real ASGI app, PostgreSQL and the Redis channel layer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client

from assistant import events
from assistant.asgi import application
from assistant.models import LiveEvent, Meeting
from assistant.services import chat, live, meetings, participants
from assistant.services.transcript import SegmentInput, record_segment

pytestmark = pytest.mark.django_db(transaction=True)

MakeMeeting = Callable[..., Meeting]
TIMEOUT = 5


@database_sync_to_async
def _session_cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def _socket(
    meeting_id: int, cookie: bytes | None, since: int | None = None
) -> WebsocketCommunicator:
    path = f"/ws/meetings/{meeting_id}/"
    if since is not None:
        path += f"?since={since}"
    headers = [(b"origin", settings.SITE_URL.encode()), (b"host", b"127.0.0.1")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


async def _connected(meeting_id: int, user: User, since: int | None = None) -> Any:
    socket = _socket(meeting_id, await _session_cookie(user), since)
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert connected, f"refused with {code}"
    return socket


def _say(meeting_id: int, text: str, start_ms: int) -> None:
    record_segment(
        meeting_id,
        SegmentInput(
            source="native",
            speaker_user_id=16778240,
            speaker_name="Priya Raman",
            start_ms=start_ms,
            end_ms=start_ms + 900,
            text=text,
        ),
    )


def _store_without_push(meeting_id: int, state: str) -> dict[str, Any]:
    """A state event stored in the outbox whose push to the viewers was lost."""
    with transaction.atomic():
        seq = live.next_seq(meeting_id)
        payload = {"type": events.STATE, "seq": seq, "state": state, "detail": ""}
        LiveEvent.objects.create(meeting_id=meeting_id, seq=seq, type=events.STATE, payload=payload)
    return payload


async def _closed_with(socket: WebsocketCommunicator) -> int:
    """The close code the server sent next."""
    message = await socket.receive_output(timeout=TIMEOUT)
    assert message["type"] == "websocket.close", message
    return int(message["code"])


async def _drain(socket: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Everything the socket sends until it goes quiet."""
    received = []
    while not await socket.receive_nothing(timeout=0.5):
        received.append(await socket.receive_json_from(timeout=TIMEOUT))
    return received


async def test_owner_receives_a_recorded_segment(make_meeting: MakeMeeting, host: User) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _connected(meeting.pk, host)
    await database_sync_to_async(_say)(meeting.pk, "Good morning everyone", 500)
    event = await socket.receive_json_from(timeout=TIMEOUT)
    assert event["type"] == "segment"
    assert event["seq"] == 1
    assert event["speaker"] == "Priya Raman"
    assert event["text"] == "Good morning everyone"
    await socket.disconnect()


async def test_viewer_is_told_where_a_gap_lies_and_how_many_frames_it_lost(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _connected(meeting.pk, host)
    await database_sync_to_async(meetings.record_gap)(
        meeting.pk, "audio: 25 frames dropped", from_ms=64_000, to_ms=64_500, frames_lost=25
    )
    event = await socket.receive_json_from(timeout=TIMEOUT)
    assert (event["type"], event["state"]) == (events.STATE, events.GAP)
    assert (event["from_ms"], event["to_ms"], event["frames_lost"]) == (64_000, 64_500, 25)
    await socket.disconnect()


async def test_segment_is_pushed_only_once_its_transaction_commits(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _connected(meeting.pk, host)
    recorded, release = threading.Event(), threading.Event()

    def record_then_hold() -> None:
        with transaction.atomic():
            _say(meeting.pk, "not yet", 0)
            recorded.set()
            release.wait(TIMEOUT)

    writer = asyncio.ensure_future(database_sync_to_async(record_then_hold)())
    assert await asyncio.to_thread(recorded.wait, TIMEOUT)
    assert await socket.receive_nothing(timeout=0.5)
    release.set()
    await writer
    assert (await socket.receive_json_from(timeout=TIMEOUT))["text"] == "not yet"
    await socket.disconnect()


async def test_staff_may_watch_any_meeting(
    make_meeting: MakeMeeting, host: User, admin_user: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _connected(meeting.pk, admin_user)
    await socket.disconnect()


async def test_outsider_is_refused_with_4403(
    make_meeting: MakeMeeting, host: User, outsider: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = _socket(meeting.pk, await _session_cookie(outsider))
    assert await socket.connect(timeout=TIMEOUT) == (False, 4403)
    await socket.disconnect()


async def test_anonymous_viewer_is_refused_with_4403(make_meeting: MakeMeeting, host: User) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = _socket(meeting.pk, cookie=None)
    assert await socket.connect(timeout=TIMEOUT) == (False, 4403)
    await socket.disconnect()


async def test_connecting_replays_every_stored_event_in_order(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    await database_sync_to_async(participants.record_join)(meeting.pk, 1, "Zoë", 0)
    await database_sync_to_async(_say)(meeting.pk, "first", 0)
    await database_sync_to_async(chat.record_chat)(meeting.pk, 1, "Zoë", 10, "hi")
    socket = await _connected(meeting.pk, host)
    events = await _drain(socket)
    assert [(e["seq"], e["type"]) for e in events] == [
        (1, "participant"),
        (2, "segment"),
        (3, "chat"),
    ]
    await socket.disconnect()


async def test_reconnect_with_since_gets_exactly_the_missed_events(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    for i in range(5):
        await database_sync_to_async(_say)(meeting.pk, f"line {i}", i * 1000)
    socket = await _connected(meeting.pk, host, since=2)
    assert [e["seq"] for e in await _drain(socket)] == [3, 4, 5]
    await database_sync_to_async(_say)(meeting.pk, "line 5", 5000)
    assert [e["seq"] for e in await _drain(socket)] == [6]
    await socket.disconnect()


async def test_viewer_joining_mid_stream_sees_every_event_once_in_order(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    for i in range(20):
        await database_sync_to_async(_say)(meeting.pk, f"early {i}", i * 1000)

    def keep_talking() -> None:
        for i in range(20, 60):
            _say(meeting.pk, f"late {i}", i * 1000)

    # Replay and live pushes overlap: recording continues while the viewer catches up.
    writer = asyncio.ensure_future(database_sync_to_async(keep_talking)())
    socket = await _connected(meeting.pk, host, since=0)
    await writer
    assert [e["seq"] for e in await _drain(socket)] == list(range(1, 61))
    await socket.disconnect()


async def test_ping_is_answered_with_the_last_seq_sent(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    for i in range(3):
        await database_sync_to_async(_say)(meeting.pk, f"line {i}", i * 1000)
    socket = await _connected(meeting.pk, host, since=3)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "pong", "seq": 3}
    await socket.disconnect()


async def test_unknown_client_message_is_ignored(make_meeting: MakeMeeting, host: User) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    other = await database_sync_to_async(make_meeting)()
    await database_sync_to_async(_say)(other.pk, "someone else's meeting", 0)
    socket = await _connected(meeting.pk, host)
    await socket.send_json_to({"type": "subscribe", "meeting_id": other.pk})
    assert await socket.receive_nothing(timeout=0.5)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "pong", "seq": 0}
    await socket.disconnect()


async def test_text_that_is_not_json_is_ignored_and_the_socket_stays_open(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _connected(meeting.pk, host)
    await socket.send_to(text_data="{not json")
    assert await socket.receive_nothing(timeout=0.5)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "pong", "seq": 0}
    await socket.disconnect()


async def test_viewer_idle_longer_than_the_redis_read_timeout_still_gets_captions(
    make_meeting: MakeMeeting, host: User
) -> None:
    # A quiet stretch of a meeting: the Redis layer's blocking pop must outlive it.
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _connected(meeting.pk, host)
    assert await socket.receive_nothing(timeout=6.5)
    await database_sync_to_async(_say)(meeting.pk, "after the silence", 0)
    event = await socket.receive_json_from(timeout=TIMEOUT)
    assert event["text"] == "after the silence"
    await socket.disconnect()


async def test_push_that_overtook_a_stored_event_arrives_after_it(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _connected(meeting.pk, host)
    await database_sync_to_async(_say)(meeting.pk, "first", 0)
    assert [e["seq"] for e in await _drain(socket)] == [1]
    await database_sync_to_async(_store_without_push)(meeting.pk, "reconnecting")
    overtaking = {"type": events.STATE, "seq": 3, "state": "live", "detail": ""}
    await database_sync_to_async(live.broadcast)(meeting.pk, overtaking)
    assert [(e["seq"], e["state"]) for e in await _drain(socket)] == [
        (2, "reconnecting"),
        (3, "live"),
    ]
    await socket.disconnect()


async def test_ping_delivers_an_event_whose_push_was_lost(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _connected(meeting.pk, host)
    await database_sync_to_async(_store_without_push)(meeting.pk, "ended")
    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from(timeout=TIMEOUT))["state"] == "ended"
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "pong", "seq": 1}
    await socket.disconnect()


async def test_deactivated_viewer_is_closed_with_4403_on_the_next_ping(
    make_meeting: MakeMeeting, host: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _connected(meeting.pk, host)
    await database_sync_to_async(User.objects.filter(pk=host.pk).update)(is_active=False)
    await socket.send_json_to({"type": "ping"})
    assert await _closed_with(socket) == 4403
    await socket.disconnect()


async def test_viewer_of_a_meeting_given_to_another_owner_is_closed_on_the_next_ping(
    make_meeting: MakeMeeting, host: User, coworker: User
) -> None:
    meeting = await database_sync_to_async(make_meeting)(owner=host)
    socket = await _connected(meeting.pk, host)
    await database_sync_to_async(Meeting.objects.filter(pk=meeting.pk).update)(owner=coworker)
    await socket.send_json_to({"type": "ping"})
    assert await _closed_with(socket) == 4403
    await socket.disconnect()
