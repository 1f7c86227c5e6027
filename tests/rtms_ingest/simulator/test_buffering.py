"""Audio Zoom buffers from the rtms_started webhook until CLIENT_READY_ACK (reference §7).

A raw client written from the reference joins late; the simulator's report says what it sent.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rtms_ingest.simulator import RtmsSimulator, StreamReport, expected_audio_bytes
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from tests.rtms_ingest.simulator.fixtures import write_talking_meeting
from tests.rtms_ingest.simulator.simulator_client import RawClient, client_for, make_config

ANA, BEN = 101, 202
UTTERANCES = [
    (ANA, 0.0, 2.0, "Ana opens before anyone listens."),
    (BEN, 2.0, 4.0, "Ben answers."),
    (ANA, 4.0, 6.0, "Ana goes on."),
    (BEN, 6.0, 7.9, "Ben wraps up."),
]
CHAT = [(BEN, 1.0, "early link"), (ANA, 6.5, "late link")]
DURATION_S = 8.0
SPEED = 4.0
LATE_S = 0.75  # real seconds after the webhook: at least 3 s of stream time at SPEED
FRAME_MS = 20
MULTI_20MS = {"audio": {"data_opt": 2, "send_rate": FRAME_MS}}
AUDIO_ONLY: dict[str, dict[str, Any] | None] = {"audio": MULTI_20MS}
EVERYTHING: dict[str, dict[str, Any] | None] = {
    "audio": MULTI_20MS,
    "transcript": None,
    "chat": None,
}

AudioKey = tuple[int, int, int]  # (user_id, timestamp, PCM bytes), as StreamReport keys audio


@pytest.fixture
def meeting(tmp_path: Path) -> RecordedMeeting:
    """Eight seconds in which someone is always talking, with audio."""
    return load_meeting(write_talking_meeting(tmp_path, DURATION_S, UTTERANCES, CHAT))


@pytest.fixture
async def sim(meeting: RecordedMeeting) -> AsyncIterator[RtmsSimulator]:
    """The meeting on a simulator whose clock starts at the webhook."""
    async with RtmsSimulator(meeting, make_config(speed=SPEED, clock_start="webhook")) as s:
        yield s


async def join_late(
    sim: RtmsSimulator,
    late_s: float,
    kinds: dict[str, dict[str, Any] | None] = AUDIO_ONLY,
    **handshake: Any,
) -> tuple[StreamReport, RawClient]:
    """Play a stream whose client connects `late_s` real seconds after the webhook."""
    stream = sim.new_stream()
    play = asyncio.create_task(sim.play(stream))
    await asyncio.sleep(late_s)
    client = client_for(stream)
    assert (await client.handshake(**handshake))["status_code"] == 0
    for kind, params in kinds.items():
        extra: dict[str, Any] = {} if params is None else {"media_params": params}
        assert (await client.open_media(kind, **extra))["status_code"] == 0
    await client.ready()
    report = await asyncio.wait_for(play, 30)
    await client.wait_closed()
    return report, client


def audio_keys(client: RawClient) -> list[AudioKey]:
    """What the client received on its audio socket, in order, keyed like the report."""
    contents = [m["content"] for m in client.messages(14, "media:audio")]
    return [(c["user_id"], c["timestamp"], len(base64.b64decode(c["data"]))) for c in contents]


def sent_keys(report: StreamReport) -> list[AudioKey]:
    return [frame.key for frame in report.frames("audio")]


def origin_of(client: RawClient, report: StreamReport) -> int:
    """Unix ms of stream time 0, from the FIRST_PACKET_TIMESTAMP event (the webhook's time)."""
    origin = int(client.events(1)[0]["timestamp"])
    assert origin == report.clock_origin_ms
    return origin


async def test_late_client_gets_the_audio_since_the_webhook_first_then_live(
    sim: RtmsSimulator, meeting: RecordedMeeting
) -> None:
    report, client = await join_late(sim, LATE_S, buffer_data=True)

    buffered = report.buffered_audio
    assert buffered is not None and buffered.buffer_data is True
    ready = buffered.ready_ms
    assert ready >= LATE_S * SPEED * 1000
    origin = origin_of(client, report)
    got = audio_keys(client)
    assert got == sent_keys(report)  # in send order, nothing lost on the way
    assert len(set(got)) == len(got)  # nothing doubled
    burst, live = got[: buffered.sent_frames], got[buffered.sent_frames :]
    assert burst and live
    assert all(stamp - origin + FRAME_MS <= ready for _, stamp, _ in burst)  # due before ready
    assert all(stamp - origin + FRAME_MS > ready for _, stamp, _ in live)
    assert (buffered.due_frames, buffered.dropped_frames) == (buffered.sent_frames, 0)
    assert buffered.first_ms == 0 and buffered.end_ms == burst[-1][1] - origin + FRAME_MS
    assert buffered.sent_bytes == sum(size for _, _, size in burst)
    # Burst plus live is the whole meeting's audio, each voice in time order.
    assert sum(size for _, _, size in got) == expected_audio_bytes(meeting, 2, FRAME_MS)
    for user in (ANA, BEN):
        stamps = [stamp for uid, stamp, _ in got if uid == user]
        assert stamps == sorted(stamps)


async def test_only_audio_is_buffered_not_transcript_chat_or_events(sim: RtmsSimulator) -> None:
    report, client = await join_late(sim, LATE_S, EVERYTHING)

    assert report.buffered_audio is not None and report.buffered_audio.sent_frames > 0
    ready = report.buffered_audio.ready_ms
    origin = origin_of(client, report)
    transcripts = [m["content"]["data"] for m in client.messages(17, "media:transcript")]
    due_ms = {text: round(min(end + 0.2, DURATION_S) * 1000) for _, _, end, text in UTTERANCES}
    assert transcripts == [text for text, at in due_ms.items() if at >= ready]
    chats = [m["content"]["data"] for m in client.messages(18, "media:chat")]
    assert chats == [text for _, at, text in CHAT if at * 1000 >= ready]
    roster = [(e["timestamp"] - origin, e["participants"]) for e in client.events(3)]
    names = [{"user_id": uid, "user_name": f"Speaker {uid}"} for uid in (ANA, BEN)]
    assert roster == [(ready, names)]
    assert all(e["timestamp"] - origin >= ready for e in client.events(2))


async def test_buffer_data_false_drops_the_audio_from_before_ready(
    sim: RtmsSimulator, meeting: RecordedMeeting
) -> None:
    report, client = await join_late(sim, LATE_S, buffer_data=False)

    buffered = report.buffered_audio
    assert buffered is not None and buffered.buffer_data is False
    assert buffered.sent_frames == 0 and buffered.due_frames > 0
    assert (buffered.first_ms, buffered.end_ms) == (None, None)
    origin = origin_of(client, report)
    got = audio_keys(client)
    assert got == sent_keys(report)
    assert all(stamp - origin + FRAME_MS > buffered.ready_ms for _, stamp, _ in got)
    frame_bytes = 32 * FRAME_MS
    total = expected_audio_bytes(meeting, 2, FRAME_MS)
    assert sum(size for _, _, size in got) + buffered.due_frames * frame_bytes == total


async def test_handshake_without_buffer_data_is_buffered_as_zoom_defaults(
    sim: RtmsSimulator,
) -> None:
    report, client = await join_late(sim, LATE_S)  # no buffer_data, as the official SDK sends

    assert report.buffer_data == [None]
    buffered = report.buffered_audio
    assert buffered is not None and buffered.buffer_data is None
    assert buffered.sent_frames == buffered.due_frames > 0
    assert audio_keys(client) == sent_keys(report)


async def test_more_than_60_s_late_keeps_only_the_last_60_s(tmp_path: Path) -> None:
    # One voice talking for all of 90 s; the client is ready after at least 65 s (1 s to spare).
    talk = [(ANA, 10.0 * n, 10.0 * (n + 1), f"Part {n}.") for n in range(9)]
    meeting = load_meeting(write_talking_meeting(tmp_path, 90.0, talk))
    config = make_config(speed=25.0, clock_start="webhook", connect_timeout_s=10.0)
    async with RtmsSimulator(meeting, config) as sim:
        report, client = await join_late(sim, 2.6, buffer_data=True)

    buffered = report.buffered_audio
    assert buffered is not None and buffered.first_ms is not None and buffered.end_ms is not None
    ready = buffered.ready_ms
    assert ready >= 65_000
    first_ms, end_ms = -(-(ready - 60_000) // FRAME_MS) * FRAME_MS, ready // FRAME_MS * FRAME_MS
    assert (buffered.first_ms, buffered.end_ms) == (first_ms, end_ms)
    assert buffered.end_ms - buffered.first_ms <= 60_000
    assert buffered.dropped_frames == first_ms // FRAME_MS
    origin = origin_of(client, report)
    got = audio_keys(client)
    assert got == sent_keys(report)
    stream_ms = [stamp - origin for _, stamp, _ in got]
    # The last 60 s before ready as a burst, then live to the end: no gap, no repeat.
    assert stream_ms[: buffered.sent_frames] == list(range(first_ms, end_ms, FRAME_MS))
    assert stream_ms[buffered.sent_frames :] == list(range(end_ms, 90_000, FRAME_MS))


async def test_clock_started_at_ready_buffers_nothing(meeting: RecordedMeeting) -> None:
    async with RtmsSimulator(meeting, make_config(speed=8.0)) as sim:
        report, client = await join_late(sim, 0.5, buffer_data=True)

    assert report.buffer_data == [True]
    assert report.buffered_audio is None
    origin = origin_of(client, report)
    got = audio_keys(client)
    assert got[0][1] - origin == 0  # stream time 0 is the ready: the meeting starts then
    assert sum(size for _, _, size in got) == expected_audio_bytes(meeting, 2, FRAME_MS)


async def test_meeting_over_before_anyone_is_ready_ends_with_meeting_ended(
    meeting: RecordedMeeting,
) -> None:
    config = make_config(speed=20.0, clock_start="webhook", connect_timeout_s=10.0)
    async with RtmsSimulator(meeting, config) as sim:
        report = await asyncio.wait_for(sim.play(), 3)

    assert report.stop_reason == 6
    assert not report.joined and report.buffered_audio is None


def test_clock_start_is_ready_or_webhook() -> None:
    with pytest.raises(ValueError, match="clock_start"):
        make_config(clock_start="meeting")
