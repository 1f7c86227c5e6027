"""Zoom's official RTMS SDK (PyPI `rtms` 1.1.0) as an independent client of our simulator.

Each scenario (whole meeting, bad secret, dropped socket, late join) is one module-scoped
fixture: it starts the simulator in the module's event loop (port 0, ws://) and runs ONE SDK
client in a child process (`sdk_client_process.py`), so a native crash cannot take pytest
down and two SDK clients never share a process. The child prints every callback as a JSON
line; the tests, one behaviour each, compare those callbacks with the recorded meeting and
with the simulator's StreamReport.

Behaviours of rtms 1.1.0 these tests rely on or work around (see also the child's docstring):
- ZM_RTMS_CLIENT / ZM_RTMS_SECRET override the credentials given to join(), so the child's
  environment has no ZM_RTMS_* variables at all.
- The native library writes its log to ./logs/python_<pid>_*.log when that folder exists (and
  complains on stdout for every line when it does not), so each child runs in a scratch folder
  that has one; its tail is shown when a test fails.
- A PARTICIPANT_LEAVE event never reaches on_user_update: the native handler reads
  `participants` as a JSON object, not an array ("handle_participant_leave, get participants
  failed, ret: 3" for every array shape). The raw event still reaches on_event_ex, so leaves
  are checked through on_participant_event (which the SDK builds from on_event_ex).
- on_join_confirm fires once per join() call; the SDK's own rejoin after a dropped socket does
  not fire it again, it only shows up as a second on_session_update.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from rtms_ingest.simulator import (
    Faults,
    RtmsSimulator,
    SimulatedStream,
    SimulatorConfig,
    Status,
    StreamReport,
    expected_audio_bytes,
)
from rtms_ingest.simulator.fixture import RecordedMeeting, read_pcm16, sample_meeting
from rtms_ingest.simulator.report import TranscriptAsk

pytestmark = pytest.mark.sdk

CLIENT_SCRIPT = Path(__file__).with_name("sdk_client_process.py")
EVENT_PREFIX = "RTMS-EVT "
CLIENT_ID = "sdk-conformance-client"
CLIENT_SECRET = "sdk-conformance-secret"
WEBHOOK_TOKEN = "sdk-conformance-webhook-token"

# What the SDK is asked for: raw L16, 16 kHz, mono, one stream per participant, 20 ms frames.
# That is exactly what the fixture holds, so the simulator sends it unchanged.
SEND_RATE_MS = 20
SAMPLE_RATE = 16_000
FRAME_BYTES = SAMPLE_RATE * SEND_RATE_MS // 1000 * 2
NEGOTIATED_AUDIO = {
    "content_type": 2,  # RAW_AUDIO
    "codec": 1,  # L16
    "sample_rate": 1,  # SR_16K
    "channel": 1,  # MONO
    "data_opt": 2,  # AUDIO_MULTI_STREAMS
    "send_rate": SEND_RATE_MS,
}

USER_JOIN = 0  # rtms.USER_JOIN
SESSION_EVENT_ADD = 1  # rtms.SESSION_EVENT_ADD
MEETING_ENDED = 6  # STOP_REASON
AUTHENTICATION_FAILURE = 18  # STOP_REASON
INVALID_SIGNATURE_TABLE_A = 3  # status table (A) of the protocol reference


@dataclass
class SdkRun:
    """What one SDK child process did."""

    events: list[dict[str, Any]]
    returncode: int | None
    stderr: str
    workdir: Path

    def of(self, cb: str) -> list[dict[str, Any]]:
        """The events of one callback, in the order they fired."""
        return [event for event in self.events if event["cb"] == cb]

    def index(self, predicate: Any) -> int:
        """Position of the first event matching `predicate` (for ordering checks)."""
        return next(i for i, event in enumerate(self.events) if predicate(event))

    def diagnostics(self) -> str:
        """The child's exit, stderr and native log tails, for assertion messages."""
        logs = sorted((self.workdir / "logs").glob("*.log"))
        native = ""
        if logs:
            text = logs[-1].read_bytes().decode("utf-8", "replace")
            native = "\n".join(line for line in text.splitlines() if "\tUTIL\t" not in line)[-4000:]
        calls = Counter(event["cb"] for event in self.events)
        return (
            f"\n--- SDK child: exit {self.returncode}, callbacks {dict(calls)}"
            f"\n--- stderr (tail):\n{self.stderr[-3000:]}"
            f"\n--- native log {logs[-1] if logs else '(none)'}, UTIL lines omitted:\n{native}"
        )


