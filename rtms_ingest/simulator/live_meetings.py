"""Meetings in progress on the simulated Zoom, and RTMS started, paused, resumed, stopped by REST.

`PATCH /v2/live_meetings/{meetingId}/rtms_app/status` (reference §8) names a meeting by its
numeric id or its UUID (double-encoded when it starts with / or holds //, as Zoom asks; either
encoding is read). Only the meeting's host may act, with the app's own client id in
`settings.client_id`. A start answers 204 and then plays a new stream of the simulator's
recorded meeting (rtms_started, the sockets, rtms_stopped), with the host as its operator; a
stop ends it with MANUAL_API_TRIGGERED (25); pause and resume send SESSION_STATE_UPDATE 3 and 4.
A stream that plays to the recording's end ends the meeting too (MEETING_ENDED): it is no longer
in progress, so a later call about it is a 404.

Where Zoom's answers are UNCONFIRMED the simulator's choice: 409 with code 10308 for a start
while RTMS runs (the Apps SDK's code for it, reference §7); 409 without a code for a pause,
resume or stop that does not fit the stream's state; 403 code 200 ("No permission") for a user
who is not the host; 404 code 3001 for an unknown meeting; 400 code 300 for a bad body.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from rtms_ingest.protocol import StopReason
from rtms_ingest.simulator.report import StreamReport
from rtms_ingest.simulator.session import SimulatedStream, random_meeting_uuid

log = logging.getLogger(__name__)

Answer = tuple[int, dict[str, Any]]
ACTIONS = ("start", "stop", "pause", "resume")
ALREADY_RUNNING = 10308


@dataclass
class LiveMeeting:
    """A meeting in progress (or about to be) and its current RTMS stream, if any."""

    meeting_uuid: str
    meeting_number: int
    host_user_id: str
    stream: SimulatedStream | None = None
    reports: list[StreamReport] = field(default_factory=list)
    # Every accepted call, in order: (action, the bearer's user id), for tests.
    calls: list[tuple[str, str]] = field(default_factory=list)

    @property
    def rtms_running(self) -> bool:
        """Whether a stream of this meeting is offered or playing (paused included)."""
        return self.stream is not None and not self.stream.over


def decode_meeting_id(raw: str) -> str:
    """A path's meeting id, read whether its UUID was encoded once or twice."""
    value = unquote(raw)
    return unquote(value) if "%" in value else value


class LiveMeetings:
    """The simulator's meetings in progress and the REST control of their RTMS streams."""

    def __init__(
        self,
        client_id: str,
        new_stream: Callable[[str], SimulatedStream],
        play: Callable[[SimulatedStream], Any],
    ) -> None:
        self.client_id = client_id
        self._new_stream = new_stream
        self._play = play
        self._meetings: dict[str, LiveMeeting] = {}
        self._playbacks: set[asyncio.Task[None]] = set()

    def open(
        self, host_user_id: str, meeting_uuid: str | None = None, meeting_number: int | None = None
    ) -> LiveMeeting:
        """A meeting `host_user_id` hosts; RTMS is off until started."""
        meeting = LiveMeeting(
            meeting_uuid=meeting_uuid or random_meeting_uuid(),
            meeting_number=meeting_number or secrets.randbelow(9 * 10**10) + 10**10,
            host_user_id=host_user_id,
        )
        self._meetings[meeting.meeting_uuid] = meeting
        self._meetings[str(meeting.meeting_number)] = meeting
        return meeting

    def find(self, meeting_id: str) -> LiveMeeting | None:
        """The meeting a path's id names (numeric id or UUID), if it is in progress."""
        return self._meetings.get(decode_meeting_id(meeting_id))

    async def control(self, meeting_id: str, user_id: str, body: Any) -> Answer:
        """One PATCH .../rtms_app/status by `user_id` (whose bearer token was valid)."""
        problem = self._bad_body(body)
        if problem:
            return 400, {"code": 300, "message": problem}
        meeting = self.find(meeting_id)
        if meeting is None:
            return 404, {"code": 3001, "message": "Meeting does not exist or is not live."}
        if user_id != meeting.host_user_id:
            return 403, {"code": 200, "message": "No permission: only the host controls RTMS."}
        action = body["action"]
        answer = await self._act(meeting, action)
        if answer[0] == 204:
            meeting.calls.append((action, user_id))
        return answer

    async def close(self) -> None:
        """Stop every stream started by REST and wait for their playbacks."""
        for meeting in {id(m): m for m in self._meetings.values()}.values():
            if meeting.stream is not None:
                meeting.stream.request_stop(StopReason.EXIT_SIGNAL)
        if self._playbacks:
            await asyncio.wait(set(self._playbacks), timeout=10)
        for task in self._playbacks:
            task.cancel()

    def _bad_body(self, body: Any) -> str:
        if not isinstance(body, dict) or body.get("action") not in ACTIONS:
            return f"Validation Failed: action must be one of {', '.join(ACTIONS)}."
        settings = body.get("settings")
        if not isinstance(settings, dict) or settings.get("client_id") != self.client_id:
            return "Validation Failed: settings.client_id must be this app's client id."
        return ""

    async def _act(self, meeting: LiveMeeting, action: str) -> Answer:
        stream = meeting.stream if meeting.rtms_running else None
        if action == "start":
            if stream is not None:
                return 409, {
                    "code": ALREADY_RUNNING,
                    "message": "RTMS is already running for this meeting.",
                }
            self.start(meeting)
            return 204, {}
        if stream is None:
            return 409, {"message": "RTMS is not running for this meeting."}
        if action == "stop":
            stream.request_stop(StopReason.MANUAL_API_TRIGGERED)
        elif action == "pause" and not stream.paused:
            await stream.set_paused(True)
        elif action == "resume" and stream.paused:
            await stream.set_paused(False)
        else:
            return 409, {"message": f"RTMS is {'paused' if stream.paused else 'running'}."}
        return 204, {}

    def start(self, meeting: LiveMeeting) -> asyncio.Task[None]:
        """Start a new stream of the meeting (as a REST start does); the task plays it."""
        stream = self._new_stream(meeting.meeting_uuid)
        stream.meeting_number = meeting.meeting_number
        stream.operator_id = meeting.host_user_id
        meeting.stream = stream
        meeting.reports.append(stream.report)
        # After the 204 is written: Zoom answers first, then posts rtms_started.
        task = asyncio.get_running_loop().create_task(self._playback(meeting, stream))
        self._playbacks.add(task)
        task.add_done_callback(self._playbacks.discard)
        return task

    async def _playback(self, meeting: LiveMeeting, stream: SimulatedStream) -> None:
        try:
            report = await self._play(stream)
            log.info("REST-started stream ended (stop reason %s)", report.stop_reason)
        except Exception:
            log.exception("REST-started stream %s failed", stream.rtms_stream_id)
            return
        if report.stop_reason == StopReason.MEETING_ENDED:
            for key in (meeting.meeting_uuid, str(meeting.meeting_number)):
                self._meetings.pop(key, None)
