"""Playing a recorded meeting: events, transcript, chat, audio and the end of the stream."""

from __future__ import annotations

import asyncio
import base64
import json
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rtms_ingest.protocol import encode_message, parse_message
from rtms_ingest.simulator import RtmsSimulator, expected_audio_bytes
from rtms_ingest.simulator.fixture import RecordedMeeting
from tests.rtms_ingest.simulator.simulator_client import (
    ALL,
    client_for,
    make_config,
    play_with_client,
    short_meeting,
)

DELAY_S = 0.2


@pytest.fixture
def meeting(tmp_path: Path) -> RecordedMeeting:
    return short_meeting(tmp_path / "meeting")


@pytest.fixture
async def sim(meeting: RecordedMeeting) -> AsyncIterator[RtmsSimulator]:
    async with RtmsSimulator(meeting, make_config(transcript_delay_s=DELAY_S)) as simulator:
        yield simulator


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


async def test_every_utterance_arrives_as_transcript_with_user_and_timings(
    sim: RtmsSimulator, meeting: RecordedMeeting
) -> None:
    report, client = await play_with_client(sim)
    origin = client.events(1)[0]["timestamp"]
    assert origin == report.clock_origin_ms
    got = [m["content"] for m in client.messages(17, "media:transcript")]
    assert len(got) == len(meeting.utterances)
    end_ms = _ms(meeting.duration_s)
    for content, u in zip(got, meeting.utterances, strict=True):
        assert content["user_id"] == u.user_id
        assert content["user_name"] == meeting.user_name(u.user_id)
        assert content["data"] == u.text
        assert content["start_time"] - origin == _ms(u.start_s)
        assert content["end_time"] - origin == _ms(u.end_s)
        assert content["timestamp"] - origin == min(_ms(u.end_s + DELAY_S), end_ms)
    sent_keys = report.transcript_keys
    assert sent_keys == [(c["user_id"], c["start_time"]) for c in got]


async def test_participants_join_and_leave_at_fixture_times(sim: RtmsSimulator) -> None:
    _, client = await play_with_client(sim)
    origin = client.events(1)[0]["timestamp"]
    joins = [(e["timestamp"] - origin, e["participants"]) for e in client.events(3)]
    assert joins == [
        (0, [{"user_id": 101, "user_name": "Ana"}, {"user_id": 202, "user_name": "Björn"}]),
        (1000, [{"user_id": 303, "user_name": "Chen"}]),
    ]
    leaves = [(e["timestamp"] - origin, e["participants"]) for e in client.events(4)]
    assert leaves == [(4500, [{"user_id": 202, "user_name": "Björn"}])]


async def test_active_speaker_changes_at_utterance_starts(sim: RtmsSimulator) -> None:
    _, client = await play_with_client(sim)
    origin = client.events(1)[0]["timestamp"]
    speakers = [(e["timestamp"] - origin, e["user_id"]) for e in client.events(2)]
    # 101 speaks again at 5.5 s after speaking last: no change, no event.
    assert speakers == [(200, 101), (1200, 202), (1800, 303), (3600, 101)]


async def test_session_starts_before_any_event(sim: RtmsSimulator) -> None:
    _, client = await play_with_client(sim)
    signaling = [r.msg for r in client.received if r.socket == "signaling"]
    kinds = [m["msg_type"] for m in signaling if m["msg_type"] != 12]
    assert kinds[:3] == [2, 9, 6]
    assert signaling[1]["state"] == 2  # SESSION_STATE_UPDATE STARTED
    assert signaling[2]["event"]["event_type"] == 1  # FIRST_PACKET_TIMESTAMP


async def test_chat_arrives_at_its_time(sim: RtmsSimulator) -> None:
    _, client = await play_with_client(sim)
    origin = client.events(1)[0]["timestamp"]
    chats = [m["content"] for m in client.messages(18, "media:chat")]
    assert [(c["user_id"], c["data"], c["timestamp"] - origin) for c in chats] == [
        (202, "link: https://example.com", 1500),
        (303, "on my way", 3000),
    ]