def child_env() -> dict[str, str]:
    """The parent's environment without ZM_RTMS_* (they would override the credentials)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("ZM_RTMS_")}


async def run_sdk_client(
    stream: SimulatedStream,
    workdir: Path,
    *,
    secret: str = CLIENT_SECRET,
    linger_s: float = 1.0,
    max_s: float = 45.0,
    src_language: int | None = None,
    share: str | None = None,
    video: str | None = None,
) -> SdkRun:
    """Run the SDK child against `stream` until it leaves (or is refused) and exits.

    `workdir` must exist and hold an empty `logs` folder (see make_workdir).
    """
    assert stream.meeting_uuid is not None
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CLIENT_SCRIPT),
        "--meeting-uuid",
        stream.meeting_uuid,
        "--rtms-stream-id",
        stream.rtms_stream_id,
        "--server-urls",
        stream.signaling_url,
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        secret,
        "--data-opt",
        "AUDIO_MULTI_STREAMS",
        "--duration-ms",
        str(SEND_RATE_MS),
        "--linger-s",
        str(linger_s),
        "--max-s",
        str(max_s),
        *([] if src_language is None else ["--src-language", str(src_language)]),
        *(["--share", share] if share else []),
        *(["--video", video] if video else []),
        cwd=workdir,
        env=child_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), max_s + 15)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
    events = []
    for line in out.decode("utf-8", "replace").splitlines():
        at = line.find(EVENT_PREFIX)
        if at >= 0:
            events.append(json.loads(line[at + len(EVENT_PREFIX) :]))
    return SdkRun(events, process.returncode, err.decode("utf-8", "replace"), workdir)


def make_workdir(path: Path) -> Path:
    """A scratch cwd for the child, with ./logs so the native library logs to a file."""
    (path / "logs").mkdir(parents=True)
    return path


async def play_with_sdk(
    sim: RtmsSimulator, workdir: Path, *, late_s: float = 0.0, **client_options: Any
) -> tuple[StreamReport, SdkRun]:
    """Offer a stream, play it while the SDK child (started `late_s` after) is connected.

    The SDK's native core was seen to die of SIGSEGV once (in the buffered-audio scenario, after
    a clean join; one of three suite runs in a session): the test client crashing, not the
    simulator answering wrongly, so such a run is played once more on a new stream and reported
    as a warning. A non-zero exit of its own, or a second crash, fails the test.
    """
    for attempt in (1, 2):
        stream = sim.new_stream()
        play = asyncio.create_task(sim.play(stream))
        try:
            await asyncio.sleep(late_s)
            sdk = await run_sdk_client(stream, workdir, **client_options)
            signal = -sdk.returncode if sdk.returncode is not None and sdk.returncode < 0 else 0
            if signal and attempt == 1:
                warnings.warn(
                    f"the SDK child died of signal {signal}; playing it once more"
                    f"{sdk.diagnostics()[-2000:]}",
                    stacklevel=2,
                )
                continue
            if sdk.returncode != 0:
                pytest.fail(f"the SDK child did not finish cleanly{sdk.diagnostics()}")
            report = await asyncio.wait_for(play, 15)
            return report, sdk
        finally:
            if not play.done():
                play.cancel()
                await asyncio.gather(play, return_exceptions=True)
    raise AssertionError("unreachable: the second attempt returns or fails")


def config(**overrides: Any) -> SimulatorConfig:
    options: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "webhook_secret_token": WEBHOOK_TOKEN,
        "webhook_url": None,
        "host": "127.0.0.1",
        "port": 0,
        "speed": 8.0,
        "keepalive_interval_s": 1.0,
        "transcript_delay_s": 0.2,
    }
    options.update(overrides)
    return SimulatorConfig(**options)


@pytest.fixture(scope="module")
def meeting() -> RecordedMeeting:
    return sample_meeting()


def audio_bytes_per_user(meeting: RecordedMeeting, send_rate_ms: int) -> dict[int, int]:
    """PCM bytes a whole AUDIO_MULTI_STREAMS playback delivers, per participant.

    Straight from the fixture and the simulator's documented framing rules (module docstring
    of rtms_ingest/simulator/audio.py): frame k covers [k*d, (k+1)*d) ms, only whole frames
    inside duration_s are sent, a short track is padded with silence, and an all-zero frame
    is never sent.
    """
    frame = SAMPLE_RATE * send_rate_ms // 1000 * 2
    frames = round(meeting.duration_s * 1000) // send_rate_ms
    totals = {}
    for user_id, path in meeting.audio_files.items():
        pcm = read_pcm16(path)
        voiced = sum(1 for k in range(frames) if any(pcm[k * frame : (k + 1) * frame]))
        totals[user_id] = voiced * frame
    return totals


def transcript_rows(sdk: SdkRun, origin_ms: int) -> list[tuple[int, str, str, int, int]]:
    """(user_id, user_name, text, start ms, end ms) of every transcript callback."""
    return [
        (
            e["user_id"],
            e["user_name"],
            e["text"],
            e["start_ts"] - origin_ms,
            e["end_ts"] - origin_ms,
        )
        for e in sdk.of("transcript")
    ]


def fixture_rows(meeting: RecordedMeeting) -> list[tuple[int, str, str, int, int]]:
    return [
        (
            u.user_id,
            meeting.user_name(u.user_id),
            u.text,
            round(u.start_s * 1000),
            round(u.end_s * 1000),
        )
        for u in meeting.utterances
    ]


def transcript_cue_ms(meeting: RecordedMeeting, delay_s: float) -> dict[tuple[int, int], int]:
    """(user_id, start ms) -> stream ms at which the simulator sends that transcript."""
    end_ms = round(meeting.duration_s * 1000)
    return {
        (u.user_id, round(u.start_s * 1000)): min(round((u.end_s + delay_s) * 1000), end_ms)
        for u in meeting.utterances
    }


@dataclass
class Played:
    """One stream played to the SDK child: the simulator's report and the SDK's callbacks."""

    report: StreamReport
    sdk: SdkRun
    config: SimulatorConfig
    wall_s: float

    @property
    def why(self) -> str:
        return self.sdk.diagnostics()

    @property
    def origin(self) -> int:
        assert self.report.clock_origin_ms is not None, self.why
        return self.report.clock_origin_ms


async def play(
    meeting: RecordedMeeting, workdir: Path, cfg: SimulatorConfig, **client_options: Any
) -> Played:
    started = time.monotonic()
    async with asyncio.timeout(90), RtmsSimulator(meeting, cfg) as sim:
        report, sdk = await play_with_sdk(sim, make_workdir(workdir), **client_options)
    return Played(report, sdk, cfg, time.monotonic() - started)


# One SDK run per scenario, shared by the tests of that scenario (a run takes 5-16 s).


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def whole_meeting(
    meeting: RecordedMeeting, tmp_path_factory: pytest.TempPathFactory
) -> Played:
    """The whole sample meeting over ws://, at 8x, with a keep-alive every second."""
    return await play(meeting, tmp_path_factory.mktemp("sdk-whole"), config())


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["status", "close"])
async def refused(
    request: pytest.FixtureRequest,
    meeting: RecordedMeeting,
    tmp_path_factory: pytest.TempPathFactory,
) -> Played:
    """A join with the wrong secret, refused by status code or by a bare close.

    connect_timeout_s outlasts the child's 3 s linger: a retry (the SDK rejoins about 1 s
    after losing a socket) would reach the still-offered stream and be counted in its report.
    """
    cfg = config(connect_timeout_s=5.0, faults=Faults(bad_signature_mode=request.param))
    workdir = tmp_path_factory.mktemp(f"sdk-refused-{request.param}")
    return await play(meeting, workdir, cfg, secret="wrong", linger_s=3.0)


