"""Rejoining a live stream, as Zoom allows it (reference §5 and §8), and when it no longer can.

A rejoin is a fresh signaling handshake for a stream that is still live. A stream whose client
vanished waits `reconnect_window_s` for one, then ends with AWAIT_RECONNECTION_TIMEOUT (19); a
stream closed with STREAM_CLOSE_REQ (20) or dropped for unanswered keep-alives (24) is over at
once. An over stream refuses every handshake with INVALID_STREAM_ID (2, table A).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rtms_ingest.simulator import Faults, RtmsSimulator, SimulatedStream, StreamReport
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from tests.rtms_ingest.simulator.simulator_client import (
    RawClient,
    WebhookReceiver,
    client_for,
    make_config,
    play_with_client,
    short_meeting,
    write_meeting,
)

INVALID_RTMS_STREAM_ID = 2
FAST_KEEPALIVE = {"keepalive_interval_s": 0.05, "signaling_timeout_s": 0.2, "media_timeout_s": 0.25}


@pytest.fixture
def meeting(tmp_path: Path) -> RecordedMeeting:
    return short_meeting(tmp_path / "meeting")


async def _join(stream: SimulatedStream, *kinds: str, **options: object) -> RawClient:
    """A raw client that is ready on `stream` with these media sockets (transcript if none)."""
    client = client_for(stream, **options)
    assert (await client.handshake())["status_code"] == 0
    for kind in kinds or ("transcript",):
        assert (await client.open_media(kind))["status_code"] == 0
    await client.ready()
    return client


async def _until(predicate: Callable[[], object], limit_s: float = 5.0) -> None:
    async with asyncio.timeout(limit_s):
        while not predicate():
            await asyncio.sleep(0.005)


def _texts(client: RawClient) -> list[str]:
    return [m["content"]["data"] for m in client.messages(17)]


async def _refused(stream: SimulatedStream) -> int:
    """The status of a fresh, correctly signed signaling handshake for `stream`."""
    response = await client_for(stream).handshake()
    return int(response["status_code"])


async def test_a_rejoin_while_live_is_accepted_and_the_meeting_plays_on(
    meeting: RecordedMeeting,
) -> None:
    # At 2x the transcripts are due at 0.6, 1.1, 1.85, 2.1 and 3.0 s. The first client vanishes
    # after the first one and the second is back 0.6 s later, well inside the 1.5 s window:
    # the stream must still be playing at 3 s, so the window was called off.
    config = make_config(speed=2.0, reconnect_window_s=1.5)
    async with RtmsSimulator(meeting, config) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        first = await _join(stream)
        await _until(lambda: _texts(first))
        await first.vanish()
        await asyncio.sleep(0.6)
        second = await _join(stream, "transcript", "audio")
        report = await asyncio.wait_for(play, 10)
        await second.wait_closed()
    assert report.stop_reason == 6
    assert (report.rejoins, report.kicked_connections, report.signaling_connections) == (1, 0, 2)
    assert _texts(first) == ["Hello all."]
    assert _texts(second) == ["Sorry I'm late, héllo.", "Welcome.", "Bye."]
    [outage] = report.signaling_outages
    assert outage.to_ms is not None and 900 <= outage.to_ms - outage.from_ms <= 3000
    assert [(t.text, t.session) for t in report.undelivered()] == [("Hi Ana.", 1)]
    assert all(outage.from_ms <= t.due_ms <= outage.to_ms for t in report.undelivered())
    assert {t.session for t in report.delivered() if t.text != "Hello all."} == {2}


async def test_a_rejoining_client_gets_the_session_announced_again(
    meeting: RecordedMeeting,
) -> None:
    config = make_config(speed=2.0, reconnect_window_s=1.5)
    async with RtmsSimulator(meeting, config) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        first = await _join(stream)
        await _until(lambda: _texts(first))
        await first.vanish()
        second = await _join(stream)
        await _until(lambda: second.events(3))
        report = await asyncio.wait_for(play, 10)
    assert [m["state"] for m in second.messages(9)] == [2]  # SESSION_STATE_UPDATE STARTED
    [first_packet] = second.events(1)
    assert first_packet["timestamp"] == report.clock_origin_ms  # the same stream clock
    # Chen joined at 1.0 s, before the rejoin: the roster of now, not of the start.
    assert {p["user_id"] for p in second.events(3)[0]["participants"]} == {101, 202, 303}


async def test_a_rejoining_client_may_open_the_all_socket_again(meeting: RecordedMeeting) -> None:
    config = make_config(speed=2.0, reconnect_window_s=1.5)
    async with RtmsSimulator(meeting, config) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        first = await _join(stream, "all")
        await _until(lambda: _texts(first))
        await first.vanish()
        second = await _join(stream, "all")
        report = await asyncio.wait_for(play, 10)
        await second.wait_closed()
    assert report.stop_reason == 6 and report.rejoins == 1
    assert _texts(second)[-1] == "Bye."
    assert {t.socket for t in report.delivered()} == {"media:all"}


async def test_a_second_client_takes_a_live_stream_over_without_an_outage(
    meeting: RecordedMeeting,
) -> None:
    # As another ingest taking the stream over: the first client is still connected.
    config = make_config(speed=2.0)
    async with RtmsSimulator(meeting, config) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        first = await _join(stream)
        await _until(lambda: _texts(first))
        second = await _join(stream)
        await first.wait_closed()
        report = await asyncio.wait_for(play, 10)
    assert first.close_codes == {"signaling": 1000, "media:transcript": 1000}
    assert (report.rejoins, report.kicked_connections, report.signaling_outages) == (1, 1, [])
    assert _texts(first) + _texts(second) == [u.text for u in meeting.utterances]


# One speaker talking all through: an audio frame every 20 ms from 0 to the end.
ONE_LONG_SENTENCE: dict[str, Any] = {
    "duration_s": 3.0,
    "participants": [{"user_id": 101, "user_name": "Ana", "join_s": 0.0, "leave_s": None}],
    "utterances": [{"user_id": 101, "start_s": 0.0, "end_s": 3.0, "text": "On and on."}],
    "chat": [],
}


async def test_media_after_a_rejoin_continue_on_the_same_stream_clock(tmp_path: Path) -> None:
    meeting = load_meeting(write_meeting(tmp_path / "long", ONE_LONG_SENTENCE))
    config = make_config(speed=1.0, reconnect_window_s=1.5)
    async with RtmsSimulator(meeting, config) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        first = await _join(stream, "audio")
        await _until(lambda: len(first.messages(14)) > 10)
        await first.vanish()
        await asyncio.sleep(0.3)
        second = await _join(stream, "audio")
        report = await asyncio.wait_for(play, 10)
        await second.wait_closed()
    origin = report.clock_origin_ms
    assert origin is not None
    before = [m["content"]["timestamp"] - origin for m in first.messages(14)]
    after = [m["content"]["timestamp"] - origin for m in second.messages(14)]
    [outage] = report.signaling_outages
    assert before[0] == 0 and after[0] >= outage.from_ms >= before[-1]
    # Nothing of the gap is replayed, and from the rejoin to the end no frame is missing.
    assert all(b - a == 20 for a, b in itertools.pairwise(after))
    assert after[-1] == round(meeting.duration_s * 1000) - 20


async def test_a_vanished_client_ends_the_stream_with_19_after_the_window(
    meeting: RecordedMeeting,
) -> None:
    receiver = WebhookReceiver()
    config = make_config(speed=1.0, reconnect_window_s=0.3, webhook_url=receiver.url)
    try:
        async with RtmsSimulator(meeting, config) as sim:
            stream = sim.new_stream()
            play = asyncio.create_task(sim.play(stream))
            client = await _join(stream)
            await _until(lambda: client.messages(9))
            await client.vanish()
            vanished = time.monotonic()
            report = await asyncio.wait_for(play, 5)
            waited = time.monotonic() - vanished
            status = await _refused(stream)
        bodies = [(await receiver.next()).json for _ in range(2)]
    finally:
        receiver.close()
    assert report.stop_reason == 19  # AWAIT_RECONNECTION_TIMEOUT
    assert 0.3 <= waited < 2.0
    assert bodies[1]["event"] == "meeting.rtms_stopped"
    assert bodies[1]["payload"]["stop_reason"] == 19
    assert [(o.to_ms, o.to_wall_ms) for o in report.signaling_outages] == [(None, None)]
    assert status == INVALID_RTMS_STREAM_ID
    assert (report.refused_after_end, report.rejoins) == (1, 0)


async def test_media_sockets_left_open_are_closed_when_no_rejoin_comes(
    meeting: RecordedMeeting,
) -> None:
    faults = Faults(drop_socket_at_s=0.3, drop_socket="signaling")
    config = make_config(speed=1.0, reconnect_window_s=0.3, faults=faults)
    async with RtmsSimulator(meeting, config) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        client = await _join(stream, "transcript")
        report = await asyncio.wait_for(play, 5)
        await client.wait_closed()
    assert report.stop_reason == 19
    assert client.close_codes == {"signaling": 1006, "media:transcript": 1000}


async def test_a_stream_closed_with_stream_close_req_cannot_be_rejoined(
    meeting: RecordedMeeting,
) -> None:
    async with RtmsSimulator(meeting, make_config(speed=1.0)) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        client = await _join(stream)
        await client.send("signaling", {"msg_type": 21, "rtms_stream_id": stream.rtms_stream_id})
        await _until(lambda: client.messages(22))
        while_closing = await _refused(stream)
        report = await asyncio.wait_for(play, 5)
        after_the_end = await _refused(stream)
    assert report.stop_reason == 20  # RECEIVER_REQUEST_CLOSE
    assert while_closing == after_the_end == INVALID_RTMS_STREAM_ID
    assert (report.refused_after_end, report.rejoins, report.signaling_outages) == (2, 0, [])


async def test_a_stream_dropped_for_unanswered_keepalives_cannot_be_rejoined(
    meeting: RecordedMeeting,
) -> None:
    async with RtmsSimulator(meeting, make_config(speed=1.0, **FAST_KEEPALIVE)) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        await _join(stream, silent_sockets={"signaling"})
        report = await asyncio.wait_for(play, 5)
        status = await _refused(stream)
    assert report.stop_reason == 24  # KEEP_ALIVE_TIMEOUT
    assert status == INVALID_RTMS_STREAM_ID
    assert (report.refused_after_end, report.rejoins, report.signaling_outages) == (1, 0, [])


def _due_order(report: StreamReport, kind: str) -> list[int]:
    return [t.due_ms for t in report.texts if t.kind == kind]


async def test_every_due_utterance_and_chat_line_is_reported_with_its_fate(
    meeting: RecordedMeeting,
) -> None:
    started_ms = time.time_ns() // 1_000_000
    async with RtmsSimulator(meeting, make_config(speed=10.0)) as sim:
        # No chat socket: the chat lines fall due with nobody to take them.
        report, client = await play_with_client(sim, {"transcript": None})
    transcripts = [t for t in report.texts if t.kind == "transcript"]
    assert [t.text for t in transcripts] == [u.text for u in meeting.utterances] == _texts(client)
    assert [t.key for t in transcripts] == report.transcript_keys
    assert [(t.start_ms, t.end_ms) for t in transcripts] == [
        (round(u.start_s * 1000), round(u.end_s * 1000)) for u in meeting.utterances
    ]
    assert all(t.delivered and t.socket == "media:transcript" for t in transcripts)
    assert all(t.due_ms <= t.stream_ms and t.wall_ms >= started_ms for t in transcripts)
    assert _due_order(report, "transcript") == sorted(_due_order(report, "transcript"))
    assert [(t.text, t.delivered, t.socket) for t in report.texts if t.kind == "chat"] == [
        (c.text, False, "") for c in meeting.chat
    ]


async def test_text_due_before_a_late_client_is_ready_is_reported_undelivered(
    meeting: RecordedMeeting,
) -> None:
    # Stream time runs from the webhook; the client is ready at about 2.5 s of stream time,
    # after two transcripts and a chat line were due, and before the second chat line (3.0 s).
    async with RtmsSimulator(meeting, make_config(speed=1.0, clock_start="webhook")) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        await asyncio.sleep(2.4)
        client = await _join(stream, "transcript", "chat")
        report = await asyncio.wait_for(play, 10)
    missed = [t for t in report.texts if not t.delivered]
    assert [t.text for t in missed] == ["Hello all.", "link: https://example.com", "Hi Ana."]
    assert all(t.stream_ms >= 2000 and t.due_ms < t.stream_ms for t in missed)
    assert [t.text for t in report.delivered()] == _texts(client)
    assert len(report.texts) == len(meeting.utterances) + len(meeting.chat)
