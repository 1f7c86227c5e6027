"""Shared by the client tests: a small meeting, the simulator and client set up for it, waiting."""

from __future__ import annotations

import asyncio
import json
import math
import wave
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from rtms_ingest.client import RtmsCredentials, RtmsStreamClient, StreamTarget
from rtms_ingest.client.sink import GapSpan
from rtms_ingest.protocol import BinaryContent, TextContent
from rtms_ingest.simulator.config import SimulatorConfig
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting
from rtms_ingest.simulator.report import StreamReport
from rtms_ingest.simulator.session import SimulatedStream
from rtms_ingest.simulator.simulator import RtmsSimulator
from tests.rtms_ingest.loopback import LOOPBACK_POLICY

CLIENT_ID = "client-under-test"
CLIENT_SECRET = "secret-under-test"
ALICE, BOB, CARLA = 101, 102, 103
NAMES = {ALICE: "Alice Chen", BOB: "Bob Okafor", CARLA: "Carla Núñez"}
UTTERANCES = [
    (ALICE, 0.2, 0.9, "Morning, this is Alice."),
    (BOB, 1.0, 1.8, "Bob here, a quick update."),
    (CARLA, 2.0, 2.6, "Carla joining late, sorry."),
    (ALICE, 3.2, 3.9, "Alice again: decisions now."),
    (CARLA, 4.0, 4.6, "Carla: ship it on Thursday."),
    (ALICE, 4.7, 5.5, "Alice: thanks all, bye."),
]
CHAT = [(BOB, 1.5, "Doc link is in the invite"), (CARLA, 4.2, "+1 🚀")]


class RecordingSink:
    """Collects every StreamSink call; the adapter boundary the Django sink implements."""

    def __init__(self) -> None:
        self.states: list[tuple[str, str, int | None]] = []
        self.gaps: list[str] = []
        self.spans: list[GapSpan] = []
        self.joined: list[tuple[int, str]] = []
        self.left: list[int] = []
        self.speakers: list[tuple[int, str]] = []
        self.transcripts: list[TextContent] = []
        self.chats: list[TextContent] = []
        self.audio_bytes = 0
        self.sharing_events: list[tuple[int | None, str, bool]] = []
        self.shares: list[BinaryContent] = []
        self.videos: list[BinaryContent] = []

    async def stream_state(self, state: str, detail: str = "", reason: int | None = None) -> None:
        self.states.append((state, detail, reason))

    async def gap(self, detail: str, span: GapSpan) -> None:
        self.gaps.append(detail)
        self.spans.append(span)

    async def participant_joined(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        self.joined.append((user_id, user_name))

    async def participant_left(
        self, user_id: int, user_name: str | None, at_ms: int | None
    ) -> None:
        self.left.append(user_id)

    async def active_speaker(self, user_id: int, user_name: str, at_ms: int | None) -> None:
        self.speakers.append((user_id, user_name))

    async def transcript(self, content: TextContent) -> None:
        self.transcripts.append(content)

    async def chat(self, content: TextContent) -> None:
        self.chats.append(content)

    async def audio(self, content: BinaryContent) -> None:
        self.audio_bytes += len(content.data)

    async def sharing(
        self, user_id: int | None, user_name: str, started: bool, at_ms: int | None
    ) -> None:
        self.sharing_events.append((user_id, user_name, started))

    async def share(self, content: BinaryContent) -> None:
        self.shares.append(content)

    async def video(self, content: BinaryContent) -> None:
        self.videos.append(content)

    @property
    def state_names(self) -> list[str]:
        return [state for state, _, _ in self.states]


def _write_wav(path: Path, duration_s: float, spans: list[tuple[float, float]]) -> None:
    """16 kHz mono PCM: a tone during each span, silence elsewhere."""
    rate = 16_000
    samples = array("h", bytes(2 * round(duration_s * rate)))
    for start, end in spans:
        for i in range(round(start * rate), round(end * rate)):
            samples[i] = int(3000 * math.sin(2 * math.pi * 440 * i / rate))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


def write_small_meeting(tmp_path: Path) -> RecordedMeeting:
    """Six utterances by three people in six seconds, two chat lines, audio for two."""
    participants = [
        {"user_id": ALICE, "user_name": NAMES[ALICE], "join_s": 0.0, "leave_s": None},
        {"user_id": BOB, "user_name": NAMES[BOB], "join_s": 0.0, "leave_s": 3.0},
        {"user_id": CARLA, "user_name": NAMES[CARLA], "join_s": 1.2, "leave_s": None},
    ]
    doc = {
        "topic": "Client test meeting",
        "duration_s": 6.0,
        "participants": participants,
        "utterances": [
            {"user_id": u, "start_s": s, "end_s": e, "text": t} for u, s, e, t in UTTERANCES
        ],
        "chat": [{"user_id": u, "at_s": at, "text": t} for u, at, t in CHAT],
    }
    (tmp_path / "meeting.json").write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / "audio").mkdir()
    for user in (ALICE, CARLA):
        spans = [(s, e) for u, s, e, _ in UTTERANCES if u == user]
        _write_wav(tmp_path / "audio" / f"{user}.wav", 6.0, spans)
    return load_meeting(tmp_path)