DROP_SPEED, DROP_AT_S = 10.0, 30.0


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["signaling", "media"])
async def dropped(
    request: pytest.FixtureRequest,
    meeting: RecordedMeeting,
    tmp_path_factory: pytest.TempPathFactory,
) -> Played:
    """The whole meeting at 10x with the signaling (or every media) socket aborted at 30 s."""
    cfg = config(
        speed=DROP_SPEED,
        faults=Faults(drop_socket_at_s=DROP_AT_S, drop_socket=request.param),
    )
    return await play(meeting, tmp_path_factory.mktemp(f"sdk-drop-{request.param}"), cfg)


LATE_S = 2.0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def late(meeting: RecordedMeeting, tmp_path_factory: pytest.TempPathFactory) -> Played:
    """The whole meeting at 8x from the webhook on; the SDK child starts 2 s (16 s) later."""
    cfg = config(clock_start="webhook")
    return await play(meeting, tmp_path_factory.mktemp("sdk-late"), cfg, late_s=LATE_S)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chat_groups(meeting: RecordedMeeting, tmp_path_factory: pytest.TempPathFactory) -> Played:
    """The whole meeting at 8x with the chat-group events (10-14, and an odd one) at 20 s."""
    cfg = config(faults=Faults(chat_group_events_at_s=20.0))
    return await play(meeting, tmp_path_factory.mktemp("sdk-chat-groups"), cfg)


