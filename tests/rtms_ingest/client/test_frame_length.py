"""Zoom's 2026 `length` on audio frames (reference §7): checked, logged when odd, never fatal."""

from __future__ import annotations

import logging

import pytest

from rtms_ingest.client.channel import ClientStats, LogThrottle
from rtms_ingest.client.delivery import SinkDelivery
from rtms_ingest.protocol import AudioData, BinaryContent
from tests.rtms_ingest.client.stream_support import RecordingSink


def _delivery(sink: RecordingSink, stats: ClientStats) -> SinkDelivery:
    return SinkDelivery(sink, stats, LogThrottle(), "stream-len")


async def test_a_frame_whose_length_matches_is_delivered_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink, stats = RecordingSink(), ClientStats()
    await _delivery(sink, stats).media(AudioData(BinaryContent(b"\x00" * 640, 0, length=640)))
    assert (sink.audio_bytes, stats.odd_lengths) == (640, 0)
    assert "length" not in caplog.text


async def test_a_frame_whose_length_differs_is_logged_and_kept_as_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink, stats = RecordingSink(), ClientStats()
    delivery = _delivery(sink, stats)
    with caplog.at_level(logging.WARNING, logger="rtms_ingest.client"):
        for at in (0, 20, 40):
            await delivery.media(AudioData(BinaryContent(b"\x00" * 640, at, length=320)))
    assert (sink.audio_bytes, stats.odd_lengths) == (3 * 640, 3)
    # One line, not one a frame (the throttle holds back the rest).
    [line] = [r for r in caplog.records if "says length 320 but carries 640" in r.getMessage()]
    assert "stream-len" in line.getMessage()
