"""A lean RTMS load server: N streams of four speakers' 20 ms audio, and keep-alives to answer.

Speaks the wire protocol of docs/rtms-protocol.md closely enough for the official SDK, our
client and a minimal client (signaling and data handshakes with all six media URLs, keep-alives
with `sequence`, TERMINATED at the end), and nothing more: no signature check, no events. It is
cheap so that it can load a client on the same machine: each audio frame is a prebuilt byte
string with only the timestamp filled in, and the four frames of a 20 ms tick are written to the
socket as ready-made WebSocket frames in one write.

The content timestamp is the send time (Unix ms), so a client measures a frame's delay as its
receive time minus the timestamp (same machine, same clock).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

SPEAKERS = ((16778240, "Alice"), (16779264, "Bob"), (16780288, "Chen"), (16781312, "Dana"))
FRAME_MS = 20
PCM_BYTES = 640  # 20 ms of 16 kHz mono L16
# A client that stops reading must not make this server hoard memory: past this much unsent
# data on one socket, a tick's frames are not written (counted as due but not sent).
MAX_WRITE_BUFFER = 8 * 1024 * 1024


def _pcm(freq: float) -> bytes:
    """20 ms of a quiet sine, so that the frames are not all alike."""
    samples = bytearray()
    for i in range(PCM_BYTES // 2):
        value = int(3000 * math.sin(2 * math.pi * freq * i / 16000))
        samples += value.to_bytes(2, "little", signed=True)
    return bytes(samples)


def _ws_text_frame(payload: bytes) -> bytes:
    """An unmasked, final WebSocket text frame (server to client)."""
    n = len(payload)
    if n < 126:
        header = bytes((0x81, n))
    elif n < 65536:
        header = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return header + payload


_PREFIXES = [
    (
        '{"msg_type":14,"content":{"user_id":'
        + f'{uid},"user_name":"{name}","data":"{base64.b64encode(_pcm(220.0 * (i + 1))).decode()}"'
        + ',"timestamp":'
    ).encode()
    for i, (uid, name) in enumerate(SPEAKERS)
]


def audio_tick(now_ms: int) -> bytes:
    """The four speakers' frames of one tick, as WebSocket frames ready to write."""
    ts = str(now_ms).encode()
    return b"".join(_ws_text_frame(prefix + ts + b"}}") for prefix in _PREFIXES)


@dataclass
class StreamLoad:
    """What the server did for one stream, and what the client answered."""

    frames_due: int = 0
    frames_sent: int = 0
    keepalives_sent: int = 0
    keepalives_answered: int = 0
    keepalive_rtt_max_ms: float = 0.0
    live_at: float | None = None
    ended: bool = False
    media: list[ServerConnection] = field(default_factory=list)
    signaling: ServerConnection | None = None
    pending_keepalives: dict[int, float] = field(default_factory=dict)