SPANISH = 28


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def spanish(meeting: RecordedMeeting, tmp_path_factory: pytest.TempPathFactory) -> Played:
    """The whole meeting at 8x, every utterance reported in Spanish, the SDK asking for Spanish
    with Zoom's language detection off (TranscriptParams, rtms 1.1.0)."""
    in_spanish = replace(
        meeting, utterances=tuple(replace(u, language=SPANISH) for u in meeting.utterances)
    )
    workdir = tmp_path_factory.mktemp("sdk-spanish")
    return await play(in_spanish, workdir, config(), src_language=SPANISH)


def test_the_official_sdk_under_test_is_the_pinned_wheel() -> None:
    assert importlib.metadata.version("rtms") == "1.1.0"


# The whole meeting over ws://


def test_sdk_joins_with_status_0_over_one_socket_per_media_type(whole_meeting: Played) -> None:
    report, sdk, why = whole_meeting.report, whole_meeting.sdk, whole_meeting.why
    # The child really ran the official wheel, and finished by itself.
    assert "site-packages/rtms/" in sdk.of("start")[0]["rtms_file"], why
    assert sdk.of("exit") == [sdk.events[-1]] and sdk.events[-1]["clean"], why
    assert whole_meeting.wall_s < 40, whole_meeting.wall_s

    assert [e["reason"] for e in sdk.of("join_confirm")] == [0], why
    assert report.joined and report.status_codes == [0, 0, 0], why
    assert report.client_agents and report.client_agents[0].startswith("rtms_sdk_cpp"), why
    assert report.signaling_connections == 1 and report.kicked_connections == 0, why
    # One media socket per enabled type (audio, transcript), audio negotiated as asked.
    assert set(report.media_params) == {"audio", "transcript"}, report.media_params
    assert report.media_params["audio"]["audio"] == NEGOTIATED_AUDIO, report.media_params
    received = Counter(report.received)
    assert received[1] == 1 and received[3] == 2, received  # handshakes
    assert received[7] == 1 and received[5] == 1, received  # CLIENT_READY_ACK, EVENT_SUBSCRIPTION
    assert {2: True, 3: True, 4: True}.items() <= report.event_subscriptions.items()


