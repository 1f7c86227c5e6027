"""A deliberately small RTMS client written from docs/rtms-protocol.md, for simulator tests.

It speaks raw JSON dicts (not the project's protocol module or ingest client), so the
simulator is checked against the reference rather than against our own reading of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import math
import random
import ssl
import threading
import wave
from array import array
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from rtms_ingest.simulator import RtmsSimulator, SimulatedStream, SimulatorConfig, StreamReport
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting

# media_type bits (§3.1)
AUDIO, VIDEO, DESKSHARE, TRANSCRIPT, CHAT, ALL = 1, 2, 4, 8, 16, 32
KIND_BITS = {"audio": 1, "video": 2, "deskshare": 4, "transcript": 8, "chat": 16, "all": 32}


def signature(client_id: str, secret: str, owner_id: str, stream_id: str) -> str:
    """hex(HMAC_SHA256(secret, "client_id,owner_id,stream_id")) (§2.3)."""
    message = f"{client_id},{owner_id},{stream_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass
class Received:
    """One frame the client received."""

    socket: str
    msg: dict[str, Any]


@dataclass
class RawClient:
    """Connects to one stream: signaling, media sockets, keep-alive answers, a message log."""

    signaling_url: str
    client_id: str
    secret: str
    owner_id: str
    stream_id: str
    id_field: str = "meeting_uuid"
    answer_keepalives: bool = True
    silent_sockets: set[str] = field(default_factory=set)  # never answer keep-alives here
    received: list[Received] = field(default_factory=list)
    close_codes: dict[str, int | None] = field(default_factory=dict)
    sockets: dict[str, ClientConnection] = field(default_factory=dict)
    media_urls: dict[str, str] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None  # for wss:// URLs
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    def request_fields(self, msg_type: int, **extra: Any) -> dict[str, Any]:
        return {
            "msg_type": msg_type,
            "protocol_version": 1,
            self.id_field: self.owner_id,
            "rtms_stream_id": self.stream_id,
            "sequence": random.randint(0, 2**32 - 1),
            "signature": signature(self.client_id, self.secret, self.owner_id, self.stream_id),
            **extra,
        }

    async def handshake(
        self, *, binary_pretty: bool = False, label: str = "signaling", **overrides: Any
    ) -> dict[str, Any]:
        """Open signaling and send REQ 1; returns RESP 2 ({} if the server just closed)."""
        ws = await connect(self.signaling_url, compression=None, ssl=self.tls)
        self.sockets[label] = ws
        request = self.request_fields(1, rtms_client_agent="raw-test-client", **overrides)
        request = {k: v for k, v in request.items() if v is not None}
        await self._send_json(ws, request, binary_pretty)
        response = await self._first_reply(ws, label)
        self.media_urls = response.get("media_server", {}).get("server_urls", {})
        return response

    async def open_media(
        self, kind: str, media_type: int | None = None, *, binary_pretty: bool = False, **extra: Any
    ) -> dict[str, Any]:
        """Open the `kind` media socket and send REQ 3; returns RESP 4 ({} on a bare close)."""
        ws = await connect(self.media_urls[kind], compression=None, ssl=self.tls)
        label = f"media:{kind}"
        self.sockets[label] = ws
        mask = KIND_BITS[kind] if media_type is None else media_type
        request = self.request_fields(3, media_type=mask, **extra)
        await self._send_json(ws, request, binary_pretty)
        return await self._first_reply(ws, label)

    async def ready(self, label: str = "signaling") -> None:
        """CLIENT_READY_ACK on signaling."""
        await self.send(label, {"msg_type": 7, "rtms_stream_id": self.stream_id})

    async def send(self, label: str, message: dict[str, Any], *, binary: bool = False) -> None:
        """Send one frame on a socket."""
        await self._send_json(self.sockets[label], message, binary)

    async def _send_json(self, ws: ClientConnection, message: dict[str, Any], pretty: bool) -> None:
        if pretty:  # like the official SDK: binary frame, tab-indented, keys sorted
            await ws.send(json.dumps(message, indent="\t", sort_keys=True).encode())
        else:
            await ws.send(json.dumps(message))

    async def _first_reply(self, ws: ClientConnection, label: str) -> dict[str, Any]:
        try:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        except ConnectionClosed:
            self.close_codes[label] = ws.close_code
            return {}
        self.received.append(Received(label, reply))
        if reply.get("status_code") == 0:
            self._readers.append(asyncio.create_task(self._read(ws, label)))
        return reply

    async def _read(self, ws: ClientConnection, label: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for frame in ws:
                try:
                    msg = json.loads(frame)
                except ValueError:
                    msg = {"unparseable": frame}
                self.received.append(Received(label, msg))
                if msg.get("msg_type") == 12 and self._answers(label):
                    answer = {"msg_type": 13, "timestamp": msg["timestamp"]}
                    answer["sequence"] = msg["sequence"]
                    await ws.send(json.dumps(answer))
        self.close_codes[label] = ws.close_code

    def _answers(self, label: str) -> bool:
        return self.answer_keepalives and label not in self.silent_sockets

    async def wait_closed(self, limit_s: float = 20.0) -> None:
        """Wait until the server has closed every socket."""
        await asyncio.wait_for(asyncio.gather(*self._readers), limit_s)

    async def vanish(self) -> None:
        """Drop every socket without a close frame or STREAM_CLOSE_REQ, as a killed process does."""
        for ws in self.sockets.values():
            ws.transport.abort()
        await asyncio.gather(*self._readers, return_exceptions=True)

    async def close(self) -> None:
        """Close every socket from the client side."""
        for ws in self.sockets.values():
            await ws.close()
        for task in self._readers:
            task.cancel()

    def messages(self, msg_type: int, socket: str | None = None) -> list[dict[str, Any]]:
        """Received messages of one msg_type (optionally only from one socket)."""
        return [
            r.msg
            for r in self.received
            if r.msg.get("msg_type") == msg_type and (socket is None or r.socket == socket)
        ]

    def events(self, event_type: int) -> list[dict[str, Any]]:
        """EVENT_UPDATE events of one event_type."""
        return [m["event"] for m in self.messages(6) if m["event"]["event_type"] == event_type]


def tone(seconds: float, freq: float, amplitude: int = 8000, rate: int = 16_000) -> bytes:
    """A sine tone as 16-bit little-endian PCM (first sample nonzero)."""
    count = round(seconds * rate)
    samples = array(
        "h",
        (int(amplitude * math.sin(2 * math.pi * freq * (i + 0.5) / rate)) for i in range(count)),
    )
    return samples.tobytes()


def write_meeting(folder: Path, doc: dict[str, Any], *, audio: bool = True) -> Path:
    """Write a recorded meeting; each speaker's WAV holds a tone over each utterance."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meeting.json").write_text(json.dumps(doc), encoding="utf-8")
    if not audio:
        return folder
    (folder / "audio").mkdir(exist_ok=True)
    total = round(doc["duration_s"] * 16_000)
    for n, person in enumerate(doc["participants"]):
        pcm = bytearray(total * 2)
        spoken = [u for u in doc["utterances"] if u["user_id"] == person["user_id"]]
        for u in spoken:
            start = round(u["start_s"] * 16_000) * 2
            chunk = tone(u["end_s"] - u["start_s"], 300 + 150 * n)
            pcm[start : start + len(chunk)] = chunk
        if spoken:
            with wave.open(str(folder / "audio" / f"{person['user_id']}.wav"), "wb") as wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(16_000)
                wav.writeframes(bytes(pcm))
    return folder


