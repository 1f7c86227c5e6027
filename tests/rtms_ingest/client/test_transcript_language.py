"""The transcript's language: what our client asks Zoom for, and changing it on a live stream."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rtms_ingest.client import HandshakeRejected
from rtms_ingest.protocol import MediaType, TranscriptLanguage
from rtms_ingest.simulator.report import TranscriptAsk
from tests.rtms_ingest.client.stream_support import (
    UTTERANCES,
    RecordingSink,
    make_client,
    play,
    sim_config,
    start_playing,
    until,
)

EVERY = MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO


async def test_by_default_zoom_detects_the_language(simulator: Any) -> None:
    _, report, _ = await play(await simulator(), lambda s: make_client(s, RecordingSink()))

    assert report.transcript_asks == [TranscriptAsk("transcript", -1, True, 0)]


async def test_a_chosen_language_is_forced_with_language_detection_off(simulator: Any) -> None:
    sink = RecordingSink()
    spanish = int(TranscriptLanguage.SPANISH)
    reason, report, _ = await play(
        await simulator(), lambda s: make_client(s, sink, transcript_language=spanish)
    )

    assert report.transcript_asks == [TranscriptAsk("transcript", 28, False, 0)]
    assert reason == 6 and len(sink.transcripts) == len(UTTERANCES)


async def test_a_language_zoom_does_not_know_is_refused_with_43_and_said_so(
    simulator: Any,
) -> None:
    sim = await simulator()
    stream = sim.new_stream()
    client = make_client(stream, RecordingSink(), transcript_language=99)

    with pytest.raises(HandshakeRejected) as caught:
        await asyncio.wait_for(client.run(), 5)

    assert caught.value.status_code == 43  # INVALID_MEDIA_TRANSCRIPT_SROUCE_LANGUAGE, table A
    assert caught.value.socket == "media:transcript"
    assert "Zoom refused transcript src_language 99" in str(caught.value)
    assert stream.report.transcript_asks == [TranscriptAsk("transcript", 99, False, 43)]


async def test_a_new_language_re_handshakes_only_the_transcript_socket(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=1.0))
    stream, client, playing, running = start_playing(sim, sink)
    await until(lambda: len(sink.transcripts) >= 1)

    assert not client.use_sink(sink, EVERY, int(TranscriptLanguage.GERMAN))
    await until(lambda: len(stream.report.transcript_asks) == 2)
    report = await asyncio.wait_for(playing, 15)
    assert await running == 6

    assert report.transcript_asks == [
        TranscriptAsk("transcript", -1, True, 0),
        TranscriptAsk("transcript", 14, False, 0),
    ]
    assert report.signaling_connections == 1  # signaling, chat and audio stayed up
    assert client.stats.reconnects == 0 and client.stats.media_reconnects == 1
    # What Zoom said between the two handshakes is lost: the gap says why, not "dropped".
    assert sink.gaps == [
        "transcript media socket reconnected to ask Zoom for the transcript in GERMAN"
    ]
    assert sink.transcripts[-1].data == UTTERANCES[-1][3]


async def test_the_same_language_again_changes_nothing(simulator: Any) -> None:
    sink = RecordingSink()
    sim = await simulator(sim_config(speed=1.0))
    stream, client, playing, running = start_playing(sim, sink, transcript_language=9)
    await until(lambda: len(sink.transcripts) >= 1)

    assert not client.use_sink(sink, EVERY, 9)
    await asyncio.wait_for(playing, 15)
    assert await running == 6

    assert stream.report.transcript_asks == [TranscriptAsk("transcript", 9, False, 0)]
    assert sink.gaps == []