def test_sdk_sees_the_session_start_and_first_packet(whole_meeting: Played) -> None:
    sdk, why = whole_meeting.sdk, whole_meeting.why
    # SESSION_STATE_UPDATE STARTED -> SESSION_EVENT_ADD. Only op and sessionId are checked: the
    # Session object's other fields are unreliable in rtms 1.1.0 (isActive was False in about
    # one run in six, status holds garbage after a rejoin, meetingId dangles).
    sessions = sdk.of("session_update")
    assert [e["op"] for e in sessions] == [SESSION_EVENT_ADD], why
    assert sessions[0]["session_id"], why
    raw_events = [json.loads(e["raw"]) for e in sdk.of("event_ex")]
    assert {"event_type": 1, "timestamp": whole_meeting.origin} in raw_events, why


def test_sdk_receives_every_utterance_with_its_speaker(
    whole_meeting: Played, meeting: RecordedMeeting
) -> None:
    sdk, why = whole_meeting.sdk, whole_meeting.why
    rows = transcript_rows(sdk, whole_meeting.origin)
    assert sorted(rows) == sorted(fixture_rows(meeting)), why
    assert len(rows) == len(meeting.utterances) == 21
    assert all(e["size"] == len(e["text"].encode()) for e in sdk.of("transcript"))


def test_sdk_sees_participants_join_including_the_late_joiner(
    whole_meeting: Played, meeting: RecordedMeeting
) -> None:
    sdk, why, origin = whole_meeting.sdk, whole_meeting.why, whole_meeting.origin
    joins = [(e["user_id"], e["user_name"]) for e in sdk.of("user_update") if e["op"] == USER_JOIN]
    assert joins == [(p.user_id, p.user_name) for p in meeting.participants], why
    late = next(p for p in meeting.participants if p.join_s > 0)
    late_join = sdk.index(lambda e: e["cb"] == "user_update" and e["user_id"] == late.user_id)
    last_before = [u for u in meeting.utterances if u.end_s + 0.2 < late.join_s][-1]
    assert sdk.index(lambda e: e.get("text") == last_before.text) < late_join, why
    first_of_late = sdk.index(lambda e: e["cb"] == "transcript" and e["user_id"] == late.user_id)
    assert late_join < first_of_late, why
    # The roster is stamped when it is announced (just after ready), the late join at join_s.
    join_events = [e for e in sdk.of("participant_event") if e["event"] == "join"]
    at_start, joined_late = (e["ts"] - origin for e in join_events)
    assert 0 <= at_start < 1000 and joined_late == round(late.join_s * 1000), why


def test_sdk_sees_the_early_leaver_leave(whole_meeting: Played, meeting: RecordedMeeting) -> None:
    # Through on_participant_event, built from on_event_ex: rtms 1.1.0 never raises
    # on_user_update for a leave (module docstring).
    sdk, why, origin = whole_meeting.sdk, whole_meeting.why, whole_meeting.origin
    early = next(p for p in meeting.participants if p.leave_s is not None)
    assert early.leave_s is not None
    leaves = [e for e in sdk.of("participant_event") if e["event"] == "leave"]
    assert [(e["ts"] - origin, e["participants"]) for e in leaves] == [
        (round(early.leave_s * 1000), [{"user_id": early.user_id, "user_name": early.user_name}])
    ], why


def test_sdk_sees_every_active_speaker_change(
    whole_meeting: Played, meeting: RecordedMeeting
) -> None:
    speakers: list[int] = []
    for u in meeting.utterances:
        if not speakers or speakers[-1] != u.user_id:
            speakers.append(u.user_id)
    got = [e["user_id"] for e in whole_meeting.sdk.of("active_speaker")]
    assert got == speakers, whole_meeting.why


