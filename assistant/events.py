"""Everything pushed live to viewers: group names, event types and payload shapes, in one place.

Each meeting has one ordered stream of events. Every event carries the meeting's sequence number
`seq`; a viewer that reconnects sends the last `seq` it saw and receives what it missed.
"""

from __future__ import annotations

from typing import Final, Literal, NotRequired, TypedDict

# Final: each name has its literal type, so a payload built with it type-checks as its TypedDict.
SEGMENT: Final = "segment"
PARTICIPANT: Final = "participant"
CHAT: Final = "chat"
STATE: Final = "state"
NOTES: Final = "notes"
EVENT_TYPES = (SEGMENT, PARTICIPANT, CHAT, STATE, NOTES)

# The Channels message type that carries a live event to the consumers of a meeting group.
CHANNEL_MESSAGE_TYPE = "live.event"


def meeting_group(meeting_id: int) -> str:
    """Channels group of a meeting, built from our primary key (Zoom ids hold '+/=')."""
    return f"meeting.{meeting_id}"


class SegmentPayload(TypedDict):
    """A transcript segment; `final` is False for provisional ASR text."""

    type: Literal["segment"]
    seq: int
    id: int
    source: str
    speaker_user_id: int | None
    speaker: str
    start_ms: int
    end_ms: int
    text: str
    language: str
    final: bool


ParticipantAction = Literal["join", "leave", "speaking"]


class ParticipantPayload(TypedDict):
    """A participant joined, left or became the active speaker."""

    type: Literal["participant"]
    seq: int
    action: ParticipantAction
    user_id: int
    name: str
    at_ms: int | None


class ChatPayload(TypedDict):
    """A chat line."""

    type: Literal["chat"]
    seq: int
    id: int
    user_id: int | None
    sender: str
    at_ms: int
    text: str


class StatePayload(TypedDict):
    """The connection state of the meeting's RTMS stream."""

    type: Literal["state"]
    seq: int
    state: str
    detail: str
    stop_reason: NotRequired[int | None]


class NotesPayload(TypedDict):
    """A rolling or final AI summary."""

    type: Literal["notes"]
    seq: int
    kind: str
    text: str


LivePayload = SegmentPayload | ParticipantPayload | ChatPayload | StatePayload | NotesPayload
