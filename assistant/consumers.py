"""The live viewer socket: one meeting's captions, participants, chat and state, in order.

Access is checked at the handshake and again on the server's own clock: every
LIVE_ACCESS_RECHECK_S and the moment a panel grant expires, whether or not the viewer pings.
A sign-out or a deauthorization closes the socket at once through its session and user groups
(services/sessions.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import User

from assistant import events
from assistant.services import access, broadcasts, live

log = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
REPLAY_BATCH = 1000
# Wake a little after a grant's expiry, so the check does not find it a hair short of expired.
_EXPIRY_MARGIN_S = 0.05


@dataclass(frozen=True)
class LiveAccess:
    """The outcome of one access check: allowed or not, and when the panel grant runs out."""

    allowed: bool
    grant_until: float | None = None
    user_id: int | None = None


class MeetingConsumer(AsyncJsonWebsocketConsumer):
    """Authorises by server-side meeting id, replays what a reconnecting viewer missed."""

    meeting_id: int
    last_seq: int
    session_key: str | None
    grant_until: float | None
    groups_joined: list[str]
    watcher: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        self.groups_joined = []
        checked = await database_sync_to_async(_access_at_handshake)(self.scope, self.meeting_id)
        if not checked.allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.session_key = getattr(self.scope.get("session"), "session_key", None)
        self.grant_until = checked.grant_until
        self.last_seq = _since_from_query(self.scope.get("query_string", b""))
        # Pushes from threads (jobs, sync views) go out on this loop, where the viewers listen.
        broadcasts.use_viewers_loop()
        # Join first, then replay: anything published meanwhile is queued, and seq dedupes it.
        groups = [events.meeting_group(self.meeting_id)]
        if self.session_key:
            groups.append(events.session_group(self.session_key))
        if checked.user_id is not None:
            groups.append(events.user_group(checked.user_id))
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.accept()
        self.watcher = asyncio.create_task(self.watch_access())
        await self.catch_up()

    async def disconnect(self, code: int) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
        await self.leave_groups()

    async def leave_groups(self) -> None:
        """Leave every group joined: nothing more is pushed to a socket being closed."""
        joined, self.groups_joined = self.groups_joined, []
        for group in joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def end(self, code: int) -> None:
        """Close the socket for good with `code` (live-socket.js does not reconnect)."""
        await self.leave_groups()
        await self.close(code=code)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        """Client frames are untrusted: anything that is not JSON is ignored, not fatal."""
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "ping":
            await self.ping()

    async def ping(self) -> None:
        """Answer a viewer's keep-alive, once still allowed and caught up.

        Catching up first means a lost last push (the final `ended` state, say) is noticed
        within one ping, rather than never.
        """
        if not await self.still_allowed():
            await self.end(CLOSE_FORBIDDEN)
            return
        await self.catch_up()
        await self.send_json({"type": "pong", "seq": self.last_seq})

    async def watch_access(self) -> None:
        """Re-check access on the server's clock, so a viewer that never pings is closed too."""
        while True:
            await asyncio.sleep(self.next_check_in())
            try:
                allowed = await self.still_allowed()
            except Exception as exc:
                # The database away: the next period tries again (nothing new is published
                # without it either).
                log.warning("live access re-check of meeting %s failed: %s", self.meeting_id, exc)
                continue
            if not allowed:
                await self.end(CLOSE_FORBIDDEN)
                return

    def next_check_in(self) -> float:
        """Seconds to the next check: the period, or sooner when the panel grant ends."""
        period = float(settings.LIVE_ACCESS_RECHECK_S)
        if self.grant_until is None:
            return period
        return min(period, max(0.0, self.grant_until - time.time()) + _EXPIRY_MARGIN_S)

    async def still_allowed(self) -> bool:
        """Whether the session still names someone who may watch (read afresh, off the loop)."""
        checked = await database_sync_to_async(_access_now)(self.session_key, self.meeting_id)
        self.grant_until = checked.grant_until
        return checked.allowed

    async def access_ended(self, message: events.AccessEndedMessage) -> None:
        """The session signed out or the user was deauthorized (events.ACCESS_ENDED_...)."""
        await self.end(int(message["code"]))

    async def live_event(self, message: dict[str, Any]) -> None:
        """A published event (events.CHANNEL_MESSAGE_TYPE) for this meeting."""
        payload = message["event"]
        seq = int(payload["seq"])
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            # Pushes can overtake each other; the outbox holds every committed event in order.
            await self.catch_up()
        if seq == self.last_seq + 1:
            await self.send_json(payload)
            self.last_seq = seq

    async def catch_up(self) -> None:
        """Send every stored event after last_seq, in order."""
        while True:
            batch = await database_sync_to_async(live.events_since)(
                self.meeting_id, self.last_seq, REPLAY_BATCH
            )
            for payload in batch:
                await self.send_json(payload)
                self.last_seq = int(payload["seq"])
            if len(batch) < REPLAY_BATCH:
                return


def _access_at_handshake(scope: dict[str, Any], meeting_id: int) -> LiveAccess:
    """The one access rule for the user and grant the handshake's session names."""
    return _access_of(access.Viewer.from_scope(scope), meeting_id)


def _access_now(session_key: str | None, meeting_id: int) -> LiveAccess:
    """The same rule for the session as stored now: signed out, deactivated, grant expired..."""
    return _access_of(access.Viewer.from_session_key(session_key), meeting_id)


def _access_of(viewer: access.Viewer, meeting_id: int) -> LiveAccess:
    # Nobody (signed out, no grant) is refused without a meeting query: reconnects stay cheap.
    if not viewer.is_known or not access.can_view_meeting(viewer, meeting_id):
        return LiveAccess(allowed=False)
    user_id = viewer.user.pk if isinstance(viewer.user, User) else None
    until = viewer.panel.until if viewer.panel is not None else None
    return LiveAccess(allowed=True, grant_until=until, user_id=user_id)


def _since_from_query(query_string: bytes) -> int:
    values = parse_qs(query_string.decode("latin-1")).get("since", [])
    try:
        return max(0, int(values[0])) if values else 0
    except ValueError:
        return 0
