"""The fault switches: dropped sockets, silent keep-alives, garbage frames, refused signatures."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rtms_ingest.simulator import Faults, RtmsSimulator
from rtms_ingest.simulator.fixture import RecordedMeeting
from tests.rtms_ingest.simulator.simulator_client import (
    RawClient,
    client_for,
    make_config,
    play_with_client,
    short_meeting,
)


@pytest.fixture
def meeting(tmp_path: Path) -> RecordedMeeting:
    return short_meeting(tmp_path / "meeting", audio=False)


async def _until_closed(client: RawClient, label: str) -> None:
    async with asyncio.timeout(3):
        while label not in client.close_codes:
            await asyncio.sleep(0.005)


def _texts(client: RawClient) -> list[str]:
    return [m["content"]["data"] for m in client.messages(17)]


async def test_dropped_signaling_socket_can_be_rejoined_and_the_stream_goes_on(
    meeting: RecordedMeeting,
) -> None:
    faults = Faults(drop_socket_at_s=2.0, drop_socket="signaling")
    async with RtmsSimulator(meeting, make_config(speed=5.0, faults=faults)) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        first = client_for(stream)
        await first.handshake()
        await first.open_media("transcript")
        await first.ready()
        await _until_closed(first, "signaling")
        assert first.close_codes["signaling"] == 1006  # aborted, no close frame
        second = client_for(stream)
        assert (await second.handshake())["status_code"] == 0
        await second.open_media("transcript")
        await second.ready()
        report = await play
        await second.wait_closed()
    assert report.faults_fired == ["drop signaling (1 socket(s))"]
    assert report.stop_reason == 6
    assert _texts(first)[0] == "Hello all."
    assert _texts(second)[-2:] == ["Welcome.", "Bye."]
    assert not set(_texts(first)) & set(_texts(second))


async def test_dropped_media_sockets_can_be_reopened(meeting: RecordedMeeting) -> None:
    faults = Faults(drop_socket_at_s=2.0, drop_socket="media")
    async with RtmsSimulator(meeting, make_config(speed=5.0, faults=faults)) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        client = client_for(stream)
        await client.handshake()
        await client.open_media("transcript")
        await client.ready()
        await _until_closed(client, "media:transcript")
        assert client.close_codes["media:transcript"] == 1006
        assert (await client.open_media("transcript"))["status_code"] == 0
        report = await play
    assert "signaling" in client.close_codes
    assert report.faults_fired == ["drop media (1 socket(s))"]
    assert _texts(client)[-1] == "Bye."


async def test_stop_keepalives_sends_none(meeting: RecordedMeeting) -> None:
    config = make_config(speed=10.0, keepalive_interval_s=0.02, faults=Faults(stop_keepalives=True))
    async with RtmsSimulator(meeting, config) as sim:
        report, client = await play_with_client(sim)
    assert client.messages(12) == []
    assert report.frames("keepalive") == []
    assert report.stop_reason == 6


async def test_malformed_frame_is_sent_once_on_a_media_socket(meeting: RecordedMeeting) -> None:
    config = make_config(faults=Faults(malformed_frame_at_s=1.0))
    async with RtmsSimulator(meeting, config) as sim:
        report, client = await play_with_client(sim)
    garbage = [r for r in client.received if "unparseable" in r.msg]
    assert [r.socket for r in garbage] == ["media:transcript"]
    assert report.faults_fired == ["malformed frame on media:transcript"]
    assert len(client.messages(17)) == len(meeting.utterances)


@pytest.mark.parametrize(("table", "code"), [("A", 3), ("B", 15)])
async def test_refuse_signature_refuses_even_the_right_secret(
    meeting: RecordedMeeting, table: str, code: int
) -> None:
    config = make_config(
        connect_timeout_s=0.3, status_table=table, faults=Faults(refuse_signature=True)
    )
    async with RtmsSimulator(meeting, config) as sim:
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        assert (await client_for(stream).handshake())["status_code"] == code
        report = await play
    assert not report.joined
    assert report.stop_reason == 18  # AUTHENTICATION_FAILURE


async def test_invalid_fault_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="drop_socket"):
        Faults(drop_socket="audio")
    with pytest.raises(ValueError, match="bad_signature_mode"):
        Faults(bad_signature_mode="ignore")
