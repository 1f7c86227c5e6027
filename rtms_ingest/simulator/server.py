"""The WebSocket server: routes /signaling/<stream> and /media/<stream>/<kind> to streams.

One server carries every stream of a simulator. Client frames may be text or binary JSON.
A malformed client frame after the handshake is logged, counted and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from rtms_ingest.protocol import (
    DataHandshakeRequest,
    DataHandshakeResponse,
    KeepAliveResponse,
    MediaType,
    Message,
    ProtocolError,
    SignalingHandshakeRequest,
    SignalingHandshakeResponse,
    StopReason,
    parse_message,
)
from rtms_ingest.simulator.config import SimulatorConfig, Status
from rtms_ingest.simulator.connection import Connection
from rtms_ingest.simulator.handshakes import check_request, media_mask, negotiate
from rtms_ingest.simulator.report import StreamReport, TranscriptAsk
from rtms_ingest.simulator.session import MEDIA_KINDS, SimulatedStream
from rtms_ingest.simulator.signaling import handle_signaling_message

log = logging.getLogger(__name__)

# How long a fresh socket may stay silent before its handshake request.
HANDSHAKE_TIMEOUT_S = 30.0
CLOSE_TIMEOUT_S = 2.0
# Ended streams remembered, so a late rejoin is refused in (and counted by) its own report.
REMEMBERED_ENDED_STREAMS = 1000

Handshake = SignalingHandshakeRequest | DataHandshakeRequest
HandshakeT = TypeVar("HandshakeT", SignalingHandshakeRequest, DataHandshakeRequest)
Reply = type[SignalingHandshakeResponse] | type[DataHandshakeResponse]


def parse_path(path: str) -> tuple[str, str, str] | None:
    """("signaling", stream_id, "") or ("media", stream_id, kind), or None if not ours."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) == 2 and parts[0] == "signaling" and parts[1]:
        return ("signaling", unquote(parts[1]), "")
    if len(parts) == 3 and parts[0] == "media" and parts[1] and parts[2] in MEDIA_KINDS:
        return ("media", unquote(parts[1]), parts[2])
    return None


