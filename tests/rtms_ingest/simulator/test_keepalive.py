"""Keep-alives on every socket, and what happens to a socket that stops answering them."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from rtms_ingest.simulator import RtmsSimulator
from rtms_ingest.simulator.fixture import RecordedMeeting
from tests.rtms_ingest.simulator.simulator_client import (
    client_for,
    make_config,
    play_with_client,
    short_meeting,
)

FAST_KEEPALIVE = {"keepalive_interval_s": 0.05, "signaling_timeout_s": 0.2, "media_timeout_s": 0.25}


@pytest.fixture
def meeting(tmp_path: Path) -> RecordedMeeting:
    return short_meeting(tmp_path / "meeting")


async def test_keepalive_requests_carry_timestamp_and_sequence_on_every_socket(
    meeting: RecordedMeeting,
) -> None:
    async with RtmsSimulator(meeting, make_config(speed=10.0, **FAST_KEEPALIVE)) as sim:
        report, client = await play_with_client(sim)
    for socket in ("signaling", "media:transcript", "media:chat"):
        requests = client.messages(12, socket)
        assert len(requests) >= 5
        assert [r["sequence"] for r in requests] == list(range(1, len(requests) + 1))
        assert all(isinstance(r["timestamp"], int) and r["timestamp"] > 0 for r in requests)
        assert report.keepalive_answers[socket] >= len(requests) - 1
    assert not report.dropped_for_missed_keepalive
    assert report.stop_reason == 6


async def test_timestamp_only_answers_are_accepted(meeting: RecordedMeeting) -> None:
    async with RtmsSimulator(meeting, make_config(speed=10.0, **FAST_KEEPALIVE)) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        client = client_for(stream, answer_keepalives=False)
        await client.handshake()
        await client.ready()

        # Answer like the manual samples do: timestamp only, no sequence echo.
        answered = 0
        while not play.done():
            requests = client.messages(12, "signaling")
            for _ in requests[answered:]:
                # The meeting may end (and its socket close) between the check and the answer.
                with contextlib.suppress(ConnectionClosed):
                    await client.send("signaling", {"msg_type": 13, "timestamp": 1})
            answered = len(requests)
            await asyncio.sleep(0.01)
        report = await play
    assert report.stop_reason == 6
    assert not report.dropped_for_missed_keepalive
    assert report.keepalive_answers["signaling"] >= 5


async def test_unanswered_signaling_socket_is_dropped_and_stream_ends_with_reason_24(
    meeting: RecordedMeeting,
) -> None:
    async with RtmsSimulator(meeting, make_config(speed=1.0, **FAST_KEEPALIVE)) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        client = client_for(stream, silent_sockets={"signaling"})
        await client.handshake()
        await client.open_media("transcript")
        await client.ready()
        report = await asyncio.wait_for(play, 3)
        await client.wait_closed()
    assert report.dropped_for_missed_keepalive
    assert report.stop_reason == 24
    assert client.close_codes["signaling"] == 1006  # dropped, no close frame
    assert client.close_codes["media:transcript"] == 1000


async def test_unanswered_media_socket_is_dropped_and_the_stream_goes_on(
    meeting: RecordedMeeting,
) -> None:
    # Dropped at about 0.15 s; the first chat line is due at 1.5 s / 4 = 0.375 s.
    config = make_config(speed=4.0, **{**FAST_KEEPALIVE, "media_timeout_s": 0.1})
    async with RtmsSimulator(meeting, config) as sim:
        report, client = await play_with_client(sim, silent_sockets={"media:chat"})
    assert report.dropped_for_missed_keepalive
    assert client.close_codes["media:chat"] == 1006
    assert report.stop_reason == 6
    assert len(client.messages(17)) == len(meeting.utterances)
    assert client.messages(18) == []
