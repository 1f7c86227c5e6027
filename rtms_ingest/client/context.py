"""What every signaling connection of one stream shares: ids, signature, settings, counters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rtms_ingest.client.channel import ClientStats, LogThrottle, SocketSettings
from rtms_ingest.client.delivery import SinkDelivery
from rtms_ingest.protocol import MediaType

__all__ = ["StreamContext"]


@dataclass(frozen=True)
class StreamContext:
    """What every signaling connection of one stream shares."""

    stream_id: str
    owner: dict[str, str]  # {"meeting_uuid" | "session_id" | "engagement_id": id}
    signature: str
    media: MediaType
    settings: SocketSettings
    stats: ClientStats
    throttle: LogThrottle
    delivery: SinkDelivery
    closing: Callable[[], bool]
    # The transcript's language (a TranscriptLanguage) asked in each transcript handshake;
    # None lets Zoom detect it.
    transcript_language: int | None = None