def test_sdk_receives_the_audio_bytes_the_fixture_predicts(
    whole_meeting: Played, meeting: RecordedMeeting
) -> None:
    report, sdk, why = whole_meeting.report, whole_meeting.sdk, whole_meeting.why
    expected = audio_bytes_per_user(meeting, SEND_RATE_MS)
    assert sum(expected.values()) == expected_audio_bytes(meeting, 2, SEND_RATE_MS)
    audio = sdk.of("audio")
    got: Counter[int] = Counter()
    for e in audio:
        got[e["user_id"]] += e["size"]
    assert dict(got) == expected, why
    # 20 ms of 16 kHz mono L16 per callback, with the speaker's id and name ...
    assert {(e["size"], e["len"]) for e in audio} == {(FRAME_BYTES, FRAME_BYTES)}
    assert all(e["user_name"] == meeting.user_name(e["user_id"]) for e in audio)
    # ... and every frame the simulator sent, exactly once.
    sent = Counter(frame.key for frame in report.frames("audio"))
    assert Counter((e["user_id"], e["ts"], e["size"]) for e in audio) == sent
    assert report.audio_bytes == sum(expected.values())


def test_sdk_answers_keepalives_on_every_socket(whole_meeting: Played) -> None:
    report = whole_meeting.report
    keepalives = Counter(frame.key[0] for frame in report.frames("keepalive"))
    assert set(keepalives) == {"signaling", "media:audio", "media:transcript"}, keepalives
    for label, count in keepalives.items():
        assert count >= 5, keepalives
        # The last request may still be in flight when the stream ends.
        assert report.keepalive_answers.get(label, 0) >= count - 1, report.keepalive_answers
    assert not report.dropped_for_missed_keepalive


def test_sdk_leaves_with_meeting_ended(whole_meeting: Played) -> None:
    assert [e["reason"] for e in whole_meeting.sdk.of("leave")] == [MEETING_ENDED], (
        whole_meeting.why
    )
    assert whole_meeting.report.stop_reason == MEETING_ENDED


# A bad secret


def test_bad_secret_is_refused_once_and_not_retried(refused: Played) -> None:
    report, sdk, why = refused.report, refused.sdk, refused.why
    confirms = [e["reason"] for e in sdk.of("join_confirm")]
    if refused.config.faults.bad_signature_mode == "status":
        # The simulator's status code (table A) is passed straight through.
        assert refused.config.status(Status.INVALID_SIGNATURE) == INVALID_SIGNATURE_TABLE_A
        assert confirms == [INVALID_SIGNATURE_TABLE_A], why
        assert report.status_codes == [INVALID_SIGNATURE_TABLE_A]
    else:
        # A bare close 1000, as real Zoom often answers: the SDK reports its own code (960).
        assert len(confirms) == 1 and confirms[0] != 0, why
        assert report.status_codes == []
    assert report.refused_signatures == 1, report
    assert report.received == [1], report.received
    assert report.stop_reason == AUTHENTICATION_FAILURE


def test_bad_secret_gets_no_media_and_no_session(refused: Played) -> None:
    report, sdk = refused.report, refused.sdk
    media = ("transcript", "audio", "user_update", "session_update", "participant_event", "leave")
    assert not [e for e in sdk.events if e["cb"] in media], refused.why
    assert report.signaling_connections == 0 and report.media_params == {}
    assert not report.joined
    assert {frame.kind for frame in report.sent} <= {"handshake"}, report.sent


# A dropped socket


def rejoin(dropped: Played) -> tuple[float, int]:
    """(stream ms of the rejoin, monotonic ns of its announcement), from the report."""
    announces = [frame.monotonic_ns for frame in dropped.report.frames("session_state")]
    assert len(announces) == 2, dropped.report.frames("session_state")
    return (announces[1] - announces[0]) / 1e6 * DROP_SPEED, announces[1]


def test_sdk_rejoins_by_itself_about_a_second_after_a_drop(dropped: Played) -> None:
    report, sdk, why = dropped.report, dropped.sdk, dropped.why
    target = dropped.config.faults.drop_socket
    assert len(report.faults_fired) == 1 and report.faults_fired[0].startswith(f"drop {target}")
    # A fresh signaling handshake, with no webhook to prompt it.
    assert report.signaling_connections == 2 and len(report.client_agents) == 2, why
    # The SDK's own rejoin does not raise on_join_confirm again, only on_session_update.
    assert [e["reason"] for e in sdk.of("join_confirm")] == [0], why
    assert len(sdk.of("session_update")) == 2, why
    rejoin_ms, _ = rejoin(dropped)
    rejoin_delay_s = (rejoin_ms - DROP_AT_S * 1000) / DROP_SPEED / 1000
    assert 0 < rejoin_delay_s < 5, rejoin_delay_s
    assert [e["reason"] for e in sdk.of("leave")] == [MEETING_ENDED], why
    assert report.stop_reason == MEETING_ENDED


