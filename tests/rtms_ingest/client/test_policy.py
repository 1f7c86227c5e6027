"""The RTMS client's policies: backoff, error classes, media plan, giving up, socket watchdog."""

from __future__ import annotations

import asyncio
import json
import random
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from picows import WSInvalidURL
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Response

from rtms_ingest.client import (
    HandshakeRejected,
    RtmsCredentials,
    RtmsStreamClient,
    StreamTarget,
)
from rtms_ingest.client.backoff import Backoff, is_retryable
from rtms_ingest.client.channel import (
    ClientStats,
    FrameChannel,
    LogThrottle,
    SocketSettings,
    SocketSilent,
)
from rtms_ingest.client.media import media_params_for, plan_media_sockets
from rtms_ingest.client.sink import GapSpan, IgnoringSink
from rtms_ingest.client.wire import SocketClosed, UpgradeRefused
from rtms_ingest.protocol import (
    KeepAliveRequest,
    KeepAliveResponse,
    MediaType,
    StreamStateUpdate,
    encode_message,
    handshake_signature,
    parse_message,
)
from tests.rtms_ingest.loopback import LOOPBACK_POLICY

ALL_KINDS = ("audio", "video", "transcript", "deskshare", "chat", "all")
DEFAULT_MEDIA = MediaType.TRANSCRIPT | MediaType.CHAT | MediaType.AUDIO


class StateSink(IgnoringSink):
    """Records connection states and gaps; drops media (none arrives in these tests)."""

    def __init__(self) -> None:
        self.states: list[tuple[str, str, int | None]] = []
        self.gaps: list[str] = []

    async def stream_state(self, state: str, detail: str = "", reason: int | None = None) -> None:
        self.states.append((state, detail, reason))

    async def gap(self, detail: str, span: GapSpan) -> None:
        self.gaps.append(detail)


