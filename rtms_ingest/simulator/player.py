"""The timeline of a recorded meeting, played onto one stream's sockets at the configured pace.

Stream clock: stream time 0 is the moment the client sends CLIENT_READY_ACK, or with
clock_start "webhook" the moment rtms_started is posted; it advances `speed` ms per real ms.
Every `timestamp`, `start_time` and `end_time` on the wire is `clock_origin_ms + stream ms`,
where clock_origin_ms is the Unix ms at stream time 0 (or the configured value), so
subtracting the FIRST_PACKET_TIMESTAMP event's timestamp gives stream ms.

A client ready at stream time R > 0 (webhook clock) gets the announcements stamped R, then the
buffered audio (`send_buffered_audio`), then the timeline from R on; transcript, chat and
events due before R are not sent (Zoom buffers only audio, reference §7).
"""

from __future__ import annotations

import asyncio
import bisect
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rtms_ingest.protocol import (
    AudioParams,
    ChatData,
    EventParticipant,
    EventType,
    EventUpdate,
    MsgType,
    RtmsEvent,
    SessionState,
    SessionStateUpdate,
    TextContent,
    TranscriptData,
)
from rtms_ingest.protocol.enums import CHAT_GROUP_EVENTS
from rtms_ingest.simulator.audio import AudioFrame, FrameSchedule, buffered_frames
from rtms_ingest.simulator.faults import CHAT_GROUP_ODD_EVENT, MALFORMED_FRAME, Faults
from rtms_ingest.simulator.fixture import (
    FixtureChat,
    FixtureParticipant,
    FixtureUtterance,
    RecordedMeeting,
)
from rtms_ingest.simulator.report import BufferedAudio, TextDelivery

if TYPE_CHECKING:
    from rtms_ingest.simulator.connection import Connection
    from rtms_ingest.simulator.session import SimulatedStream

_PICTURE_EVENTS = {
    "share_start": EventType.SHARING_START,
    "share_stop": EventType.SHARING_STOP,
    "video_on": EventType.PARTICIPANT_VIDEO_ON,
    "video_off": EventType.PARTICIPANT_VIDEO_OFF,
}

# At high speed, audio frames are sent in batches at least this far apart (real seconds), so a
# 50x replay does not wake the loop for every 0.4 ms frame. At speed 1 it never delays a frame.
AUDIO_BATCH_S = 0.01


@dataclass(frozen=True)
class Cue:
    """One timeline entry: what to do at stream time `at_ms`."""

    at_ms: int
    # join | leave | speaker | transcript | chat | share_start | share_stop | video_on |
    # video_off | drop | malformed | chat_groups
    action: str
    subject: Any = None


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def build_cues(meeting: RecordedMeeting, transcript_delay_s: float, faults: Faults) -> list[Cue]:
    """Every timed thing of the meeting except audio, sorted (stable for equal times).

    Participants present at time 0 are announced at ready time, not here. A transcript due
    after the end of the meeting is sent at the end, so every utterance arrives.
    """
    end_ms = _ms(meeting.duration_s)
    cues: list[Cue] = []
    for p in meeting.participants:
        if p.join_s > 0:
            cues.append(Cue(_ms(p.join_s), "join", p))
        if p.leave_s is not None and _ms(p.leave_s) < end_ms:
            cues.append(Cue(_ms(p.leave_s), "leave", p))
    speaker: int | None = None
    for u in meeting.utterances:
        if u.user_id != speaker:
            cues.append(Cue(_ms(u.start_s), "speaker", u))
            speaker = u.user_id
        cues.append(Cue(min(_ms(u.end_s + transcript_delay_s), end_ms), "transcript", u))
    cues.extend(Cue(_ms(c.at_s), "chat", c) for c in meeting.chat)
    for share in meeting.shares:
        cues.append(Cue(_ms(share.start_s), "share_start", share.user_id))
        cues.append(Cue(min(_ms(share.end_s), end_ms), "share_stop", share.user_id))
    for video in meeting.videos:
        cues.append(Cue(_ms(video.start_s), "video_on", video.user_id))
        if _ms(video.end_s) < end_ms:
            cues.append(Cue(_ms(video.end_s), "video_off", video.user_id))
    if faults.drop_socket_at_s is not None:
        cues.append(Cue(_ms(faults.drop_socket_at_s), "drop", faults.drop_socket))
    if faults.malformed_frame_at_s is not None:
        cues.append(Cue(_ms(faults.malformed_frame_at_s), "malformed"))
    if faults.chat_group_events_at_s is not None:
        cues.append(Cue(_ms(faults.chat_group_events_at_s), "chat_groups"))
    return sorted(cues, key=lambda cue: cue.at_ms)


