"""A stream's sinks as one: media by what each wants, events to all, one failure spoils none."""

from __future__ import annotations

import pytest

from rtms_ingest.client.sink import GapSpan, StreamStatus
from rtms_ingest.cluster.sinks import SinkSet
from rtms_ingest.protocol import BinaryContent, MediaType, StopReason, TextContent


class RecordingSink:
    """A MediaSink that records every call as (method, first argument)."""

    def __init__(self, wants: MediaType, fail: bool = False) -> None:
        self.wants = wants
        self.fail = fail
        self.calls: list[tuple[str, object]] = []

    def _record(self, method: str, value: object) -> None:
        self.calls.append((method, value))
        if self.fail:
            raise RuntimeError(f"{method} failed on purpose")

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        self._record("stream_state", (state, detail, reason))

    async def gap(self, detail: str, span: GapSpan) -> None:
        self._record("gap", detail)

    async def participant_joined(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        self._record("participant_joined", user_id)

    async def participant_left(
        self, user_id: int, user_name: str | None, at_ms: int | None
    ) -> None:
        self._record("participant_left", user_id)

    async def active_speaker(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        self._record("active_speaker", user_id)

    async def transcript(self, content: TextContent) -> None:
        self._record("transcript", content.data)

    async def chat(self, content: TextContent) -> None:
        self._record("chat", content.data)

    async def audio(self, content: BinaryContent) -> None:
        self._record("audio", content.data)

    async def sharing(
        self, user_id: int | None, user_name: str, started: bool, at_ms: int | None
    ) -> None:
        self._record("sharing", (user_id, started))

    async def share(self, content: BinaryContent) -> None:
        self._record("share", content.data)

    async def video(self, content: BinaryContent) -> None:
        self._record("video", content.data)


TEXT = TextContent(data="hello", timestamp=0, user_id=1, user_name="Ana")
AUDIO = BinaryContent(data=b"\x00\x01", timestamp=0, user_id=1, user_name="Ana")


async def test_each_sink_gets_only_the_media_it_wants_and_every_stream_event() -> None:
    storage = RecordingSink(MediaType.TRANSCRIPT | MediaType.CHAT)
    listener = RecordingSink(MediaType.AUDIO)
    sinks = SinkSet([storage, listener])

    await sinks.transcript(TEXT)
    await sinks.chat(TEXT)
    await sinks.audio(AUDIO)
    await sinks.participant_joined(7, "Ben", 10)
    await sinks.gap("media socket dropped", GapSpan(from_ms=1000))

    assert sinks.wants == MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO
    assert [c[0] for c in storage.calls] == ["transcript", "chat", "participant_joined", "gap"]
    assert [c[0] for c in listener.calls] == ["audio", "participant_joined", "gap"]


async def test_a_failing_sink_spoils_no_other_and_its_failure_is_raised() -> None:
    broken = RecordingSink(MediaType.TRANSCRIPT, fail=True)
    healthy = RecordingSink(MediaType.TRANSCRIPT)
    sinks = SinkSet([broken, healthy])

    with pytest.raises(RuntimeError, match="failed on purpose"):
        await sinks.transcript(TEXT)

    assert healthy.calls == [("transcript", "hello")]


async def test_a_stream_we_close_after_zoom_stopped_it_ends_with_zoom_reason() -> None:
    sink = RecordingSink(MediaType.TRANSCRIPT)
    sinks = SinkSet([sink])
    sinks.zoom_stopped(int(StopReason.HOST_DISABLED_APP))

    await sinks.stream_state(StreamStatus.ENDED, "closed by receiver", 20)

    assert sink.calls == [
        ("stream_state", (StreamStatus.ENDED, "stopped by Zoom", StopReason.HOST_DISABLED_APP))
    ]


async def test_an_end_zoom_did_not_ask_for_keeps_its_own_reason() -> None:
    sink = RecordingSink(MediaType.TRANSCRIPT)
    sinks = SinkSet([sink])

    await sinks.stream_state(StreamStatus.ENDED, "closed by receiver", 20)

    assert sink.calls == [("stream_state", (StreamStatus.ENDED, "closed by receiver", 20))]
