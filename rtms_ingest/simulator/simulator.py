"""RtmsSimulator: Zoom in a box. Posts the webhooks, serves the sockets, plays meetings."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from rtms_ingest.protocol import StopReason
from rtms_ingest.simulator.audio import AudioLibrary
from rtms_ingest.simulator.config import SimulatorConfig
from rtms_ingest.simulator.fixture import RecordedMeeting
from rtms_ingest.simulator.live_meetings import LiveMeetings
from rtms_ingest.simulator.report import StreamReport
from rtms_ingest.simulator.server import RtmsServer
from rtms_ingest.simulator.session import SimulatedStream
from rtms_ingest.simulator.webhooks import post_webhook, webhook_body
from rtms_ingest.simulator.zoom_api import ZoomApiServer
from rtms_ingest.simulator.zoom_tokens import ZoomTokenStore

log = logging.getLogger(__name__)


class RtmsSimulator:
    """One server for any number of concurrent streams of one recorded meeting."""

    def __init__(self, meeting: RecordedMeeting, config: SimulatorConfig) -> None:
        self.meeting = meeting
        self.config = config
        self.streams: dict[str, SimulatedStream] = {}
        self.port: int | None = None
        self._server = RtmsServer(config, self.streams)
        self._library: AudioLibrary | None = None
        # Zoom's OAuth and REST side (off until serve_zoom_api): tokens and meetings in progress.
        self.tokens = ZoomTokenStore(config.client_id, config.client_secret)
        self.live_meetings = LiveMeetings(config.client_id, self.new_stream, self.play)
        self.zoom_api: ZoomApiServer | None = None

    @property
    def base_url(self) -> str:
        """ws://host:port (wss:// with a certificate); the stream paths hang off it."""
        if self.port is None:
            raise RuntimeError("the simulator is not started; await start() first")
        scheme = "wss" if self.config.ssl_certfile else "ws"
        host = self.config.advertised_host or self.config.host
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        """Read the meeting's audio (in a thread) and start listening."""
        self._library = await AudioLibrary.load(self.meeting)
        self.port = await self._server.start()
        log.info("RTMS simulator listening on %s", self.base_url)

    async def serve_zoom_api(
        self, port: int = 0, consenting_user_id: str | None = None
    ) -> ZoomApiServer:
        """Serve Zoom's OAuth and REST endpoints too (zoom_api.py); call after start().

        `consenting_user_id`: the Zoom user whose consent /oauth/authorize gives at once (the
        demo's host); None refuses every authorize.
        """
        api = ZoomApiServer(
            self.tokens,
            self.live_meetings,
            host=self.config.host,
            port=port,
            consenting_user_id=consenting_user_id,
        )
        await api.start()
        self.zoom_api = api
        log.info("Zoom API simulator listening on %s", api.base_url)
        return api

    async def close(self) -> None:
        """Stop listening and drop every socket."""
        if self.zoom_api is not None:
            await self.zoom_api.close()
        await self.live_meetings.close()
        await self._server.close()

    async def __aenter__(self) -> RtmsSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def new_stream(
        self, meeting_uuid: str | None = None, rtms_stream_id: str | None = None
    ) -> SimulatedStream:
        """Offer a new stream (random ids unless given); clients may connect at once.

        `meeting_uuid` is the stream's owner id whatever the product (for Video SDK it is
        sent as session_id, for Contact Center as engagement_id).
        """
        if self._library is None:
            raise RuntimeError("the simulator is not started; await start() first")
        stream = SimulatedStream(
            self.meeting,
            self.config,
            self._library,
            self.base_url,
            owner_id=meeting_uuid,
            rtms_stream_id=rtms_stream_id,
        )
        if stream.rtms_stream_id in self.streams:
            raise ValueError(f"stream {stream.rtms_stream_id!r} is already being offered")
        self.streams[stream.rtms_stream_id] = stream
        return stream

    async def play(self, stream: SimulatedStream | None = None) -> StreamReport:
        """Play one stream from the started webhook to the stopped webhook; returns its report.

        Raises WebhookDeliveryError if a webhook cannot be delivered (the stream is ended
        first). Without a client ready within connect_timeout_s the stream ends with
        AUTHENTICATION_FAILURE (18) if a signature was refused, else CONNECTION_TIMEOUT (11);
        with clock_start "webhook", a meeting over before anyone is ready ends MEETING_ENDED.
        """
        stream = stream or self.new_stream()
        if self.config.faults.concurrency_limited:
            return await self._refuse(stream)
        try:
            if self.config.clock_start == "webhook":
                stream.start_clock()  # the meeting goes on whether or not anyone listens yet
            await self._post(stream, self.config.product_info.started_event)
            if await stream.wait_ready(stream.ready_window_s()):
                reason = await stream.play_meeting()
            elif stream.stop_requested.done():
                reason = stream.stop_requested.result()
            elif stream.meeting_over():
                reason = StopReason.MEETING_ENDED
            elif stream.report.refused_signatures:
                reason = StopReason.AUTHENTICATION_FAILURE
            else:
                reason = StopReason.CONNECTION_TIMEOUT
            await self._end(stream, reason)
            await self._post(stream, self.config.product_info.stopped_event, reason)
        except asyncio.CancelledError:
            # The simulator itself is being stopped (e.g. SIGTERM): say so to the client.
            await self._end(stream, StopReason.EXIT_SIGNAL)
            raise
        finally:
            await self._end(stream, StopReason.INTERNAL_EXCEPTION)
        return stream.report

    async def _refuse(self, stream: SimulatedStream) -> StreamReport:
        """The concurrency_limited fault: Zoom says no to the stream; it is never offered."""
        self.streams.pop(stream.rtms_stream_id, None)
        event = f"{self.config.product_info.webhook_prefix}.rtms_concurrency_limited"
        if self.config.webhook_url is not None:
            body = webhook_body(event, stream.concurrency_limited_fields())
            await post_webhook(self.config.webhook_url, self.config.webhook_secret_token, body)
            stream.report.webhooks.append(event)
        return stream.report

    async def _end(self, stream: SimulatedStream, reason: int) -> None:
        if self.streams.pop(stream.rtms_stream_id, None) is not None:
            self._server.remember_ended(stream)
        await asyncio.shield(stream.finish(reason))

    async def _post(self, stream: SimulatedStream, event: str, reason: int | None = None) -> None:
        if self.config.webhook_url is None:
            return
        body = webhook_body(event, stream.webhook_fields(event, reason))
        await post_webhook(self.config.webhook_url, self.config.webhook_secret_token, body)
        stream.report.webhooks.append(event)