class StreamClock:
    """Maps stream milliseconds to the loop's clock at a given speed."""

    def __init__(self, speed: float, origin_ms: int | None) -> None:
        self.speed = speed
        self.origin_ms = time.time_ns() // 1_000_000 if origin_ms is None else origin_ms
        # The event loop's clock is time.monotonic(), so monotonic_ns stamps compare with it.
        self.start_ns = time.monotonic_ns()
        self._start = self.start_ns / 1e9

    def now_ms(self) -> int:
        """Stream milliseconds elapsed."""
        return int((asyncio.get_running_loop().time() - self._start) * 1000 * self.speed)

    def wire(self, stream_ms: int) -> int:
        """The on-the-wire timestamp of a stream time."""
        return self.origin_ms + stream_ms

    async def sleep_until(self, stream_ms: float) -> None:
        """Sleep until the stream clock reaches `stream_ms`."""
        due = self._start + stream_ms / 1000 / self.speed
        await asyncio.sleep(max(0.0, due - asyncio.get_running_loop().time()))

    def real_to_stream_ms(self, seconds: float) -> int:
        """How many stream ms pass in `seconds` of real time."""
        return int(seconds * 1000 * self.speed)


class Player:
    """Plays one meeting onto one stream: announcements, timeline cues and audio frames."""

    def __init__(self, stream: SimulatedStream, clock: StreamClock) -> None:
        self.stream = stream
        self.meeting = stream.meeting
        self.clock = clock
        self.cues = build_cues(self.meeting, stream.config.transcript_delay_s, stream.config.faults)
        self._audio_sent_until_ms = 0
        self._first_cue = 0
        self._name_json: dict[int, str] = {}

    def start_at(self, ready_ms: int) -> None:
        """Play live from `ready_ms` on: cues due before it are skipped, audio is sent after it.

        Skipped transcript and chat are recorded as undelivered (Zoom buffers only audio).
        """
        self._first_cue = bisect.bisect_left([cue.at_ms for cue in self.cues], ready_ms)
        self._audio_sent_until_ms = ready_ms
        for cue in self.cues[: self._first_cue]:
            if cue.action == "transcript":
                u = cue.subject
                key = (u.user_id, self.clock.wire(_ms(u.start_s)))
                self._record("transcript", key, u, _ms(u.start_s), _ms(u.end_s), cue.at_ms, None)
            elif cue.action == "chat":
                chat = cue.subject
                key = (chat.user_id, self.clock.wire(_ms(chat.at_s)))
                self._record("chat", key, chat, cue.at_ms, cue.at_ms, cue.at_ms, None)

    async def send_buffered_audio(self, ready_ms: int, buffer_data: bool | None) -> BufferedAudio:
        """Send the audio due by `ready_ms` (its last 60 s) as one burst, unless buffer_data false.

        Absent buffer_data is Zoom's default, true (reference §7). Call before run().
        """
        target = self.stream.audio_target()
        kept: list[AudioFrame] = []
        due = sent = 0
        send_rate = 0
        if target is not None:
            connection, params = target
            schedule = self._schedule(params)
            send_rate = schedule.send_rate_ms
            kept, due = buffered_frames(schedule, ready_ms)
            if buffer_data is False:
                kept = []
            sent = await self._send_frames(connection, kept, send_rate)
        burst = kept[:sent]
        return BufferedAudio(
            buffer_data=buffer_data,
            ready_ms=ready_ms,
            due_frames=due,
            sent_frames=sent,
            sent_bytes=sum(len(frame.pcm) for frame in burst),
            first_ms=burst[0].index * send_rate if burst else None,
            end_ms=(burst[-1].index + 1) * send_rate if burst else None,
        )

    async def announce(self, at_ms: int | None = None) -> None:
        """Session started, the first-packet time and who is present (at ready and rejoin).

        Stamped `at_ms` (stream time 0 at the start), else the current stream time.
        """
        now = self.clock.now_ms() if at_ms is None else at_ms
        state = SessionStateUpdate(
            self.stream.rtms_session_id, SessionState.STARTED, 0, self.clock.wire(now)
        )
        await self.stream.send_signaling(state, "session_state", (SessionState.STARTED, 0))
        first = RtmsEvent(EventType.FIRST_PACKET_TIMESTAMP, timestamp=self.clock.origin_ms)
        await self._event(first)
        present = self.meeting.present_at(now / 1000)
        if present:
            await self._event(self._roster(EventType.PARTICIPANT_JOIN, present, now))

    async def run(self) -> None:
        """Play the timeline to the end of the meeting (the caller ends the stream)."""
        end_ms = _ms(self.meeting.duration_s)
        index = self._first_cue
        while True:
            now = self.clock.now_ms()
            while index < len(self.cues) and self.cues[index].at_ms <= now:
                await self._play(self.cues[index])
                index += 1
            await self._send_audio(min(now, end_ms))
            if now >= end_ms:
                return
            next_cue = self.cues[index].at_ms if index < len(self.cues) else end_ms
            await self.clock.sleep_until(min(next_cue, self._next_audio_ms(now), end_ms))

    def _next_audio_ms(self, now: int) -> float:
        target = self.stream.audio_target()
        if target is None:
            return float("inf")
        schedule = self._schedule(target[1])
        return max(schedule.next_due_ms(now), now + self.clock.real_to_stream_ms(AUDIO_BATCH_S))

    def _schedule(self, params: AudioParams) -> FrameSchedule:
        return self.stream.library.schedule(params.data_opt or 1, params.send_rate or 20)

    async def _send_audio(self, now: int) -> None:
        """Send the frames that fell due since the last call (lost if nobody listens)."""
        after, self._audio_sent_until_ms = self._audio_sent_until_ms, now
        target = self.stream.audio_target()
        if target is None or now <= after or self.stream.paused:
            return  # nobody listens, or paused: these frames are never sent
        connection, params = target
        schedule = self._schedule(params)
        await self._send_frames(connection, schedule.due_between(after, now), schedule.send_rate_ms)

    async def _send_frames(
        self, connection: Connection, frames: list[AudioFrame], send_rate_ms: int
    ) -> int:
        """Send frames in order, stamped where each starts; how many went out before a failure."""
        for count, frame in enumerate(frames):
            stamp = self.clock.wire(frame.index * send_rate_ms)
            text = self._audio_text(frame, stamp)
            key = (frame.user_id, stamp, len(frame.pcm))
            if not await connection.send_text(text, "audio", key):
                return count
        return len(frames)

    def _audio_text(self, frame: AudioFrame, stamp: int) -> str:
        """MEDIA_DATA_AUDIO exactly as protocol.encode_message writes it (a test checks that),
        built from the frame's shared base64: audio is most of the simulator's work."""
        name = self._name_json.get(frame.user_id)
        if name is None:
            name = self._name_json[frame.user_id] = json.dumps(
                self._name(frame.user_id), ensure_ascii=False
            )
        return (
            f'{{"msg_type":{int(MsgType.MEDIA_DATA_AUDIO)},"content":{{"data":"{frame.b64}",'
            f'"timestamp":{stamp},"user_id":{frame.user_id},"user_name":{name},'
            f'"length":{len(frame.pcm)}}}}}'
        )

    async def _play(self, cue: Cue) -> None:
        now = cue.at_ms
        if cue.action in ("join", "leave"):
            kind = (
                EventType.PARTICIPANT_JOIN if cue.action == "join" else EventType.PARTICIPANT_LEAVE
            )
            await self._event(self._roster(kind, [cue.subject], now))
        elif cue.action == "speaker":
            self.stream.active_speaker = cue.subject.user_id
            await self._event(self._speaker(cue.subject, now))
        elif cue.action in _PICTURE_EVENTS:
            await self._event(self._picture_event(_PICTURE_EVENTS[cue.action], cue.subject, now))
        elif cue.action == "transcript":
            await self._transcript(cue.subject, now)
        elif cue.action == "chat":
            await self._chat(cue.subject)
        elif cue.action == "drop":
            self.stream.drop_sockets(cue.subject)
        elif cue.action == "malformed":
            await self.stream.send_malformed(MALFORMED_FRAME)
        elif cue.action == "chat_groups":
            await self._chat_groups(now)

    def _name(self, user_id: int) -> str:
        try:
            return self.meeting.user_name(user_id)
        except KeyError:
            return ""  # the mixed stream (user_id 0) has no single speaker

    def _roster(self, kind: EventType, people: Sequence[FixtureParticipant], now: int) -> RtmsEvent:
        participants = tuple(EventParticipant(p.user_id, p.user_name) for p in people)
        return RtmsEvent(kind, timestamp=self.clock.wire(now), participants=participants)

    def _picture_event(self, kind: EventType, user_id: int, now: int) -> RtmsEvent:
        """SHARING_START/STOP (5/6) and PARTICIPANT_VIDEO_ON/OFF (8/9).

        Video on/off carry `participants` (reference §2.8); the sharing events' fields are
        UNCONFIRMED, so they carry the sharer as the active-speaker event names a speaker.
        """
        stamp = self.clock.wire(now)
        if kind in (EventType.SHARING_START, EventType.SHARING_STOP):
            return RtmsEvent(kind, timestamp=stamp, user_id=user_id, user_name=self._name(user_id))
        who = (EventParticipant(user_id, self._name(user_id)),)
        return RtmsEvent(kind, timestamp=stamp, participants=who)

    def _speaker(self, utterance: FixtureUtterance, now: int) -> RtmsEvent:
        return RtmsEvent(
            EventType.ACTIVE_SPEAKER_CHANGE,
            timestamp=self.clock.wire(now),
            user_id=utterance.user_id,
            user_name=self._name(utterance.user_id),
        )

    async def _chat_groups(self, now: int) -> None:
        """The chat-group events fault: 10-14 as documented, then one of an odd shape."""
        for event_type in sorted(CHAT_GROUP_EVENTS):
            await self._event(RtmsEvent(event_type, timestamp=self.clock.wire(now)))
        signaling = self.stream.signaling
        if signaling is not None and await signaling.send_text(
            CHAT_GROUP_ODD_EVENT, "event", ("chat_group_odd",)
        ):
            self.stream.report.faults_fired.append("odd chat-group event on signaling")

    async def _event(self, event: RtmsEvent) -> None:
        if not self.stream.subscribed(event.event_type):
            return
        ids = tuple(p.user_id for p in event.participants)
        if event.user_id is not None:
            ids = (event.user_id,)
        await self.stream.send_signaling(EventUpdate(event), "event", (event.event_type, *ids))

    async def _transcript(self, u: FixtureUtterance, now: int) -> None:
        start = self.clock.wire(_ms(u.start_s))
        content = TextContent(
            data=u.text,
            timestamp=self.clock.wire(now),
            user_id=u.user_id,
            user_name=self._name(u.user_id),
            start_time=start,
            end_time=self.clock.wire(_ms(u.end_s)),
            language=u.language,
        )
        key = (u.user_id, start)
        socket = None
        if not self.stream.paused:
            socket = await self._send_text("transcript", TranscriptData(content), key)
        self._record("transcript", key, u, _ms(u.start_s), _ms(u.end_s), now, socket)

    async def _chat(self, chat: FixtureChat) -> None:
        stamp = self.clock.wire(_ms(chat.at_s))
        content = TextContent(
            data=chat.text,
            timestamp=stamp,
            user_id=chat.user_id,
            user_name=self._name(chat.user_id),
        )
        key = (chat.user_id, stamp)
        socket = None
        if not self.stream.paused:
            socket = await self._send_text("chat", ChatData(content), key)
        self._record("chat", key, chat, _ms(chat.at_s), _ms(chat.at_s), _ms(chat.at_s), socket)

    async def _send_text(
        self, kind: str, message: TranscriptData | ChatData, key: tuple[Any, ...]
    ) -> str | None:
        """Send on the socket carrying `kind`; its label, or None if the frame was lost."""
        connection = self.stream.media_socket(kind)
        if connection is None or not await connection.send(message, kind, key):
            return None
        return connection.label

    def _record(
        self,
        kind: str,
        key: tuple[Any, ...],
        said: FixtureUtterance | FixtureChat,
        start_ms: int,
        end_ms: int,
        due_ms: int,
        socket: str | None,
    ) -> None:
        """Note whether a due transcript or chat line reached a client socket, and when."""
        self.stream.report.texts.append(
            TextDelivery(
                kind=kind,
                key=key,
                user_id=said.user_id,
                start_ms=start_ms,
                end_ms=end_ms,
                text=said.text,
                due_ms=due_ms,
                delivered=socket is not None,
                stream_ms=self.clock.now_ms(),
                wall_ms=time.time_ns() // 1_000_000,
                monotonic_ns=time.monotonic_ns(),
                socket=socket or "",
                session=self.stream.report.signaling_connections,
            )
        )
