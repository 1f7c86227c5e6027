"""Turning rows into what the pages show: caption clocks, durations, state badges, API dicts.

The caption clock mirrors static/js/format.js so server- and client-rendered captions agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from assistant import events, languages
from assistant.models import (
    ChatMessage,
    Meeting,
    Participant,
    Track,
    Transcription,
    TranscriptSegment,
)
from assistant.services import clock, meeting_language, tracks
from assistant.services.template_choice import TemplateChosen
from assistant.services.track_choice import TrackChosen
from assistant.views import stop_reasons
from assistant.views.chat_links import ChatPiece, chat_pieces

# A stream-clock value beyond one day is a wall-clock timestamp, not an offset from the start.
WALL_CLOCK_MS = clock.WALL_CLOCK_MS
SPEAKER_COLOURS = 8

BADGE_CLASSES: dict[str, str] = {
    Meeting.State.PENDING: "badge-waiting",
    Meeting.State.CONNECTING: "badge-waiting",
    Meeting.State.LIVE: "badge-live",
    Meeting.State.RECONNECTING: "badge-warning",
    Meeting.State.ENDED: "badge-ended",
    Meeting.State.FAILED: "badge-failed",
}

# What the status bar says about the RTMS stream, per meeting state and for a gap in the data.
STREAM_TEXT: dict[str, str] = {
    Meeting.State.PENDING: "Stream: waiting for Zoom",
    Meeting.State.CONNECTING: "Stream: connecting to Zoom",
    Meeting.State.LIVE: "Stream: receiving",
    Meeting.State.RECONNECTING: "Stream: reconnecting to Zoom",
    Meeting.State.ENDED: "Stream: meeting ended",
    Meeting.State.FAILED: "Stream: failed",
    events.GAP: "Stream: some data may be missing",
}


class ShownState(TypedDict):
    """How the live page shows one meeting state."""

    label: str
    badge: str
    finished: bool


class StateNames(TypedDict):
    """The state names the live page's script works with (it spells none of its own)."""

    meeting: dict[str, ShownState]
    stream: dict[str, str]
    gap: str
    failed: str  # the state whose detail (why) the status bar shows
    stop_reasons: dict[str, str]  # Zoom's stop reason (a number, as text) -> a sentence
    stop_reason_unknown: str  # the sentence for any other number, with `{code}` in it


def clock_origin(first_start_ms: int | None) -> int:
    """The value a meeting's caption clock counts from: 0, or its first wall-clock start."""
    return clock.origin(first_start_ms)


def clock_label(ms: int | None, origin: int) -> str:
    """`mm:ss` (or `h:mm:ss`) since the start of the meeting; empty when it cannot be told."""
    if ms is None:
        return ""
    offset = ms - origin
    if offset < 0 or offset >= WALL_CLOCK_MS:
        return ""
    return clock.elapsed(offset)


def gap_label(from_ms: int | None, to_ms: int | None, frames_lost: int | None, origin: int) -> str:
    """What is known of a gap: "03:12 to 03:14, 120 frames lost"; empty when nothing is."""
    start, end = clock_label(from_ms, origin), clock_label(to_ms, origin)
    parts = []
    if start and end:
        parts.append(f"at {start}" if start == end else f"{start} to {end}")
    elif start:
        parts.append(f"from {start}")
    elif end:
        parts.append(f"until {end}")
    if frames_lost is not None:
        parts.append(f"{frames_lost} frame{'' if frames_lost == 1 else 's'} lost")
    return ", ".join(parts)


