"""Where one stream's data goes: the interface between the RTMS client (I/O) and its consumers."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from rtms_ingest.protocol import BinaryContent, TextContent


class StreamStatus(StrEnum):
    """The connection states the client reports (the app maps them onto its meeting states)."""

    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"


class StreamSink(Protocol):
    """Receives what an RTMS stream delivers. Every method must return quickly (no blocking)."""

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        """The connection state changed (or a detail of it, e.g. paused or resumed)."""

    async def gap(self, detail: str) -> None:
        """Data may have been lost (a dropped socket, a reconnect)."""

    async def participant_joined(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        """A participant joined (or was present when the stream started)."""

    async def participant_left(
        self, user_id: int, user_name: str | None, at_ms: int | None
    ) -> None:
        """A participant left."""

    async def active_speaker(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        """The active speaker changed."""

    async def transcript(self, content: TextContent) -> None:
        """One native transcript utterance (MEDIA_DATA_TRANSCRIPT)."""

    async def chat(self, content: TextContent) -> None:
        """One chat line (MEDIA_DATA_CHAT)."""

    async def audio(self, content: BinaryContent) -> None:
        """One audio frame (MEDIA_DATA_AUDIO)."""


class IgnoringSink:
    """Implements StreamSink by ignoring everything: a consumer overrides only what it uses."""

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        return None

    async def gap(self, detail: str) -> None:
        return None

    async def participant_joined(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        return None

    async def participant_left(
        self, user_id: int, user_name: str | None, at_ms: int | None
    ) -> None:
        return None

    async def active_speaker(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        return None

    async def transcript(self, content: TextContent) -> None:
        return None

    async def chat(self, content: TextContent) -> None:
        return None

    async def audio(self, content: BinaryContent) -> None:
        return None
