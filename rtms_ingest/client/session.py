"""One signaling connection of the RTMS client and the media sockets it opens (§4 sequence)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from rtms_ingest.client.channel import FrameChannel, HandshakeRejected, SocketSilent, expect
from rtms_ingest.client.context import StreamContext
from rtms_ingest.client.media import MediaLink, media_params_for, plan_media_sockets
from rtms_ingest.client.signaling import Outcome, SignalingHandler
from rtms_ingest.client.video_follow import SpeakerFollower
from rtms_ingest.client.wire import SocketClosed
from rtms_ingest.protocol import (
    ClientReadyAck,
    DataHandshakeRequest,
    EventSubscription,
    EventSubscriptionItem,
    EventType,
    MediaType,
    SignalingHandshakeRequest,
    SignalingHandshakeResponse,
    StopReason,
)

__all__ = ["SignalingSession", "retire"]

log = logging.getLogger("rtms_ingest.client")

SUBSCRIBED_EVENTS: tuple[EventType, ...] = (
    EventType.ACTIVE_SPEAKER_CHANGE,
    EventType.PARTICIPANT_JOIN,
    EventType.PARTICIPANT_LEAVE,
)
# After TERMINATED (or the close answer) the server closes the media sockets; everything it sent
# before that is read and delivered (the readers take it off the sockets at once), for at most
# this long; whatever is left then is counted and reported as a gap, never dropped silently.
DRAIN_S = 10.0
# Media sockets of a dropped signaling connection keep delivering until the next signaling
# handshake succeeds; then the server should close them, or we do after this long.
RETIRE_GRACE_S = 0.25


def _sequence() -> int:
    """A random uint32 handshake sequence, as the official SDK sends."""
    return secrets.randbits(32)


async def retire(tasks: set[asyncio.Task[str | None]], grace_s: float) -> None:
    """Give media readers `grace_s` to finish on their own, then cancel and await them."""
    if not tasks:
        return
    try:
        await asyncio.wait(tasks, timeout=grace_s)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        tasks.clear()


class SignalingSession:
    """One signaling connection: handshake, media sockets, live streaming, and how it ended."""

    def __init__(
        self,
        ctx: StreamContext,
        lingering: set[asyncio.Task[str | None]],
        on_live: Callable[[], Awaitable[None]],
        *,
        buffer_data: bool = True,
    ) -> None:
        self._ctx = ctx
        self._lingering = lingering  # media readers of the previous connection, still reading
        self._on_live = on_live
        self._buffer_data = buffer_data
        self.channel: FrameChannel | None = None  # set once the signaling handshake succeeded
        self.went_live = False
        self._links: list[MediaLink] = []

    async def run(self, url: str) -> Outcome:
        """Open signaling, handshake, open the media sockets and stream until something ends."""
        ctx = self._ctx
        async with ctx.settings.open(url) as sock:
            channel = ctx.settings.channel(sock, "signaling", ctx.stats, ctx.throttle)
            try:
                return await self._run_on(channel)
            finally:
                channel.stop()

    async def _run_on(self, channel: FrameChannel) -> Outcome:
        """Handshake on an open signaling channel, open the media sockets and stream."""
        ctx = self._ctx
        answer = await self._handshake(channel)
        if isinstance(answer, Outcome):
            return answer
        plan = plan_media_sockets(answer.server_urls or {}, ctx.media)
        for _name, _mask, link_url in plan:
            # Every media URL before any socket: one refused URL opens none of them.
            ctx.settings.url_policy.check(link_url)
        # Old media sockets must be gone before new ones ask for the same media.
        await retire(self._lingering, RETIRE_GRACE_S)
        links = self._links = [
            MediaLink(name, link_url, mask, self._data_request, ctx)
            for name, mask, link_url in plan
        ]
        self.channel = channel
        try:
            return await self._stream(channel, links)
        finally:
            self.channel = None

    async def _handshake(self, channel: FrameChannel) -> SignalingHandshakeResponse | Outcome:
        """SIGNALING_HAND_SHAKE_REQ then RESP; an Outcome if the server closed without one."""
        ctx = self._ctx
        request = SignalingHandshakeRequest(
            rtms_stream_id=ctx.stream_id,
            signature=ctx.signature,
            sequence=_sequence(),
            protocol_version=1,
            rtms_client_agent=ctx.settings.user_agent,
            # Sent explicitly, never left to Zoom's default (§7): with it, the audio Zoom kept
            # since the webhook arrives right after CLIENT_READY_ACK, stamped in the past.
            buffer_data=self._buffer_data,
            **ctx.owner,
        )
        await channel.send(request)
        try:
            answer = await expect(
                channel, SignalingHandshakeResponse, ctx.settings.handshake_timeout_s
            )
        except SocketClosed as exc:
            code = "none" if exc.code is None else exc.code
            detail = f"signaling closed before the handshake answer (close code {code})"
            return Outcome("dropped", detail, no_answer=True)
        if answer.status_code != 0:
            raise HandshakeRejected(answer.status_code, answer.reason)
        return answer

    def use_transcript_language(self, ctx: StreamContext, why: str) -> None:
        """Ask for the transcript in ctx's language: only the socket(s) carrying the transcript
        handshake again (Zoom takes src_language in a data handshake only); the others and
        signaling stay up."""
        self._ctx = ctx
        for link in self._links:
            if MediaType.TRANSCRIPT in link.mask:
                link.restart(why)

    def _data_request(self, mask: MediaType) -> DataHandshakeRequest:
        """The DATA_HAND_SHAKE_REQ for a media socket carrying `mask`."""
        ctx = self._ctx
        return DataHandshakeRequest(
            rtms_stream_id=ctx.stream_id,
            signature=ctx.signature,
            media_type=int(mask),
            sequence=_sequence(),
            protocol_version=1,
            media_params=media_params_for(mask, ctx.transcript_language),
            meeting_uuid=ctx.owner.get("meeting_uuid"),
            session_id=ctx.owner.get("session_id"),
            engagement_id=ctx.owner.get("engagement_id"),
        )

    async def _stream(self, channel: FrameChannel, links: list[MediaLink]) -> Outcome:
        """Run the signaling and media readers until the connection ends, then wind down."""
        ctx = self._ctx
        follower = SpeakerFollower(channel, ctx.stream_id) if MediaType.VIDEO in ctx.media else None
        handler = SignalingHandler(ctx.delivery, links, ctx.closing, ctx.stream_id, follower)
        reader = asyncio.create_task(self._read(channel, handler))
        media = {asyncio.create_task(link.run()): link for link in links}
        outcome: Outcome | None = None
        try:
            outcome = await self._watch(channel, reader, media)
            return outcome
        finally:
            for link in links:
                link.retire()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await self._wind_down(set(media), outcome)

    async def _watch(
        self,
        channel: FrameChannel,
        reader: asyncio.Task[Outcome],
        media: dict[asyncio.Task[str | None], MediaLink],
    ) -> Outcome:
        """Go live once every media socket has handshaken; return when the connection ends."""
        links = list(media.values())
        ready = asyncio.ensure_future(asyncio.gather(*(link.ready.wait() for link in links)))
        running = set(media)
        try:
            while True:
                waiting: set[asyncio.Future[Any]] = {reader, *running}
                if not self.went_live:
                    waiting.add(ready)
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    return reader.result()
                for task in running & done:
                    running.discard(task)
                    gave_up = task.result()  # a fatal handshake refusal raises here
                    if gave_up is not None:
                        return Outcome("dropped", gave_up, since=media[task].down_since)
                if ready in done and not self.went_live:
                    await self._go_live(channel, len(links))
        finally:
            ready.cancel()

    async def _go_live(self, channel: FrameChannel, sockets: int) -> None:
        """CLIENT_READY_ACK and EVENT_SUBSCRIPTION on signaling (§4), then tell the client."""
        await channel.send(ClientReadyAck(self._ctx.stream_id))
        events = SUBSCRIBED_EVENTS
        if MediaType.DESKSHARE in self._ctx.media:
            events += (EventType.SHARING_START, EventType.SHARING_STOP)
        items = tuple(EventSubscriptionItem(int(event), True) for event in events)
        await channel.send(EventSubscription(items))
        self.went_live = True
        log.info("stream %s live (%d media sockets)", self._ctx.stream_id, sockets)
        await self._on_live()

    async def _wind_down(
        self, tasks: set[asyncio.Task[str | None]], outcome: Outcome | None
    ) -> None:
        """Let the media readers finish what the connection's end leaves them, then stop them."""
        if outcome is not None and outcome.kind == "dropped":
            # Signaling dropped, media may not have: keep delivering while we reconnect.
            self._lingering.update(task for task in tasks if not task.done())
            return
        grace = DRAIN_S if outcome is not None and outcome.kind == "ended" else 0.0
        await retire(tasks, grace)

    async def _read(self, channel: FrameChannel, handler: SignalingHandler) -> Outcome:
        """Handle signaling messages until one ends the connection or the socket dies."""
        try:
            while True:
                outcome = await handler.handle(await channel.receive())
                if outcome is not None:
                    return outcome
        except SocketClosed as exc:
            if self._ctx.closing():
                return Outcome("ended", "closed by receiver", StopReason.RECEIVER_REQUEST_CLOSE)
            code = "none" if exc.code is None else exc.code
            return Outcome("dropped", f"signaling socket closed (close code {code})")
        except SocketSilent as exc:
            return Outcome("dropped", str(exc))
