"""RTMS_SINKS decides what each stream feeds, and so what the ingest asks Zoom for."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.test import override_settings

from assistant.models import Meeting, TranscriptSegment
from rtms_ingest.client.sink import IgnoringSink
from rtms_ingest.cluster.commands import StreamCommand
from rtms_ingest.cluster.sinks import WriterFence
from rtms_ingest.cluster.supervisor import Supervisor
from rtms_ingest.protocol import MediaType, TextContent
from rtms_ingest.simulator.fixture import RecordedMeeting
from rtms_ingest.storage.sink import StorageSink
from rtms_ingest.storage.streams import MeetingStreams
from tests.rtms_ingest.cluster.supervisor_support import (
    simulator,
    start_command,
    supervisor,
    until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

STORAGE = "rtms_ingest.storage.sink.storage_sink"
SPEECH = "rtms_ingest.storage.speech.speech_sink"
LISTENER = f"{__name__}.audio_listener"
DECLINING = f"{__name__}.declining_factory"


class AudioListener(IgnoringSink):
    """A sink that wants audio only (what the speech-recognition sink will be)."""

    wants = MediaType.AUDIO

    def __init__(self, meeting_id: int) -> None:
        self.meeting_id = meeting_id

    async def transcript(self, content: TextContent) -> None:
        raise AssertionError("a sink that wants no transcript must not get one")

    async def chat(self, content: TextContent) -> None:
        raise AssertionError("a sink that wants no chat must not get one")


def audio_listener(meeting: Meeting) -> AudioListener:
    return AudioListener(meeting.pk)


def declining_factory(meeting: Meeting) -> None:
    """A factory with nothing to do for this meeting."""


async def _play_and_store(recording: RecordedMeeting) -> dict[str, object]:
    """Play the meeting into a supervisor; the media the ingest asked the simulator for."""
    ingest = supervisor(media=MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO)
    async with simulator(recording) as sim:
        stream = sim.new_stream()
        playing = asyncio.create_task(sim.play(stream))
        await ingest.handle(start_command(stream))
        report = await asyncio.wait_for(playing, 20)
        await until(lambda: _no_streams(ingest))
    return dict(report.media_params)


async def _no_streams(ingest: Supervisor) -> bool:
    return not ingest.streams


async def test_audio_is_not_asked_for_while_no_sink_wants_it(
    clean_redis: None, short_meeting: RecordedMeeting
) -> None:
    with override_settings(RTMS_SINKS=[STORAGE]):
        requested = await _play_and_store(short_meeting)
    assert set(requested) == {"transcript", "chat"}
    assert await TranscriptSegment.objects.acount() == len(short_meeting.utterances)


async def test_a_configured_audio_sink_makes_the_ingest_ask_for_audio(
    clean_redis: None, short_meeting: RecordedMeeting
) -> None:
    with override_settings(RTMS_SINKS=[STORAGE, LISTENER]):
        requested = await _play_and_store(short_meeting)
    assert set(requested) == {"transcript", "chat", "audio"}
    assert await TranscriptSegment.objects.acount() == len(short_meeting.utterances)


async def test_a_factory_may_decline_a_meeting() -> None:
    command = StreamCommand("start", "meeting", "owner==", "stream-declined", "wss://unused")
    with override_settings(RTMS_SINKS=[STORAGE, DECLINING]):
        sinks = await MeetingStreams().open(command, WriterFence())
    [only] = sinks.sinks
    assert isinstance(only, StorageSink)
    assert sinks.wants == MediaType.TRANSCRIPT | MediaType.CHAT
    meeting = await Meeting.objects.aget(rtms_stream_id="stream-declined")
    assert meeting.state == Meeting.State.CONNECTING


async def test_a_meeting_switched_to_our_captions_mid_stream_reconnects_for_audio(
    clean_redis: None, long_meeting: RecordedMeeting
) -> None:
    ingest = supervisor(media=MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO)
    with override_settings(TRANSCRIPTION="native", RTMS_SINKS=[STORAGE, SPEECH]):
        async with simulator(long_meeting, speed=1.0) as sim:
            stream = sim.new_stream()
            playing = asyncio.create_task(sim.play(stream))
            await ingest.handle(start_command(stream))
            await until(lambda: _live(stream.rtms_stream_id))
            assert set(stream.report.media_params) == {"transcript", "chat"}

            meeting = await Meeting.objects.aget(rtms_stream_id=stream.rtms_stream_id)
            await Meeting.objects.filter(pk=meeting.pk).aupdate(transcription="asr")
            command = StreamCommand(
                "reconfigure", "meeting", meeting.zoom_id, stream.rtms_stream_id
            )
            await ingest.handle(command)
            await until(lambda: _has_audio(stream))
            [live] = ingest.streams.values()
            assert [type(s).__name__ for s in live.sink.sinks] == ["StorageSink", "SpeechSink"]
            await ingest.shutdown()
            playing.cancel()
    assert stream.report.signaling_connections == 2


async def _live(stream_id: str) -> bool:
    return await Meeting.objects.filter(rtms_stream_id=stream_id, state="live").aexists()


async def _has_audio(stream: Any) -> bool:
    return "audio" in stream.report.media_params


async def test_the_2026_rtms_started_fields_reach_the_meeting_row(
    clean_redis: None, short_meeting: RecordedMeeting
) -> None:
    # The simulator's webhook, as the receiver turns it into a command (reference §7).
    ingest = supervisor(media=MediaType.TRANSCRIPT | MediaType.CHAT)
    with override_settings(RTMS_SINKS=[STORAGE]):
        async with simulator(short_meeting) as sim:
            stream = sim.new_stream()
            playing = asyncio.create_task(sim.play(stream))
            await ingest.handle(start_command(stream))
            await asyncio.wait_for(playing, 20)
            await until(lambda: _no_streams(ingest))
    meeting = await Meeting.objects.aget(rtms_stream_id=stream.rtms_stream_id)
    assert meeting.zoom_account_id == "simulated-account"
    assert meeting.meeting_number == stream.meeting_number
    assert meeting.operator_is_original_host is True


async def test_a_later_start_fills_in_what_the_first_did_not_say() -> None:
    bare = StreamCommand("start", "meeting", "owner==", "stream-facts", "wss://unused")
    with override_settings(RTMS_SINKS=[STORAGE]):
        await MeetingStreams().open(bare, WriterFence())
        meeting = await Meeting.objects.aget(rtms_stream_id="stream-facts")
        assert (meeting.zoom_account_id, meeting.meeting_number) == ("", None)
        assert meeting.operator_is_original_host is None
        full = StreamCommand(
            "start",
            "meeting",
            "owner==",
            "stream-facts",
            "wss://unused",
            account_id="acct-1",
            meeting_number=81234567890,
            is_original_host=False,
        )
        await MeetingStreams().reopen(full, WriterFence())
    meeting = await Meeting.objects.aget(rtms_stream_id="stream-facts")
    assert (meeting.zoom_account_id, meeting.meeting_number) == ("acct-1", 81234567890)
    assert meeting.operator_is_original_host is False