def duration_label(meeting: Meeting, now: dt.datetime | None = None) -> str:
    """How long the meeting ran (or has been running); empty before it started."""
    if meeting.started_at is None:
        return ""
    end = meeting.ended_at or (None if not meeting.is_live else (now or timezone.now()))
    if end is None:
        return ""
    seconds = max(0, int((end - meeting.started_at).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod((seconds + 30) // 60, 60)  # to the nearest minute
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def badge_class(state: str) -> str:
    """CSS class of a meeting state badge."""
    return BADGE_CLASSES.get(state, "badge-waiting")


def stream_text(state: str) -> str:
    """What the status bar says about the stream in a meeting state (or a gap)."""
    return STREAM_TEXT.get(state, f"Stream: {state}")


# The transcript select's options (templates/meetings/live_panes.html), in words.
_TRANSCRIPTION_WORDS = {"asr": "ours only", "native": "Zoom's only", "both": "both tracks"}


def transcription_default_label(mode: str) -> str:
    """The transcript select's default option, saying what the default (TRANSCRIPTION) is."""
    return f"Default: {_TRANSCRIPTION_WORDS.get(mode, mode)}"


def recording_default_label(record: bool) -> str:
    """The recording select's default option, saying what the default (RECORD_AUDIO) is."""
    return "Default: record" if record else "Default: don't record"


def state_names() -> StateNames:
    """Every meeting state with its label, badge and whether it is final; stream texts; GAP;
    the failed state; Zoom's stop reasons in words."""
    return {
        "meeting": {
            state.value: {
                "label": state.label,
                "badge": badge_class(state),
                "finished": state in Meeting.FINISHED_STATES,
            }
            for state in Meeting.State
        },
        "stream": {str(state): text for state, text in STREAM_TEXT.items()},
        "gap": events.GAP,
        "failed": Meeting.State.FAILED.value,
        "stop_reasons": {str(code): text for code, text in stop_reasons.SENTENCES.items()},
        "stop_reason_unknown": stop_reasons.UNKNOWN,
    }


def stop_text(meeting: Meeting) -> str:
    """Why a finished meeting's stream stopped, in words, when Zoom (or the ingest) said."""
    if meeting.state not in Meeting.FINISHED_STATES or meeting.stop_reason is None:
        return ""
    return stop_reasons.sentence(meeting.stop_reason)


def moment_url(meeting_id: int, segment_id: int) -> str:
    """The meeting page opened where a segment was said (its transcript part, then the line)."""
    page = reverse("meeting-detail", args=[meeting_id])
    return f"{page}?at={segment_id}#seg-{segment_id}"


def chat_moment_url(meeting_id: int, chat_id: int, segment_id: int | None) -> str:
    """The meeting page at a chat message: the transcript part of a segment said about then
    (`segment_id`, if any), and the message in the chat pane."""
    page = reverse("meeting-detail", args=[meeting_id])
    at = f"?at={segment_id}" if segment_id is not None else ""
    return f"{page}{at}#chat-{chat_id}"


def slide_moment_url(meeting_id: int, slide_id: int, segment_id: int | None) -> str:
    """The meeting page at a slide: the transcript part of a segment said while it was shown
    (`segment_id`, if any), and the slide on the timeline."""
    page = reverse("meeting-detail", args=[meeting_id])
    at = f"?at={segment_id}" if segment_id is not None else ""
    return f"{page}{at}#slide-{slide_id}"


def speaker_colour(index: int) -> str:
    """Colour class of the meeting's index-th speaker (mirrors speakerClass in format.js)."""
    return f"spk-{index % SPEAKER_COLOURS}"


@dataclass(frozen=True)
class CaptionRow:
    """One caption line as the meeting page shows it."""

    seq: int
    speaker: str
    colour: str
    clock: str
    text: str
    continued: bool
    source: str
    segment_id: int = 0
    # The segment's language in words where it differs from the meeting's ("" elsewhere).
    language_label: str = ""
    language: str = ""
    start_ms: int = 0
    slide: Any = None  # a views.slide_rows.SlideRow first shown at this line, if any


@dataclass(frozen=True)
class ParticipantRow:
    """One participant as the meeting page shows them."""

    name: str
    present: bool
    left_clock: str
    thumbnail_url: str = ""  # their camera's latest thumbnail, if video was taken


@dataclass(frozen=True)
class ChatRow:
    """One chat line as the meeting page shows it."""

    seq: int
    sender: str
    clock: str
    text: str
    chat_id: int = 0

    @property
    def pieces(self) -> list[ChatPiece]:
        """The text as plain runs and http(s) links (chat_links)."""
        return chat_pieces(self.text)


def caption_rows(
    segments: list[TranscriptSegment], origin: int, reference_language: str = ""
) -> list[CaptionRow]:
    """Stored segments as caption lines; `continued` when the same speaker goes on; a segment
    in another language than `reference_language` (the meeting's) is labelled."""
    rows: list[CaptionRow] = []
    previous: dict[str, tuple[int | None, str]] = {}  # per track: the tracks are shown apart
    # Colours go to speakers in order of first appearance, so the first eight never clash.
    colours: dict[tuple[int | None, str], str] = {}
    for s in segments:
        speaker = (s.speaker_user_id, s.speaker_name)
        colour = colours.setdefault(speaker, speaker_colour(len(colours)))
        rows.append(
            CaptionRow(
                seq=s.seq,
                speaker=s.speaker_name or "Unknown speaker",
                colour=colour,
                clock=clock_label(s.start_ms, origin),
                text=s.text,
                continued=speaker == previous.get(s.source),
                source=s.source,
                segment_id=s.pk,
                language_label=meeting_language.label_for(s.language, reference_language),
                language=s.language,
                start_ms=s.start_ms,
            )
        )
        previous[s.source] = speaker
    return rows


@dataclass(frozen=True)
class CaptionTracks:
    """Which transcript the captions pane shows first, and whether the other can be chosen."""

    shown: str  # TranscriptSegment.Source value
    switchable: bool


def caption_tracks(meeting: Meeting, sources: set[str]) -> CaptionTracks:
    """The meeting's primary track first; a switch when both tracks exist or will."""
    both = {Track.ASR, Track.NATIVE}
    mode = tracks.transcription_mode(meeting)
    switchable = mode == Transcription.BOTH or both <= sources
    return CaptionTracks(shown=tracks.primary_source(meeting), switchable=switchable)


# What a track is called wherever the pages name one (search hits, the notes-track choice).
TRACK_LABELS: dict[str, str] = {Track.NATIVE: "Zoom captions", Track.ASR: "Our captions"}
_TRACK_IN_A_SENTENCE: dict[str, str] = {Track.NATIVE: "Zoom's captions", Track.ASR: "our captions"}


def track_chosen_text(chosen: TrackChosen) -> str:
    """What the page says after a host chose the notes' track."""
    track = _TRACK_IN_A_SENTENCE[chosen.primary]
    if chosen.rebuilding and chosen.meeting.is_live:
        return f"Notes now follow {track}: read again from the start, they update here shortly."
    if chosen.rebuilding:
        return f"Rebuilding the notes from {track}: reload in a minute to see them."
    if tracks.chosen_track(chosen.meeting) != chosen.primary:
        return f"This meeting has only {track}: the notes stay on them."
    return f"The notes already come from {track}."


def caption_count(captions: Iterable[CaptionRow], shown: CaptionTracks) -> int:
    """What the count beside the captions says: the lines of the track the pane shows."""
    return sum(1 for c in captions if c.source == shown.shown)


def template_chosen_text(chosen: TemplateChosen) -> str:
    """What the notes pane says after a host chose the notes' template."""
    name = f"the “{chosen.template.name}” template"
    if chosen.rebuilding and chosen.meeting.is_live:
        return f"Notes now use {name}: read again from the start, they update here shortly."
    if chosen.rebuilding:
        return f"Rebuilding the notes with {name}: they show here when ready."
    return f"The notes use {name}."


def participant_rows(
    rows: list[Participant], origin: int, thumbnails: dict[int, str] | None = None
) -> list[ParticipantRow]:
    """Participants, those still present first; with camera thumbnails when given."""
    thumbnails = thumbnails or {}
    shown = [
        ParticipantRow(
            name=p.name or f"Participant {p.zoom_user_id}",
            present=p.is_present,
            left_clock=clock_label(p.left_at_ms, origin),
            thumbnail_url=thumbnails.get(p.zoom_user_id, ""),
        )
        for p in rows
    ]
    return sorted(shown, key=lambda p: not p.present)


def chat_rows(rows: list[ChatMessage], origin: int) -> list[ChatRow]:
    """Chat lines."""
    return [
        ChatRow(
            seq=c.seq,
            sender=c.sender_name or "Unknown sender",
            clock=clock_label(c.sent_at_ms, origin),
            text=c.text,
            chat_id=c.pk,
        )
        for c in rows
    ]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def meeting_json(meeting: Meeting) -> dict[str, Any]:
    """A meeting in the JSON API."""
    return {
        "id": meeting.pk,
        "topic": meeting.topic,
        "state": meeting.state,
        "product": meeting.product,
        "zoom_id": meeting.zoom_id,
        "rtms_stream_id": meeting.rtms_stream_id,
        "started_at": _iso(meeting.started_at),
        "ended_at": _iso(meeting.ended_at),
        "created_at": _iso(meeting.created_at),
    }


def segment_json(segment: TranscriptSegment) -> dict[str, Any]:
    """A transcript segment in the JSON API."""
    return {
        "seq": segment.seq,
        "speaker": segment.speaker_name,
        "speaker_user_id": segment.speaker_user_id,
        "start_ms": segment.start_ms,
        "end_ms": segment.end_ms,
        "text": segment.text,
        "source": segment.source,
        "final": segment.final,
        "language": segment.language,
    }


@dataclass(frozen=True)
class MeetingCard:
    """One row of the meetings list."""

    meeting: Meeting
    badge: str
    duration: str
    segment_count: int


def meeting_cards(
    meetings: list[Meeting], segment_counts: dict[int, int] | None = None
) -> list[MeetingCard]:
    """Meetings as list rows, with their segment counts (transcripts_query.segment_counts)."""
    counts = segment_counts or {}
    now = timezone.now()
    return [
        MeetingCard(
            meeting=m,
            badge=badge_class(m.state),
            duration=duration_label(m, now),
            segment_count=counts.get(m.pk, 0),
        )
        for m in meetings
    ]


@dataclass(frozen=True)
class LanguageOption:
    """One option of the meeting's language select."""

    value: str  # "" (the setting), "-1" (detect) or a Zoom transcript language id
    name: str


@dataclass(frozen=True)
class LanguageChoice:
    """The host's language select: its options and which one the meeting has."""

    options: tuple[LanguageOption, ...]
    current: str


def language_choice(meeting: Meeting) -> LanguageChoice:
    """The language select: the setting's default first, then detection, then every language."""
    default = languages.choice_name(settings.MEETING_LANGUAGE)
    options = [
        LanguageOption("", f"Default: {default}"),
        LanguageOption(str(languages.AUTO_ID), languages.choice_name(languages.AUTO_ID)),
    ]
    named = sorted(languages.ZOOM_LANGUAGES, key=lambda language: language.name)
    options += [LanguageOption(str(language.id), language.name) for language in named]
    current = "" if meeting.language is None else str(meeting.language)
    return LanguageChoice(tuple(options), current)