def refused_url() -> str:
    """A ws:// URL on a local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"ws://127.0.0.1:{port}/signaling/stream"


def client_for(url: str, sink: StateSink, **options: Any) -> RtmsStreamClient:
    target = StreamTarget("meeting", "meeting-uuid==", "stream", url)
    options.setdefault("url_policy", LOOPBACK_POLICY)
    return RtmsStreamClient(target, RtmsCredentials("id", "secret"), sink, **options)


SETTINGS = SocketSettings(
    ssl_context=None,
    user_agent="test",
    silence_timeout_s=0.2,
    handshake_timeout_s=1.0,
    backoff_initial_s=0.05,
    backoff_max_s=0.1,
    reconnect_window_s=1.0,
    url_policy=LOOPBACK_POLICY,
)


# --- backoff -----------------------------------------------------------------------------------


def test_backoff_first_retry_is_quick_then_doubles_to_the_cap() -> None:
    backoff = Backoff(3.0, 30.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]

    assert 0.0 <= delays[0] <= 0.5
    for delay, base in zip(delays[1:], (3, 6, 12, 24, 30, 30, 30), strict=True):
        assert base * 0.8 <= delay <= min(base * 1.2, 30.0)


def test_backoff_reset_starts_over_with_a_quick_retry() -> None:
    backoff = Backoff(3.0, 30.0)
    for _ in range(5):
        backoff.next_delay()

    backoff.reset()

    assert backoff.next_delay() <= 0.5
    assert backoff.next_delay() >= 2.4


def test_backoff_jitter_spreads_streams_apart() -> None:
    delays = {round(Backoff(3.0, 30.0).next_delay(), 6) for _ in range(20)}
    assert len(delays) > 10


# --- which errors are worth retrying -----------------------------------------------------------


def _status(code: int) -> UpgradeRefused:
    return UpgradeRefused(code, "status")


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(),
        TimeoutError(),
        EOFError(),
        SocketClosed(),
        SocketClosed(1011, "internal error"),
        UpgradeRefused(None, "the server closed before answering the upgrade"),
        _status(503),
        _status(429),
    ],
)
def test_transient_failures_are_retryable(exc: BaseException) -> None:
    assert is_retryable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        HandshakeRejected(3, "invalid signature"),
        _status(404),
        _status(403),
        WSInvalidURL("http://x", "scheme isn't ws or wss"),
        ValueError("programming error"),
    ],
)
def test_permanent_failures_are_fatal(exc: BaseException) -> None:
    assert not is_retryable(exc)


# --- what to open and ask for ------------------------------------------------------------------


def test_one_media_socket_per_kind_on_its_own_url() -> None:
    urls = {kind: f"ws://h/{kind}" for kind in ALL_KINDS}

    plan = plan_media_sockets(urls, DEFAULT_MEDIA)

    assert plan == [
        ("transcript", MediaType.TRANSCRIPT, "ws://h/transcript"),
        ("chat", MediaType.CHAT, "ws://h/chat"),
        ("audio", MediaType.AUDIO, "ws://h/audio"),
    ]


def test_missing_kind_url_falls_back_to_all_with_the_combined_mask() -> None:
    urls = {"audio": "ws://h/audio", "transcript": "ws://h/transcript", "all": "ws://h/all"}

    assert plan_media_sockets(urls, DEFAULT_MEDIA) == [("all", DEFAULT_MEDIA, "ws://h/all")]


def test_no_usable_media_url_is_a_rejection() -> None:
    with pytest.raises(HandshakeRejected):
        plan_media_sockets({"audio": "ws://h/audio"}, DEFAULT_MEDIA)


def test_media_params_ask_for_text_and_16k_mono_l16_per_speaker() -> None:
    params = media_params_for(DEFAULT_MEDIA).to_dict()

    assert params == {
        "audio": {
            "content_type": 2,
            "codec": 1,
            "sample_rate": 1,
            "channel": 1,
            "data_opt": 2,
            "send_rate": 20,
        },
        "transcript": {"content_type": 5, "src_language": -1, "enable_lid": True},
        "chat": {"content_type": 5},
    }
    assert media_params_for(MediaType.CHAT).to_dict() == {"chat": {"content_type": 5}}


# --- construction ------------------------------------------------------------------------------


def test_credentials_repr_hides_the_secret() -> None:
    assert "hunter2" not in repr(RtmsCredentials("client", "hunter2"))


def test_unknown_product_is_refused() -> None:
    target = StreamTarget("zoom_phone", "id", "stream", "ws://h/s")
    with pytest.raises(ValueError, match="product"):
        RtmsStreamClient(target, RtmsCredentials("id", "secret"), StateSink())


def test_media_the_sink_cannot_take_is_refused() -> None:
    with pytest.raises(ValueError, match="media"):
        client_for("ws://h/s", StateSink(), media=MediaType.ALL)


# --- giving up ---------------------------------------------------------------------------------


async def test_unreachable_server_fails_after_the_reconnect_window() -> None:
    sink = StateSink()
    client = client_for(
        refused_url(), sink, backoff_initial_s=0.05, backoff_max_s=0.1, reconnect_window_s=0.5
    )

    reason = await asyncio.wait_for(client.run(), 5)

    assert reason == 19
    assert sink.states[-1][0] == "failed" and sink.states[-1][2] == 19
    assert client.stats.reconnects >= 1  # the quick first retry can take most of 0.5 s
    assert sink.gaps == []  # nothing was live, so nothing was lost


async def test_http_refusal_of_the_upgrade_is_raised_not_retried() -> None:
    async def refuse(connection: ServerConnection, request: object) -> Response:
        return connection.respond(404, "no such stream\n")

    async with serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0, process_request=refuse) as srv:
        port = srv.sockets[0].getsockname()[1]
        client = client_for(f"ws://127.0.0.1:{port}/signaling/stream", StateSink())

        with pytest.raises(UpgradeRefused) as refused:
            await asyncio.wait_for(client.run(), 5)

    assert refused.value.status == 404

    assert client.stats.reconnects == 0


async def test_close_before_run_makes_run_return_20_at_once() -> None:
    sink = StateSink()
    client = client_for(refused_url(), sink)

    await client.close()

    assert await asyncio.wait_for(client.run(), 1) == 20
    assert sink.states == [("ended", "closed by receiver", 20)]


async def test_close_while_waiting_to_reconnect_returns_20() -> None:
    client = client_for(refused_url(), StateSink(), backoff_initial_s=30.0)
    running = asyncio.create_task(client.run())
    while client.stats.reconnects < 1:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.6)  # now in the 3 s-or-more backoff wait

    await asyncio.wait_for(client.close(), 1)

    assert await running == 20


# --- one socket: keep-alives and silence -------------------------------------------------------


@pytest.fixture
async def quiet_server() -> AsyncIterator[tuple[str, list[str]]]:
    """A WebSocket server that sends one keep-alive, records replies, then says nothing."""
    replies: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        await ws.send(encode_message(KeepAliveRequest(timestamp=1234, sequence=9)))
        async for frame in ws:
            replies.append(str(frame))

    async with serve(handler, "127.0.0.1", 0) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/", replies


async def test_channel_answers_keepalive_and_reports_silence(
    quiet_server: tuple[str, list[str]],
) -> None:
    url, replies = quiet_server
    stats = ClientStats()
    async with SETTINGS.open(url) as ws:
        channel = FrameChannel(ws, "test", stats, LogThrottle(), silence_timeout_s=0.2)

        with pytest.raises(SocketSilent):
            await channel.receive()

    assert [parse_message(r) for r in replies] == [KeepAliveResponse(timestamp=1234, sequence=9)]
    assert stats.keepalives_answered == 1


async def test_channel_skips_malformed_and_unknown_frames() -> None:
    frames = ['{"msg_type":17,"content":', '{"msg_type":99,"x":1}', "[]"]
    update = StreamStateUpdate("stream", 4, 6, 1)

    async def handler(ws: ServerConnection) -> None:
        for frame in frames:
            await ws.send(frame)
        await ws.send(encode_message(update).encode())  # binary JSON, as Zoom may send
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        stats = ClientStats()
        async with SETTINGS.open(url) as ws:
            channel = FrameChannel(ws, "test", stats, LogThrottle(), silence_timeout_s=2)
            assert await channel.receive() == update

    assert stats.malformed_frames == 2
    assert stats.unknown_frames == 1


# --- what the signaling handshake says ---------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "fields"),
    [
        ("meeting", {"meeting_uuid": "owner=="}),
        ("webinar", {"meeting_uuid": "owner=="}),
        ("video_sdk", {"meeting_uuid": "owner==", "session_id": "owner=="}),
        ("contact_center", {"meeting_uuid": "owner==", "engagement_id": "owner=="}),
    ],
)
async def test_handshake_names_the_owner_and_signs_it(product: str, fields: dict[str, str]) -> None:
    requests: list[dict[str, Any]] = []

    async def handler(ws: ServerConnection) -> None:
        requests.append(json.loads(await ws.recv()))
        await ws.close()  # no answer, as real Zoom does for a bad signature

    async with serve(handler, "127.0.0.1", 0) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/signaling"
        target = StreamTarget(product, "owner==", "stream-1", url)
        client = RtmsStreamClient(
            target,
            RtmsCredentials("cid", "csecret"),
            StateSink(),
            backoff_initial_s=0.01,
            url_policy=LOOPBACK_POLICY,
        )
        with pytest.raises(HandshakeRejected):
            await asyncio.wait_for(client.run(), 5)

    assert len(requests) == 3
    request = requests[0]
    owner = {
        key: request[key]
        for key in ("meeting_uuid", "session_id", "engagement_id")
        if key in request
    }
    assert owner == fields
    assert request["msg_type"] == 1 and request["protocol_version"] == 1
    assert request["signature"] == handshake_signature("cid", "csecret", "owner==", "stream-1")
    assert 0 <= request["sequence"] < 2**32
    assert request["rtms_client_agent"] == "meeting-assistant/0.1"