def test_transcripts_outside_the_drop_gap_all_arrive(
    dropped: Played, meeting: RecordedMeeting
) -> None:
    rows = transcript_rows(dropped.sdk, dropped.origin)
    assert len(rows) == len(set(rows)), dropped.why
    assert set(rows) <= set(fixture_rows(meeting)), dropped.why
    cues = transcript_cue_ms(meeting, dropped.config.transcript_delay_s)
    got = {(user_id, start) for user_id, _, _, start, _ in rows}
    rejoin_ms, _ = rejoin(dropped)
    gap = (DROP_AT_S * 1000, rejoin_ms + 0.1 * DROP_SPEED * 1000)
    lost = {key: cue for key, cue in cues.items() if key not in got}
    assert all(gap[0] <= cue <= gap[1] for cue in lost.values()), (lost, gap, dropped.why)
    assert any(cue > gap[1] for cue in cues.values())  # there is a "rest" to check


def test_the_report_tells_what_reached_the_sdk_across_its_rejoin(dropped: Played) -> None:
    report, why = dropped.report, dropped.why
    assert report.rejoins == 1 and report.refused_after_end == 0, why
    rows = transcript_rows(dropped.sdk, dropped.origin)
    got = {(user_id, start) for user_id, _, _, start, _ in rows}
    delivered = {(t.user_id, t.start_ms) for t in report.delivered()}
    # Nothing reaches the SDK that the report says found no socket ...
    assert got <= delivered, (got - delivered, why)
    # ... and what was written to a socket but never surfaced went to the session the drop
    # ended, between the drop and the rejoin.
    rejoin_ms, _ = rejoin(dropped)
    unseen = [t for t in report.delivered() if (t.user_id, t.start_ms) not in got]
    assert all(t.session == 1 for t in unseen), (unseen, why)
    assert all(DROP_AT_S * 1000 <= t.stream_ms <= rejoin_ms for t in unseen), (unseen, why)
    assert {t.session for t in report.texts if t.stream_ms > rejoin_ms} == {2}, why


def test_audio_after_the_rejoin_all_arrives(dropped: Played) -> None:
    delivered = Counter((e["user_id"], e["ts"], e["size"]) for e in dropped.sdk.of("audio"))
    _, rejoined_ns = rejoin(dropped)
    after = [f.key for f in dropped.report.frames("audio") if f.monotonic_ns > rejoined_ns]
    assert after and all(delivered[key] == 1 for key in after), dropped.why
    assert all(count == 1 for count in delivered.values())


def test_sdk_late_gets_the_buffered_audio_first_without_asking(
    late: Played, meeting: RecordedMeeting
) -> None:
    report, sdk, why = late.report, late.sdk, late.why
    assert report.buffer_data == [None], why  # the SDK sends no buffer_data: Zoom's default
    buffered = report.buffered_audio
    assert buffered is not None and buffered.sent_frames == buffered.due_frames > 0, why
    assert buffered.ready_ms >= LATE_S * 8 * 1000
    keys = [(e["user_id"], e["ts"], e["size"]) for e in sdk.of("audio")]
    assert Counter(keys) == Counter(frame.key for frame in report.frames("audio")), why
    assert sum(size for _, _, size in keys) == expected_audio_bytes(meeting, 2, SEND_RATE_MS)
    # The SDK hands the burst (stamped before the ready) to on_audio_data first, in order.
    past = [k for k in keys if k[1] - late.origin + SEND_RATE_MS <= buffered.ready_ms]
    assert len(past) == buffered.sent_frames and keys[: len(past)] == past, why


# Zoom's 2026 additions (reference §7)


