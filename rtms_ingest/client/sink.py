"""Where one stream's data goes: the interface between the RTMS client (I/O) and its consumers."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class GapSpan:
    """Where on the stream clock data may be missing, and how many frames were lost.

    `from_ms` is the stream clock of the last data heard before the gap, `to_ms` that of the
    first data after it; `frames_lost` counts the frames lost. Each is None when it is not known
    (a socket that dropped knows where the gap began, not where it ends nor what it lost).
    """

    from_ms: int | None = None
    to_ms: int | None = None
    frames_lost: int | None = None


class StreamSink(Protocol):
    """Receives what an RTMS stream delivers. Every method must return quickly (no blocking)."""

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        """The connection state changed (or a detail of it, e.g. paused or resumed)."""

    async def gap(self, detail: str, span: GapSpan) -> None:
        """Data may have been lost (a dropped socket, a reconnect, frames dropped under load)."""

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

    async def sharing(
        self, user_id: int | None, user_name: str, started: bool, at_ms: int | None
    ) -> None:
        """Someone started (or stopped) sharing their screen (SHARING_START/STOP)."""

    async def share(self, content: BinaryContent) -> None:
        """One screen-share frame (MEDIA_DATA_SHARE): JPG, PNG or H.264 Annex-B."""

    async def video(self, content: BinaryContent) -> None:
        """One camera frame (MEDIA_DATA_VIDEO): JPG, PNG or H.264 Annex-B."""


class IgnoringSink:
    """Implements StreamSink by ignoring everything: a consumer overrides only what it uses."""

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        return None

    async def gap(self, detail: str, span: GapSpan) -> None:
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

    async def sharing(
        self, user_id: int | None, user_name: str, started: bool, at_ms: int | None
    ) -> None:
        return None

    async def share(self, content: BinaryContent) -> None:
        return None

    async def video(self, content: BinaryContent) -> None:
        return None
