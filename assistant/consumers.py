"""The live viewer socket: one meeting's captions, participants, chat and state, in order."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from assistant import events
from assistant.services import access, live

log = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
REPLAY_BATCH = 1000


class MeetingConsumer(AsyncJsonWebsocketConsumer):
    """Authorises by server-side meeting id, replays what a reconnecting viewer missed."""

    meeting_id: int
    group_name: str
    last_seq: int

    async def connect(self) -> None:
        self.meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        if not await database_sync_to_async(_may_view)(self.scope, self.meeting_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.group_name = events.meeting_group(self.meeting_id)
        self.last_seq = _since_from_query(self.scope.get("query_string", b""))
        # Join first, then replay: anything published meanwhile is queued, and seq dedupes it.
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.catch_up()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group_name"):
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

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

        The session's user and panel grant are loaded again: one deactivated, no longer owner or
        staff, or whose panel grant expired, is closed out. Catching up first means a lost last
        push (the final `ended` state, say) is noticed within one ping, rather than never.
        """
        self.scope["user"] = await get_user(self.scope)
        if not await database_sync_to_async(_may_view)(self.scope, self.meeting_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.catch_up()
        await self.send_json({"type": "pong", "seq": self.last_seq})

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


def _may_view(scope: dict[str, Any], meeting_id: int) -> bool:
    """The one access rule, for the socket's user and panel grant."""
    return access.can_view_meeting(access.Viewer.from_scope(scope), meeting_id)


def _since_from_query(query_string: bytes) -> int:
    values = parse_qs(query_string.decode("latin-1")).get("since", [])
    try:
        return max(0, int(values[0])) if values else 0
    except ValueError:
        return 0