def test_sdk_takes_the_chat_group_events_and_the_meeting_goes_on(
    chat_groups: Played, meeting: RecordedMeeting
) -> None:
    sdk, why = chat_groups.sdk, chat_groups.why
    assert "odd chat-group event on signaling" in chat_groups.report.faults_fired
    raw = [json.loads(e["raw"]) for e in sdk.of("event_ex")]
    seen = [event.get("event_type") for event in raw]
    assert [kind for kind in seen if 10 <= kind <= 14][:5] == [10, 11, 12, 13, 14], why
    # Neither those nor the odd one upset it: every utterance, then the normal end.
    assert len(transcript_rows(sdk, chat_groups.origin)) == len(meeting.utterances), why
    assert [e["reason"] for e in sdk.of("leave")] == [MEETING_ENDED], why


# Transcript languages


def test_sdk_asks_for_a_forced_language_and_the_simulator_accepts_it(spanish: Played) -> None:
    report, sdk, why = spanish.report, spanish.sdk, spanish.why
    assert [e["reason"] for e in sdk.of("join_confirm")] == [0], why
    assert report.transcript_asks == [TranscriptAsk("transcript", SPANISH, False, 0)], why


def test_sdk_takes_transcripts_that_carry_a_language(
    spanish: Played, meeting: RecordedMeeting
) -> None:
    sdk, why = spanish.sdk, spanish.why
    assert sorted(transcript_rows(sdk, spanish.origin)) == sorted(fixture_rows(meeting)), why
    assert [e["reason"] for e in sdk.of("leave")] == [MEETING_ENDED], why


# Screen share and video (issue 22): the SDK's on_deskshare_data and on_video_data


SHARER, CAMERA = 16778240, 16779264
JPEG_HEAD, ANNEX_B_HEAD = "ffd8ff", "00000001"


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["JPG", "H264"])
async def pictures(
    request: pytest.FixtureRequest,
    meeting: RecordedMeeting,
    tmp_path_factory: pytest.TempPathFactory,
) -> Played:
    """The whole meeting at 8x, the SDK asking for share (JPG or H.264) and video (JPG)."""
    workdir = tmp_path_factory.mktemp(f"sdk-pictures-{request.param}")
    return await play(meeting, workdir, config(), share=request.param, video="JPG")


def test_sdk_receives_the_share_frames_of_the_sharer(
    pictures: Played, meeting: RecordedMeeting
) -> None:
    sdk, why = pictures.sdk, pictures.why
    assert {"deskshare", "video"} <= set(pictures.report.media_params), why
    frames = sdk.of("deskshare")
    share = meeting.shares[0]
    # Two a second of stream time while the share runs (the SDK asked for 2 fps).
    expected = (share.end_s - share.start_s) * 2
    assert expected * 0.8 <= len(frames) <= expected + 2, (len(frames), why)
    assert {f["user_id"] for f in frames} == {SHARER}, why
    codec = pictures.report.media_params["deskshare"]["deskshare"]["codec"]
    head = JPEG_HEAD if codec == 5 else ANNEX_B_HEAD
    assert all(f["head"].startswith(head) for f in frames), (frames[:2], why)
    stamps = [f["ts"] - pictures.origin for f in frames]
    assert share.start_s * 1000 <= min(stamps) and max(stamps) < share.end_s * 1000, why
    assert [e["reason"] for e in sdk.of("leave")] == [MEETING_ENDED], why


def test_sdk_sees_sharing_start_and_stop_with_the_sharer(pictures: Played) -> None:
    events = [(e["event"], e["user_id"]) for e in pictures.sdk.of("sharing")]
    assert events[0] == ("start", SHARER) and events[-1][0] == "stop", (events, pictures.why)


def test_sdk_receives_the_active_speakers_camera(pictures: Played) -> None:
    frames = pictures.sdk.of("video")
    assert frames and {f["user_id"] for f in frames} == {CAMERA}, pictures.why
    assert all(f["head"].startswith(JPEG_HEAD) for f in frames), pictures.why
