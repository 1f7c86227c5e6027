"""Everything pushed live to viewers: group names, event types and payload shapes, in one place.

Each meeting has one ordered stream of events. Every event carries the meeting's sequence number
`seq`; a viewer that reconnects sends the last `seq` it saw and receives what it missed.

A producer builds the whole payload as one of the TypedDicts below, `seq` included, so mypy
checks every key: `seq` is the number reserved by `services.live.next_seq` in the transaction
that publishes the event (or read back from the row stored under it). `services.live.publish`
stores the payload under that number and pushes it unchanged. The browser reads these keys
(static/js/live-meeting.js, meeting-panes.js); a key it reads must be declared here.
"""

from __future__ import annotations

from typing import Final, Literal, TypedDict

# Final: each name has its literal type, so a payload built with it type-checks as its TypedDict.
SEGMENT: Final = "segment"
PARTICIPANT: Final = "participant"
CHAT: Final = "chat"
STATE: Final = "state"
NOTES: Final = "notes"
CAPTIONS: Final = "captions"
SLIDE: Final = "slide"
EVENT_TYPES = (SEGMENT, PARTICIPANT, CHAT, STATE, NOTES, CAPTIONS, SLIDE)

# The stream-only state of a state event that reports a stretch of possibly lost data. The
# meeting states themselves are assistant.models.Meeting.State.
GAP: Final = "gap"

# The Channels message type that carries a live event to the consumers of a meeting group.
CHANNEL_MESSAGE_TYPE = "live.event"


def meeting_group(meeting_id: int) -> str:
    """Channels group of a meeting, built from our primary key (Zoom ids hold '+/=')."""
    return f"meeting.{meeting_id}"


# The Channels message type that ends a viewer's socket at once (sign-out, deauthorization); it
# carries the WebSocket close `code` to send. Every live socket joins the two groups below.
ACCESS_ENDED_MESSAGE_TYPE: Final = "access.ended"


def session_group(session_key: str) -> str:
    """Channels group of the sockets opened under one session (keys are [a-z0-9] only)."""
    return f"session.{session_key}"


def user_group(user_id: int) -> str:
    """Channels group of the sockets of one site user, whichever session opened them."""
    return f"user.{user_id}"


class AccessEndedMessage(TypedDict):
    """What a socket in a session or user group is told when its access ends."""

    type: Literal["access.ended"]
    code: int


class SegmentPayload(TypedDict):
    """A transcript segment; `final` is False for provisional ASR text.

    A provisional text's last `tentative_words` words (0 for every other text) are not yet
    agreed on by two decodes and may still change (services/streaming.py); the words before
    them stay.
    """

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
    tentative_words: int


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
    """The connection state of the meeting's RTMS stream: `state` is a Meeting.State value."""

    type: Literal["state"]
    seq: int
    state: str
    detail: str
    stop_reason: int | None


class GapPayload(StatePayload):
    """A state event with `state` GAP: data may be missing; `current` is the meeting's state.

    `from_ms` and `to_ms` bound the gap on the stream clock (the clock of segments' `start_ms`
    and chat's `at_ms`) and `frames_lost` counts the media frames lost; each is None when the
    ingest could not tell (a dropped socket knows where the gap began, not what it lost).
    """

    current: str
    from_ms: int | None
    to_ms: int | None
    frames_lost: int | None


class NotesDecision(TypedDict):
    """A decision in the notes; `id` is the Decision row's."""

    id: int
    text: str
    segment_ids: list[int]


class NotesActionItem(TypedDict):
    """An action item in the notes; `due` is an ISO date when parsed, else as said, or None."""

    id: int
    text: str
    owner: str
    due: str | None
    due_text: str
    done: bool
    edited: bool
    segment_ids: list[int]


class NotesTemplate(TypedDict):
    """The notes template a meeting's notes are written with: its key and its name."""

    key: str
    name: str


class NotesSectionLine(TypedDict):
    """A line of a template's section, with the segments it rests on."""

    text: str
    segment_ids: list[int]


class NotesSection(TypedDict):
    """A section of the template: heading, lines, and a note (e.g. that it needs an AI model)."""

    heading: str
    items: list[NotesSectionLine]
    note: str


class NotesPayload(TypedDict):
    """A new version of the meeting's notes (services/notes): the whole notes, not a diff.

    `engine` is "extractive" (an automatic extract, no LLM) or "llm"; `status` is "ok" or why
    the LLM's notes are missing ("llm_unreachable", "llm_invalid"); `final` once the meeting
    ended; `sections` are the template's (none with the default template).
    """

    type: Literal["notes"]
    seq: int
    engine: str
    status: str
    final: bool
    title: str
    summary: str
    key_points: list[str]
    decisions: list[NotesDecision]
    action_items: list[NotesActionItem]
    open_questions: list[str]
    template: NotesTemplate
    sections: list[NotesSection]
    updated_at: str


class CaptionsPayload(TypedDict):
    """Whether our own captions keep up (services/streaming): `behind` while finals come late.

    `lag_ms` is how late the final that changed it came: from the end of its speech reaching the
    ingest to its text being stored.
    """

    type: Literal["captions"]
    seq: int
    behind: bool
    lag_ms: int


class SlidePayload(TypedDict):
    """A slide the screen share showed (services/slides.py); sent again, same `id`, with its
    `title` once its text is read. `at_ms` is the stream clock; the URLs serve its picture."""

    type: Literal["slide"]
    seq: int
    id: int
    at_ms: int
    sharer_user_id: int | None
    sharer: str
    title: str
    image_url: str
    thumbnail_url: str


LivePayload = (
    SegmentPayload
    | ParticipantPayload
    | ChatPayload
    | StatePayload
    | GapPayload
    | NotesPayload
    | CaptionsPayload
    | SlidePayload
)
