"""What the simulator does with each message a client sends on an open signaling socket."""

from __future__ import annotations

import logging

from rtms_ingest.protocol import (
    ClientReadyAck,
    EventSubscription,
    KeepAliveResponse,
    Message,
    SessionState,
    SessionStateRequest,
    SessionStateResponse,
    SignalingHandshakeRequest,
    SignalingHandshakeResponse,
    StopReason,
    StreamCloseRequest,
    StreamCloseResponse,
    StreamState,
    StreamStateRequest,
    StreamStateResponse,
    VideoSubscriptionRequest,
    VideoSubscriptionResponse,
)
from rtms_ingest.simulator.config import SimulatorConfig, Status
from rtms_ingest.simulator.connection import Connection, now_ms
from rtms_ingest.simulator.session import SimulatedStream

log = logging.getLogger(__name__)


async def handle_signaling_message(
    stream: SimulatedStream, connection: Connection, message: Message, config: SimulatorConfig
) -> None:
    """Answer or act on one client message (anything not listed is logged and ignored)."""
    if isinstance(message, KeepAliveResponse):
        connection.keepalive_answered(message)
    elif isinstance(message, ClientReadyAck):
        if connection is stream.signaling:
            await stream.client_ready()
    elif isinstance(message, EventSubscription):
        for item in message.events:
            stream.report.event_subscriptions[item.event_type] = item.subscribe
    elif isinstance(message, StreamCloseRequest):
        closing = StreamCloseResponse(stream.rtms_stream_id, 0, "")
        await connection.send(closing, "close_response", (stream.rtms_stream_id,))
        stream.request_stop(StopReason.RECEIVER_REQUEST_CLOSE)
    elif isinstance(message, SessionStateRequest | StreamStateRequest):
        await _answer_state_request(stream, connection, message)
    elif isinstance(message, SignalingHandshakeRequest):
        status = Status.DUPLICATE_SIGNAL_REQUEST
        reply = SignalingHandshakeResponse(
            config.status(status), message.sequence, reason=status.value
        )
        stream.report.status_codes.append(reply.status_code)
        await connection.send(reply, "handshake", (int(reply.MSG_TYPE), reply.status_code))
    elif isinstance(message, VideoSubscriptionRequest):
        # With VIDEO_SINGLE_INDIVIDUAL_STREAM the subscribed participant's camera is sent.
        if message.subscribe:
            stream.video_subscription = message.user_id
        elif stream.video_subscription == message.user_id:
            stream.video_subscription = None
        video = VideoSubscriptionResponse(message.user_id, 0, "", now_ms())
        await connection.send(video, "video_subscription", (message.user_id,))
    else:
        log.info("%s: ignoring %s on signaling", stream.rtms_stream_id, type(message).__name__)


async def _answer_state_request(
    stream: SimulatedStream,
    connection: Connection,
    message: SessionStateRequest | StreamStateRequest,
) -> None:
    """SESSION_STATE_RESP / STREAM_STATE_RESP with the stream's current state."""
    playing = stream.ready.is_set() and not stream.ended
    if isinstance(message, SessionStateRequest):
        session_state = SessionState.STARTED if playing else SessionState.INITIALIZE
        session = SessionStateResponse(stream.rtms_session_id, session_state)
        await connection.send(session, "state_response", (int(session.MSG_TYPE), session_state))
    else:
        stream_state = StreamState.ACTIVE if playing else StreamState.INACTIVE
        reply = StreamStateResponse(stream.rtms_stream_id, stream_state, 0)
        await connection.send(reply, "state_response", (int(reply.MSG_TYPE), stream_state))