class LoadServer:
    """Serves `/sig/<i>` and `/media/<i>`; plays each stream for `seconds` once it is live."""

    def __init__(self, seconds: float, keepalive_interval_s: float = 1.0) -> None:
        self.seconds = seconds
        self.keepalive_interval_s = keepalive_interval_s
        self.streams: dict[str, StreamLoad] = {}
        self._server: Server | None = None
        self.port = 0
        self._sequence = 0
        self.all_ended = asyncio.Event()
        self.expected = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, expected_streams: int) -> int:
        self.expected = expected_streams
        self._server = await serve(
            self._handle, "127.0.0.1", 0, max_size=2**20, compression=None, ping_interval=None
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._tasks.add(asyncio.create_task(self._play()))
        self._tasks.add(asyncio.create_task(self._keepalives()))
        return self.port

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def report(self) -> dict[str, Any]:
        loads = list(self.streams.values())
        return {
            "streams_live": sum(1 for s in loads if s.live_at is not None),
            "frames_due": sum(s.frames_due for s in loads),
            "frames_sent": sum(s.frames_sent for s in loads),
            "keepalives_sent": sum(s.keepalives_sent for s in loads),
            "keepalives_answered": sum(s.keepalives_answered for s in loads),
            "keepalive_rtt_max_ms": round(
                max((s.keepalive_rtt_max_ms for s in loads), default=0), 1
            ),
        }

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        kind, _, key = ws.request.path.strip("/").partition("/")
        load = self.streams.setdefault(key, StreamLoad())
        try:
            first = json.loads(await ws.recv())
            if kind == "sig":
                await self._signaling(ws, key, load, first)
            else:
                await self._media(ws, load, first)
        except ConnectionClosed:
            pass

    async def _signaling(
        self, ws: ServerConnection, key: str, load: StreamLoad, request: dict[str, Any]
    ) -> None:
        media_url = f"ws://127.0.0.1:{self.port}/media/{key}"
        urls = {k: media_url for k in ("audio", "video", "transcript", "deskshare", "chat", "all")}
        await ws.send(
            json.dumps(
                {
                    "msg_type": 2,
                    "protocol_version": 1,
                    "sequence": request.get("sequence", 0),
                    "status_code": 0,
                    "reason": "",
                    "media_server": {"server_urls": urls, "srtp_keys": {}},
                }
            )
        )
        load.signaling = ws
        async for raw in ws:
            message = json.loads(raw)
            if message.get("msg_type") == 7 and load.live_at is None:
                load.live_at = time.monotonic()
            elif message.get("msg_type") == 13:
                self._answered(load, message)

    async def _media(self, ws: ServerConnection, load: StreamLoad, request: dict[str, Any]) -> None:
        await ws.send(
            json.dumps(
                {
                    "msg_type": 4,
                    "protocol_version": 1,
                    "sequence": request.get("sequence", 0),
                    "status_code": 0,
                    "reason": "",
                    "payload_encrypted": False,
                    "media_params": request.get("media_params"),
                }
            )
        )
        load.media.append(ws)
        async for raw in ws:
            message = json.loads(raw)
            if message.get("msg_type") == 13:
                self._answered(load, message)

    def _answered(self, load: StreamLoad, message: dict[str, Any]) -> None:
        sent = load.pending_keepalives.pop(message.get("sequence", -1), None)
        if sent is not None:
            load.keepalives_answered += 1
            rtt = (time.monotonic() - sent) * 1000
            load.keepalive_rtt_max_ms = max(load.keepalive_rtt_max_ms, rtt)

    async def _play(self) -> None:
        """Every 20 ms, each live stream's four frames; TERMINATED once its time is up."""
        tick = FRAME_MS / 1000
        next_at = time.monotonic()
        while True:
            next_at += tick
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            now = time.monotonic()
            frames = audio_tick(int(time.time() * 1000))
            for key, load in self.streams.items():
                if load.live_at is None or load.ended:
                    continue
                if now - load.live_at >= self.seconds:
                    load.ended = True
                    self._tasks.add(asyncio.create_task(self._end(key, load)))
                    continue
                load.frames_due += len(SPEAKERS)
                for ws in load.media:
                    transport = ws.transport
                    if transport.get_write_buffer_size() < MAX_WRITE_BUFFER:
                        transport.write(frames)
                        load.frames_sent += len(SPEAKERS)
            if self.expected and sum(s.ended for s in self.streams.values()) >= self.expected:
                await asyncio.sleep(0.5)
                self.all_ended.set()

    async def _end(self, key: str, load: StreamLoad) -> None:
        """TERMINATED on signaling, then the media sockets closed (their data sent first)."""
        if load.signaling is not None:
            update = {
                "msg_type": 8,
                "rtms_stream_id": key,
                "state": 4,
                "reason": 6,
                "timestamp": int(time.time() * 1000),
            }
            with contextlib.suppress(ConnectionClosed):
                await load.signaling.send(json.dumps(update))
        for ws in load.media:
            await ws.close()
        if load.signaling is not None:
            await load.signaling.close()

    async def _keepalives(self) -> None:
        """A KEEP_ALIVE_REQ with a sequence on every socket of every live stream, each interval."""
        while True:
            await asyncio.sleep(self.keepalive_interval_s)
            now = time.monotonic()
            for load in self.streams.values():
                # None in a stream's last second: an answer racing its end proves nothing.
                if load.live_at is None or load.ended or now - load.live_at > self.seconds - 1:
                    continue
                for ws in [load.signaling, *load.media]:
                    if ws is None:
                        continue
                    self._sequence += 1
                    request = {
                        "msg_type": 12,
                        "timestamp": int(time.time() * 1000),
                        "sequence": self._sequence,
                    }
                    load.pending_keepalives[self._sequence] = now
                    load.keepalives_sent += 1
                    with contextlib.suppress(ConnectionClosed):
                        await ws.send(json.dumps(request))