async def test_one_all_socket_carries_transcript_chat_and_audio(
    sim: RtmsSimulator, meeting: RecordedMeeting
) -> None:
    params = {"audio": {"data_opt": 2, "send_rate": 20}}
    stream = sim.new_stream()
    play = asyncio.create_task(sim.play(stream))
    client = client_for(stream)
    await client.handshake()
    assert (await client.open_media("all", ALL, media_params=params))["status_code"] == 0
    await client.ready()
    await play
    await client.wait_closed()
    assert len(client.messages(17, "media:all")) == len(meeting.utterances)
    assert len(client.messages(18, "media:all")) == len(meeting.chat)
    assert client.messages(14, "media:all")


def _expected_bytes(meeting: RecordedMeeting, send_rate_ms: int, mixed: bool) -> int:
    """The audio rule of simulator/audio.py, recomputed from the WAV files."""
    tracks = []
    for path in meeting.audio_files.values():
        with wave.open(str(path), "rb") as wav:
            tracks.append(wav.readframes(wav.getnframes()))
    frame = send_rate_ms * 32
    total = 0
    for k in range(_ms(meeting.duration_s) // send_rate_ms):
        voiced = [t[k * frame : (k + 1) * frame].strip(b"\0") != b"" for t in tracks]
        total += frame * (any(voiced) if mixed else sum(voiced))
    return total


@pytest.mark.parametrize(("data_opt", "send_rate"), [(1, 20), (2, 20), (1, 100), (2, 50)])
async def test_audio_bytes_match_the_documented_rule(
    sim: RtmsSimulator, meeting: RecordedMeeting, data_opt: int, send_rate: int
) -> None:
    audio = {"audio": {"data_opt": data_opt, "send_rate": send_rate}}
    report, client = await play_with_client(sim, {"audio": audio})
    frames = [m["content"] for m in client.messages(14, "media:audio")]
    received = sum(len(base64.b64decode(c["data"])) for c in frames)
    expected = _expected_bytes(meeting, send_rate, mixed=data_opt == 1)
    assert received == expected == report.audio_bytes
    assert expected == expected_audio_bytes(meeting, data_opt, send_rate)
    assert all(len(base64.b64decode(c["data"])) == send_rate * 32 for c in frames)
    users = {c["user_id"] for c in frames}
    assert users == ({0} if data_opt == 1 else {101, 202, 303})


async def test_stream_ends_with_terminated_reason_6_and_normal_close(sim: RtmsSimulator) -> None:
    report, client = await play_with_client(sim)
    last = client.messages(8)[-1]
    assert (last["state"], last["reason"]) == (4, 6)
    assert report.stop_reason == 6
    assert set(client.close_codes.values()) == {1000}


async def test_playback_is_paced_by_speed(meeting: RecordedMeeting) -> None:
    async with RtmsSimulator(meeting, make_config(speed=10.0)) as sim:
        report, _ = await play_with_client(sim)
    assert report.clock_start_ns is not None
    end = report.frames("stream_state")[-1].monotonic_ns
    assert 0.6 <= (end - report.clock_start_ns) / 1e9 < 1.5  # 6 s of meeting at 10x
    bye = report.frames("transcript")[-1]
    assert bye.monotonic_ns >= report.due_ns(6000)  # never early


async def test_stream_close_request_is_answered_and_ends_with_reason_20(
    sim: RtmsSimulator,
) -> None:
    stream = sim.new_stream()
    play = asyncio.create_task(sim.play(stream))
    client = client_for(stream)
    await client.handshake()
    await client.open_media("transcript")
    await client.ready()
    await client.send("signaling", {"msg_type": 21, "rtms_stream_id": stream.rtms_stream_id})
    report = await play
    await client.wait_closed()
    assert client.messages(22)[0]["rtms_stream_id"] == stream.rtms_stream_id
    assert (client.messages(8)[-1]["state"], client.messages(8)[-1]["reason"]) == (4, 20)
    assert report.stop_reason == 20


async def test_newer_signaling_connection_kicks_the_older_one(sim: RtmsSimulator) -> None:
    stream = sim.new_stream()
    play = asyncio.create_task(sim.play(stream))
    first = client_for(stream)
    await first.handshake()
    await first.open_media("transcript")
    await first.ready()
    await asyncio.sleep(0.1)  # 2 s of meeting at 20x
    second = client_for(stream)
    assert (await second.handshake())["status_code"] == 0
    await first.wait_closed()
    assert first.close_codes == {"signaling": 1000, "media:transcript": 1000}
    await second.open_media("transcript")
    await second.ready()
    report = await play
    await second.wait_closed()
    assert report.kicked_connections == 1
    assert second.events(3), "the rejoined client is told who is present"
    texts = [m["content"]["data"] for m in second.messages(17)]
    assert texts[-1] == "Bye."
    before = {m["content"]["data"] for m in first.messages(17)}
    assert not before & set(texts), "each transcript went to one connection only"


async def test_many_streams_play_concurrently(meeting: RecordedMeeting) -> None:
    async with RtmsSimulator(meeting, make_config(speed=20.0)) as sim:
        results = await asyncio.gather(*(play_with_client(sim) for _ in range(20)))
    for report, client in results:
        assert report.stop_reason == 6
        assert len(client.messages(17)) == len(meeting.utterances)


async def test_malformed_client_frames_are_ignored(sim: RtmsSimulator) -> None:
    stream = sim.new_stream()
    play = asyncio.create_task(sim.play(stream))
    client = client_for(stream)
    await client.handshake()
    await client.open_media("transcript")
    await client.sockets["signaling"].send("{this is not json")
    await client.send("signaling", {"msg_type": 99, "whatever": True})
    await client.send("signaling", {"msg_type": 7})  # ready ack without its stream id
    await client.ready()
    report = await play
    await client.wait_closed()
    assert report.malformed_client_frames == 2
    assert report.stop_reason == 6
    assert len(client.messages(17)) == 5


async def test_unsubscribed_event_types_are_not_sent(sim: RtmsSimulator) -> None:
    stream = sim.new_stream()
    play = asyncio.create_task(sim.play(stream))
    client = client_for(stream)
    await client.handshake()
    await client.open_media("transcript")
    await client.ready()
    events = [{"event_type": 2, "subscribe": False}, {"event_type": 3, "subscribe": True}]
    await client.send("signaling", {"msg_type": 5, "events": events}, binary=True)
    await play
    await client.wait_closed()
    assert client.events(2) == []
    assert client.events(3)


async def test_state_requests_are_answered(sim: RtmsSimulator) -> None:
    stream = sim.new_stream()
    play = asyncio.create_task(sim.play(stream))
    client = client_for(stream)
    await client.handshake()
    await client.ready()
    await client.send("signaling", {"msg_type": 10, "rtms_session_id": "x"})
    await client.send("signaling", {"msg_type": 19, "rtms_stream_id": stream.rtms_stream_id})
    await play
    await client.wait_closed()
    assert client.messages(11)[0]["state"] == 2
    assert client.messages(20)[0]["state"] == 1
    assert json.dumps(client.messages(20)[0])


async def test_audio_frames_are_exactly_what_the_protocol_module_encodes(
    sim: RtmsSimulator,
) -> None:
    audio = {"audio": {"data_opt": 2, "send_rate": 20}}
    _, client = await play_with_client(sim, {"audio": audio})
    for message in client.messages(14)[:50]:
        wire = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
        assert encode_message(parse_message(wire)) == wire
        # Zoom's 2026 `length` (reference §7): the size of the decoded data.
        assert message["content"]["length"] == len(base64.b64decode(message["content"]["data"]))


async def test_newer_media_connection_of_the_same_kind_wins(sim: RtmsSimulator) -> None:
    stream = sim.new_stream()
    play = asyncio.create_task(sim.play(stream))
    client = client_for(stream)
    await client.handshake()
    await client.open_media("transcript")
    older = client.sockets["media:transcript"]
    await client.open_media("transcript")
    await client.ready()
    await play
    await client.wait_closed()
    assert older.close_code == 1000
    assert len(client.messages(17)) == 5  # all of them, on the newer socket


async def test_second_handshake_on_the_same_connection_is_a_duplicate(
    sim: RtmsSimulator,
) -> None:
    stream = sim.new_stream()
    client = client_for(stream)
    await client.handshake()
    await client.send("signaling", client.request_fields(1))
    await asyncio.sleep(0.05)
    assert client.messages(2)[-1]["status_code"] == 8  # DUPLICATE_SIGNAL_REQUEST
    assert stream.report.signaling_connections == 1
    await client.close()
