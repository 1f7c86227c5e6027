"""The simulator checks a transcript handshake's language as Zoom does, records what was asked,
and plays utterances with the `language` Zoom reports."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rtms_ingest.simulator import RtmsSimulator, SimulatedStream
from rtms_ingest.simulator.fixture import MeetingFixtureError, load_meeting
from rtms_ingest.simulator.report import TranscriptAsk
from tests.rtms_ingest.simulator.simulator_client import (
    ALL,
    SHORT_MEETING,
    TRANSCRIPT,
    client_for,
    make_config,
    play_with_client,
    short_meeting,
    write_meeting,
)


@pytest.fixture
async def stream(tmp_path: Path) -> AsyncIterator[SimulatedStream]:
    async with RtmsSimulator(short_meeting(tmp_path / "m"), make_config()) as simulator:
        yield simulator.new_stream()


@pytest.mark.parametrize("language", [37, -2, 1000])
async def test_a_src_language_zoom_does_not_know_is_refused_with_43(
    stream: SimulatedStream, language: int
) -> None:
    client = client_for(stream)
    await client.handshake()
    asked = {"transcript": {"content_type": 5, "src_language": language, "enable_lid": False}}
    response = await client.open_media("transcript", media_params=asked)
    assert response["status_code"] == 43  # INVALID_MEDIA_TRANSCRIPT_SROUCE_LANGUAGE, table A
    assert stream.report.transcript_asks == [TranscriptAsk("transcript", language, False, 43)]
    await client.close()


async def test_forcing_the_language_without_naming_one_is_refused_with_43(
    stream: SimulatedStream,
) -> None:
    client = client_for(stream)
    await client.handshake()
    asked = {"transcript": {"src_language": -1, "enable_lid": False}}
    assert (await client.open_media("transcript", media_params=asked))["status_code"] == 43
    await client.close()


async def test_each_transcript_ask_is_recorded_on_its_socket(stream: SimulatedStream) -> None:
    client = client_for(stream)
    await client.handshake()
    forced = {"transcript": {"content_type": 5, "src_language": 13, "enable_lid": False}}
    assert (await client.open_media("all", ALL, media_params=forced))["status_code"] == 0
    await client.close()
    # The SDK's default (media_params left out) is Zoom's too: detection.
    client = client_for(stream)
    await client.handshake()
    assert (await client.open_media("transcript", TRANSCRIPT))["status_code"] == 0
    await client.close()

    assert stream.report.transcript_asks == [
        TranscriptAsk("all", 13, False, 0),
        TranscriptAsk("transcript", None, None, 0),
    ]


async def test_an_utterance_with_a_language_carries_it_on_its_frame(tmp_path: Path) -> None:
    doc: dict[str, Any] = copy.deepcopy(SHORT_MEETING)
    doc["utterances"][1]["language"] = 28  # Spanish; the others say nothing
    meeting = load_meeting(write_meeting(tmp_path / "m", doc, audio=False))
    async with RtmsSimulator(meeting, make_config()) as simulator:
        _, client = await play_with_client(simulator)

    frames = [m["content"] for m in client.messages(17)]
    assert [frame.get("language") for frame in frames] == [None, 28, None, None, None]


@pytest.mark.parametrize("language", [-1, 37, "es", True])
def test_an_utterance_language_must_be_a_zoom_id(tmp_path: Path, language: Any) -> None:
    doc: dict[str, Any] = copy.deepcopy(SHORT_MEETING)
    doc["utterances"][2]["language"] = language
    with pytest.raises(MeetingFixtureError) as error:
        load_meeting(write_meeting(tmp_path / "m", doc, audio=False))
    assert error.value.field == "utterances[2].language"
