"""One chaos run: fresh Redis and processes, the meeting played through one fault, judged.

Every wait has a limit, and every process started is stopped on the way out, also when the
run fails or is interrupted (Ctrl-C unwinds through the `finally` blocks here).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import time
import traceback
from pathlib import Path
from typing import Any

import redis
from asgiref.sync import sync_to_async

from benchmarks.chaos_faults import (
    FAULTS,
    FINAL_ASR_REVISION,
    ChaosContext,
    FaultResult,
    RedisServer,
)
from benchmarks.chaos_judge import Caption, Row, RunRecord, judge
from benchmarks.chaos_viewer import LiveViewer
from rtms_ingest.simulator import (
    Faults,
    RtmsSimulator,
    SimulatorConfig,
    StreamReport,
    WebhookDeliveryError,
)
from rtms_ingest.simulator.fixture import RecordedMeeting, load_meeting, sample_meeting
from tests.integration.stack import (
    CLIENT_ID,
    CLIENT_SECRET,
    WEBHOOK_SECRET,
    Stack,
    StackProcesses,
    stack_processes,
)

log = logging.getLogger(__name__)

WORKER_QUEUES = "asr,llm,celery"
MEETING_FOUND_S = 30.0
CONNECTED_S = 60.0  # until the first client is ready (stream time 0)
AFTER_PLAY_S = 120.0  # the fault task may still be putting things right after the end


async def run_fault(
    name: str, args: argparse.Namespace, cookie: str, redis_port: int, log_dir: Path
) -> dict[str, Any]:
    """Play the meeting through fault `name`; its JSON (with "error" if the harness failed)."""
    what, _ = FAULTS[name]
    result: dict[str, Any] = {"fault": name, "what": what, "logs": str(log_dir)}
    recording = load_meeting(args.meeting) if args.meeting else sample_meeting()
    limit_s = recording.duration_s / args.speed + args.settle + AFTER_PLAY_S + 180
    server = RedisServer(redis_port, log_dir / "redis")
    started = time.monotonic()
    try:
        await asyncio.to_thread(server.start)
        database_url = os.environ["DATABASE_URL"]
        extra_env = {"TRANSCRIPTION": os.environ.get("TRANSCRIPTION", "both")}
        result["transcription"] = extra_env["TRANSCRIPTION"]
        with stack_processes(
            database_url,
            server.url,
            log_dir,
            extra_env,
            ingests=2,
            worker_queues=WORKER_QUEUES,
            worker_concurrency=args.worker_concurrency,
        ) as (processes, stack):
            async with asyncio.timeout(limit_s):
                result |= await _play_through(
                    name, args, recording, cookie, server, processes, stack
                )
    except Exception as exc:  # one fault's failure must not stop the others
        result["error"] = f"{type(exc).__name__}: {exc}"
        result["traceback"] = traceback.format_exc().splitlines()[-6:]
    finally:
        await asyncio.to_thread(server.stop)
        result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def _config(args: argparse.Namespace, stack: Stack, name: str) -> SimulatorConfig:
    faults = Faults(drop_socket_at_s=args.fault_at) if name == "signaling" else Faults()
    return SimulatorConfig(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        webhook_secret_token=WEBHOOK_SECRET,
        webhook_url=stack.webhook_url,
        speed=args.speed,
        connect_timeout_s=CONNECTED_S,
        faults=faults,
    )


async def _play_through(
    name: str,
    args: argparse.Namespace,
    recording: RecordedMeeting,
    cookie: str,
    server: RedisServer,
    processes: StackProcesses,
    stack: Stack,
) -> dict[str, Any]:
    config = _config(args, stack, name)
    stop_viewing = asyncio.Event()
    async with RtmsSimulator(recording, config) as simulator:
        stream = simulator.new_stream()
        playing = asyncio.create_task(simulator.play(stream))
        background: list[asyncio.Task[Any]] = [playing]
        try:
            meeting_id = await _meeting_of(stream.rtms_stream_id, playing)
            viewer = LiveViewer(f"{stack.ws_url}/ws/meetings/{meeting_id}/", cookie, stack.base_url)
            background.append(asyncio.create_task(viewer.run(stop_viewing)))
            report = stream.report
            await _until(lambda: report.clock_start_ns is not None, CONNECTED_S, playing)
            context = ChaosContext(
                processes=processes,
                redis=server,
                database=_database_name(),
                report=report,
                fault_at_ns=report.due_ns(args.fault_at * 1000),
                worker_queues=WORKER_QUEUES,
                worker_concurrency=args.worker_concurrency,
                stream_id=stream.rtms_stream_id,
            )
            _, inject = FAULTS[name]
            faulting = asyncio.create_task(inject(context))
            background.append(faulting)
            webhook_refused = None
            try:
                await asyncio.wait_for(
                    asyncio.shield(playing), recording.duration_s / args.speed + 90
                )
            except WebhookDeliveryError as exc:
                # Zoom would retry in 5 minutes; the stream is over, so judge what happened.
                webhook_refused = str(exc)
            fault = await asyncio.wait_for(asyncio.shield(faulting), AFTER_PLAY_S)
            settled_s = await _settle(meeting_id, server.url, args.settle)
        finally:
            stop_viewing.set()
            for task in background:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
    judged = await _judged(args, config, recording, report, fault, meeting_id, viewer, server)
    return judged | {"settled_after_end_s": settled_s, "webhook_refused": webhook_refused}


async def _until(condition: Any, limit_s: float, playing: asyncio.Task[Any]) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        if playing.done():
            raise RuntimeError(f"the stream ended first: {playing.result().stop_reason}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {limit_s:g} s")
        await asyncio.sleep(0.02)


def _database_name() -> str:
    from django.conf import settings

    return str(settings.DATABASES["default"]["NAME"])


@sync_to_async
def _db(fn: Any, *args: Any) -> Any:
    """Run `fn` on a fresh connection (the PostgreSQL fault cuts ours too)."""
    from django.db import connections

    connections.close_all()
    try:
        return fn(*args)
    finally:
        connections.close_all()


async def _meeting_of(stream_id: str, playing: asyncio.Task[Any]) -> int:
    from assistant.models import Meeting

    def find() -> int | None:
        return Meeting.objects.filter(rtms_stream_id=stream_id).values_list("pk", flat=True).first()

    deadline = time.monotonic() + MEETING_FOUND_S
    while time.monotonic() < deadline:
        found = await _db(find)
        if found is not None:
            return int(found)
        if playing.done():
            playing.result()  # raises what went wrong (a webhook refused, say)
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no meeting for stream {stream_id} within {MEETING_FOUND_S:g} s")


def _unfinished_asr(redis_url: str, meeting_id: int) -> int:
    """Final cuts whose audio still waits in Redis: their job has not finished."""
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        return sum(1 for _ in client.scan_iter(f"asr:utt:{meeting_id}:*:{FINAL_ASR_REVISION}"))
    finally:
        client.close()


async def _settle(meeting_id: int, redis_url: str, limit_s: float) -> float:
    """Wait for the meeting to be finished and its final ASR jobs done (at most `limit_s`)."""
    from assistant.models import Meeting

    def finished() -> bool:
        state = Meeting.objects.filter(pk=meeting_id).values_list("state", flat=True).first()
        return state in Meeting.FINISHED_STATES

    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        with contextlib.suppress(Exception):
            if await _db(finished) and not await asyncio.to_thread(
                _unfinished_asr, redis_url, meeting_id
            ):
                break
        await asyncio.sleep(0.5)
    return round(time.monotonic() - started, 1)


def _rows(meeting_id: int, origin: int) -> dict[str, Any]:
    from assistant.models import ChatMessage, Meeting, TranscriptSegment

    meeting = Meeting.objects.get(pk=meeting_id)
    native: list[Row] = []
    asr: list[Row] = []
    for seg in TranscriptSegment.objects.filter(meeting_id=meeting_id):
        row = Row(
            seg.speaker_user_id, seg.start_ms - origin, seg.end_ms - origin, seg.text, seg.final
        )
        (native if seg.source == TranscriptSegment.Source.NATIVE else asr).append(row)
    chat = [
        Row(m.sender_user_id, m.sent_at_ms - origin, m.sent_at_ms - origin, m.text)
        for m in ChatMessage.objects.filter(meeting_id=meeting_id)
    ]
    return {
        "native": native,
        "asr": asr,
        "chat": chat,
        "state": meeting.state,
        "stop_reason": meeting.stop_reason,
    }


def _stream_ms(report: StreamReport, monotonic_ns: int | None) -> int | None:
    if monotonic_ns is None or report.clock_start_ns is None:
        return None
    return round((monotonic_ns - report.clock_start_ns) / 1e6 * report.speed)


async def _judged(
    args: argparse.Namespace,
    config: SimulatorConfig,
    recording: RecordedMeeting,
    report: StreamReport,
    fault: FaultResult,
    meeting_id: int,
    viewer: LiveViewer,
    server: RedisServer,
) -> dict[str, Any]:
    origin = report.clock_origin_ms or 0
    stored = await _db(_rows, meeting_id, origin)
    captions = [
        Caption(
            source=event.get("source", ""),
            speaker=event.get("speaker_user_id"),
            start_ms=int(event.get("start_ms", 0)) - origin,
            end_ms=int(event.get("end_ms", 0)) - origin,
            text=event.get("text", ""),
            final=bool(event.get("final", True)),
            received_ms=_stream_ms(report, at) or 0,
        )
        for event, at in viewer.segments()
    ]
    record = RunRecord(
        recording=recording,
        report=report,
        fault_ms=_stream_ms(report, fault.fault_ns),
        native=stored["native"],
        asr=stored["asr"],
        chat=stored["chat"],
        captions=captions,
        asr_unfinished_jobs=await asyncio.to_thread(_unfinished_asr, server.url, meeting_id),
        transcript_delay_ms=round(config.transcript_delay_s * 1000),
        max_window_ms=round(args.max_window * 1000),
        names={p.user_id: p.user_name for p in recording.participants},
    )
    verdict = judge(record)
    fault_ms, restored_ms = record.fault_ms, _stream_ms(report, fault.restored_ns)
    return {
        "fault_at_s": None if fault_ms is None else round(fault_ms / 1000, 2),
        "restored_after_s": None
        if fault_ms is None or restored_ms is None
        else round((restored_ms - fault_ms) / 1000, 2),
        "fault_detail": fault.detail,
        **{k: verdict.pop(k) for k in list(verdict) if k not in ("transcript", "chat", "asr")},
        "ended_normally": stored["state"] == "ended" and report.stop_reason == 6,
        "meeting": {"state": stored["state"], "stop_reason": stored["stop_reason"]},
        "simulator": {
            "stop_reason": report.stop_reason,
            "rejoins": report.rejoins,
            "signaling_connections": report.signaling_connections,
            "signaling_outages_s": [
                [o.from_ms / 1000, None if o.to_ms is None else o.to_ms / 1000]
                for o in report.signaling_outages
            ],
        },
        "viewer": {"connections": viewer.connections, "drops": viewer.drops[:5]},
        **verdict,
    }