class RtmsServer:
    """Accepts every stream's sockets and runs their handshakes and receive loops."""

    def __init__(self, config: SimulatorConfig, streams: dict[str, SimulatedStream]) -> None:
        self.config = config
        self.streams = streams
        self._ended: OrderedDict[str, SimulatedStream] = OrderedDict()
        self._server: Server | None = None
        self._background: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        """Bind and listen; returns the port."""
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            ssl=self._ssl_context(),
            process_request=self._check_path,
            compression=None,
            ping_interval=None,  # Zoom keeps sockets alive with RTMS keep-alives, not WS pings
            close_timeout=CLOSE_TIMEOUT_S,
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and close every socket."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._background):
            task.cancel()

    def remember_ended(self, stream: SimulatedStream) -> None:
        """Keep an ended stream's report for handshakes that still come (the newest 1000)."""
        self._ended[stream.rtms_stream_id] = stream
        self._ended.move_to_end(stream.rtms_stream_id)
        while len(self._ended) > REMEMBERED_ENDED_STREAMS:
            self._ended.popitem(last=False)

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self.config.ssl_certfile is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.config.ssl_certfile, self.config.ssl_keyfile)
        return context

    def _check_path(self, ws: ServerConnection, request: Request) -> Response | None:
        if parse_path(request.path) is None:
            return ws.respond(404, "Not an RTMS simulator path\n")
        return None

    def _in_background(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _handle(self, ws: ServerConnection) -> None:
        route = parse_path(ws.request.path if ws.request else "")
        if route is None:  # pragma: no cover - refused in _check_path
            return
        role, stream_id, kind = route
        stream = self.streams.get(stream_id) or self._ended.get(stream_id)
        report = stream.report if stream else StreamReport(stream_id, "")
        label = "signaling" if role == "signaling" else f"media:{kind}"
        connection = Connection(ws, label, report)
        try:
            if role == "signaling":
                await self._signaling(connection, stream, stream_id)
            else:
                await self._media(connection, stream, stream_id, kind)
        finally:
            connection.stop_keepalive()
            if stream is not None:
                stream.detach(connection)

    async def _signaling(
        self, connection: Connection, stream: SimulatedStream | None, stream_id: str
    ) -> None:
        request = await self._first_request(connection, SignalingHandshakeRequest)
        if request is None:
            return
        status = check_request(request, stream, stream_id, self.config)
        if status is not Status.OK or stream is None:
            if status is Status.INVALID_STREAM_ID and stream is not None and stream.over:
                stream.report.refused_after_end += 1
            await self._refuse(connection, SignalingHandshakeResponse, request, status)
            return
        if request.rtms_client_agent:
            stream.report.client_agents.append(request.rtms_client_agent)
        stream.report.buffer_data.append(request.buffer_data)
        stream.buffer_data = request.buffer_data
        for old in stream.attach_signaling(connection):
            self._in_background(old.close("replaced by a newer signaling connection"))
        reply = SignalingHandshakeResponse(
            status_code=0,
            sequence=request.sequence,
            server_urls=stream.media_urls(),
            srtp_keys=stream.srtp_keys,
        )
        await self._reply(connection, reply)
        connection.start_keepalive(
            self.config.keepalive_interval_s,
            self.config.signaling_timeout_s,
            lambda _: stream.request_stop(StopReason.KEEP_ALIVE_TIMEOUT),
            enabled=not self.config.faults.stop_keepalives,
        )

        async def dispatch(message: Message) -> None:
            await handle_signaling_message(stream, connection, message, self.config)

        await self._receive(connection, dispatch)

    async def _media(
        self, connection: Connection, stream: SimulatedStream | None, stream_id: str, kind: str
    ) -> None:
        request = await self._first_request(connection, DataHandshakeRequest)
        if request is None:
            return
        status = check_request(request, stream, stream_id, self.config)
        mask = media_mask(kind, request.media_type)
        if status is Status.OK and isinstance(mask, Status):
            status = mask
        if status is Status.OK and kind != "all" and stream and stream.all_socket_covers(kind):
            status = Status.ALL_CONNECTION_EXISTS
        params = negotiate(request, mask) if isinstance(mask, int) else mask
        if status is Status.OK and isinstance(params, Status):
            status = params
        if isinstance(mask, int) and mask & MediaType.TRANSCRIPT:
            _note_transcript_ask(connection.report, kind, request, self.config.status(status))
        if status is not Status.OK or stream is None or isinstance(params, Status):
            await self._refuse(connection, DataHandshakeResponse, request, status)
            return
        assert isinstance(mask, int)
        for old in stream.attach_media(kind, connection, mask, params.audio):
            self._in_background(old.close("replaced by a newer media connection"))
        stream.media_params[kind] = params
        stream.report.media_params[kind] = params.to_dict()
        reply = DataHandshakeResponse(
            status_code=0, sequence=request.sequence, payload_encrypted=False, media_params=params
        )
        await self._reply(connection, reply)
        connection.start_keepalive(
            self.config.keepalive_interval_s,
            self.config.media_timeout_s,
            lambda _: None,  # a media socket's loss does not end the stream
            enabled=not self.config.faults.stop_keepalives,
        )

        async def dispatch(message: Message) -> None:
            if isinstance(message, KeepAliveResponse):
                connection.keepalive_answered(message)

        await self._receive(connection, dispatch)

    async def _first_request(
        self, connection: Connection, expected: type[HandshakeT]
    ) -> HandshakeT | None:
        """Read the handshake request; answer and close on anything else."""
        reply: Reply = (
            SignalingHandshakeResponse
            if expected is SignalingHandshakeRequest
            else DataHandshakeResponse
        )
        try:
            frame = await asyncio.wait_for(connection.ws.recv(), HANDSHAKE_TIMEOUT_S)
            message = parse_message(frame)
        except (TimeoutError, ConnectionClosed):
            await connection.close("no handshake")
            return None
        except ProtocolError as exc:
            log.warning("%s: bad handshake frame: %s", connection.label, exc)
            await self._refuse(connection, reply, None, Status.INVALID_PAYLOAD)
            return None
        connection.report.received.append(_msg_type(message))
        if not isinstance(message, expected):
            await self._refuse(connection, reply, None, Status.INVALID_MESSAGE_TYPE)
            return None
        return message

    async def _refuse(
        self, connection: Connection, reply: Reply, request: Handshake | None, status: Status
    ) -> None:
        """Refuse a handshake: an error response, or (bad signature, "close" mode) a bare close."""
        report = connection.report
        if status is Status.INVALID_SIGNATURE:
            report.refused_signatures += 1
            if self.config.faults.bad_signature_mode == "close":
                # Like real Zoom often does: a normal close right away, no error body.
                await connection.close()
                return
        code = self.config.status(status)
        sequence = request.sequence if request is not None else 0
        await self._reply(
            connection, reply(status_code=code, sequence=sequence, reason=status.value)
        )
        await connection.close(status.value)

    async def _reply(
        self, connection: Connection, reply: SignalingHandshakeResponse | DataHandshakeResponse
    ) -> None:
        connection.report.status_codes.append(reply.status_code)
        await connection.send(reply, "handshake", (int(reply.MSG_TYPE), reply.status_code))

    async def _receive(
        self, connection: Connection, dispatch: Callable[[Message], Awaitable[None]]
    ) -> None:
        """Read frames until the socket closes; bad frames and handler errors are logged."""
        report = connection.report
        with contextlib.suppress(ConnectionClosed):
            async for frame in connection.ws:
                try:
                    message = parse_message(frame)
                except ProtocolError as exc:
                    report.malformed_client_frames += 1
                    log.warning(
                        "%s %s: ignoring malformed frame: %s",
                        report.rtms_stream_id,
                        connection.label,
                        exc,
                    )
                    continue
                report.received.append(_msg_type(message))
                try:
                    await dispatch(message)
                except Exception:
                    log.exception(
                        "%s %s: error handling msg_type %s",
                        report.rtms_stream_id,
                        connection.label,
                        _msg_type(message),
                    )
        connection.closed = True


def _msg_type(message: Message) -> int:
    return int(getattr(message, "msg_type", message.MSG_TYPE))


def _note_transcript_ask(
    report: StreamReport, kind: str, request: DataHandshakeRequest, status_code: int
) -> None:
    """Record what a data handshake asked of the transcript (src_language, enable_lid)."""
    asked = request.media_params.transcript if request.media_params else None
    report.transcript_asks.append(
        TranscriptAsk(
            socket=kind,
            src_language=asked.src_language if asked else None,
            enable_lid=asked.enable_lid if asked else None,
            status_code=status_code,
        )
    )