def sim_config(speed: float = 10.0, **overrides: Any) -> SimulatorConfig:
    """A fast simulator for CLIENT_ID/CLIENT_SECRET; keep-alives often enough to be seen."""
    settings: dict[str, Any] = {
        "speed": speed,
        "keepalive_interval_s": 0.1,
        "transcript_delay_s": 0.1,
        "connect_timeout_s": 5.0,
    }
    settings.update(overrides)
    return SimulatorConfig(CLIENT_ID, CLIENT_SECRET, "webhook-secret", **settings)


def make_client(
    stream: SimulatedStream,
    sink: Any,
    *,
    secret: str = CLIENT_SECRET,
    url: str | None = None,
    product: str = "meeting",
    **options: Any,
) -> RtmsStreamClient:
    """A client for the simulated stream, with test-sized backoff unless told otherwise."""
    target = StreamTarget(
        product, stream.owner_id, stream.rtms_stream_id, url or stream.signaling_url
    )
    options.setdefault("backoff_initial_s", 0.05)
    options.setdefault("backoff_max_s", 0.2)
    options.setdefault("url_policy", LOOPBACK_POLICY)
    return RtmsStreamClient(target, RtmsCredentials(CLIENT_ID, secret), sink, **options)


async def play(
    sim: RtmsSimulator, client_for: Callable[[SimulatedStream], RtmsStreamClient]
) -> tuple[int | None, StreamReport, RtmsStreamClient]:
    """Play one stream to its end with a client; returns run()'s result and the report."""
    stream = sim.new_stream()
    client = client_for(stream)
    playing = asyncio.create_task(sim.play(stream))
    try:
        reason = await asyncio.wait_for(client.run(), 20)
        report = await asyncio.wait_for(playing, 10)
    finally:
        playing.cancel()
        await asyncio.gather(playing, return_exceptions=True)
    return reason, report, client


async def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait (polling) until condition() is true."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


def transcript_keys(sink: RecordingSink) -> list[tuple[int | None, int | None]]:
    return [(t.user_id, t.start_time) for t in sink.transcripts]


# --- a whole meeting ---------------------------------------------------------------------------


class Playing(NamedTuple):
    """A stream the simulator plays and a client runs, each in a task of its own."""

    stream: SimulatedStream
    client: RtmsStreamClient
    playing: asyncio.Task[StreamReport]
    running: asyncio.Task[int | None]


def start_playing(sim: RtmsSimulator, sink: Any, **options: Any) -> Playing:
    """Start playing a new stream of `sim` and running a client for it (`make_client` options)."""
    stream = sim.new_stream()
    client = make_client(stream, sink, **options)
    return Playing(
        stream, client, asyncio.create_task(sim.play(stream)), asyncio.create_task(client.run())
    )