SHORT_MEETING: dict[str, Any] = {
    "topic": "Short test meeting",
    "duration_s": 6.0,
    "participants": [
        {"user_id": 101, "user_name": "Ana", "join_s": 0.0, "leave_s": None},
        {"user_id": 202, "user_name": "Björn", "join_s": 0.0, "leave_s": 4.5},
        {"user_id": 303, "user_name": "Chen", "join_s": 1.0, "leave_s": None},
    ],
    "utterances": [
        {"user_id": 101, "start_s": 0.2, "end_s": 1.0, "text": "Hello all."},
        {"user_id": 202, "start_s": 1.2, "end_s": 2.0, "text": "Hi Ana."},
        {"user_id": 303, "start_s": 1.8, "end_s": 3.5, "text": "Sorry I'm late, héllo."},
        {"user_id": 101, "start_s": 3.6, "end_s": 4.0, "text": "Welcome."},
        {"user_id": 101, "start_s": 5.5, "end_s": 5.95, "text": "Bye."},
    ],
    "chat": [
        {"user_id": 202, "at_s": 1.5, "text": "link: https://example.com"},
        {"user_id": 303, "at_s": 3.0, "text": "on my way"},
    ],
}


CLIENT_ID, CLIENT_SECRET, WEBHOOK_TOKEN = "test-cid", "test-csecret", "test-wsecret"


def make_config(**overrides: Any) -> SimulatorConfig:
    """A fast simulator config with the test credentials."""
    values: dict[str, Any] = {"speed": 20.0, "connect_timeout_s": 5.0}
    values.update(overrides)
    return SimulatorConfig(CLIENT_ID, CLIENT_SECRET, WEBHOOK_TOKEN, **values)


def client_for(stream: SimulatedStream, **overrides: Any) -> RawClient:
    """A raw client with the right credentials for this stream."""
    values: dict[str, Any] = {
        "signaling_url": stream.signaling_url,
        "client_id": CLIENT_ID,
        "secret": CLIENT_SECRET,
        "owner_id": stream.owner_id,
        "stream_id": stream.rtms_stream_id,
    }
    values.update(overrides)
    return RawClient(**values)


def short_meeting(folder: Path, *, audio: bool = True) -> RecordedMeeting:
    """SHORT_MEETING written to `folder` and loaded."""
    return load_meeting(write_meeting(folder, SHORT_MEETING, audio=audio))


async def play_with_client(
    simulator: RtmsSimulator,
    kinds: dict[str, dict[str, Any] | None] | None = None,
    **client_options: Any,
) -> tuple[StreamReport, RawClient]:
    """Play a new stream to a client that opens `kinds` ({kind: media_params}) and is ready."""
    stream = simulator.new_stream()
    play = asyncio.create_task(simulator.play(stream))
    client = client_for(stream, **client_options)
    assert (await client.handshake())["status_code"] == 0
    for kind, params in (kinds or {"transcript": None, "chat": None}).items():
        extra: dict[str, Any] = {} if params is None else {"media_params": params}
        assert (await client.open_media(kind, **extra))["status_code"] == 0
    await client.ready()
    report = await play
    await client.wait_closed()
    return report, client


@dataclass
class Delivery:
    """One webhook POST as received: lower-cased headers and the raw body."""

    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class WebhookReceiver:
    """A tiny HTTP endpoint in a thread that records POSTs and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.deliveries: asyncio.Queue[Delivery] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                loop.call_soon_threadsafe(receiver.deliveries.put_nowait, Delivery(headers, body))
                self.send_response(receiver.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/zoom/webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    async def next(self, limit_s: float = 10.0) -> Delivery:
        """The next delivery (waits for it)."""
        return await asyncio.wait_for(self.deliveries.get(), limit_s)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
