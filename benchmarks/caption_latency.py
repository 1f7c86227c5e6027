"""Caption latency: simulator sends a transcript frame -> a viewer's socket receives the caption.

Runs the production shape as real processes (daphne web + run_ingest on PostgreSQL and Redis),
plays the sample meeting as 1 and as N concurrent meetings, with one viewer per meeting, and
prints JSON with p50/p95/p99 per run and the ratio between them, measured in the same run.

    python -m benchmarks.caption_latency [--meetings 1 50] [--speed 1] [--media transcript,chat]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# A benchmark drops and recreates its database and flushes its Redis database: two benchmarks
# run at once on one machine must each be given their own (BENCH_DB, BENCH_REDIS_URL).
BENCH_DB = os.environ.get("BENCH_DB", "assistant_bench")
BENCH_REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
PG = "postgres://postgres@127.0.0.1:5432"


def prepare_database(media: str) -> str:
    """A fresh, migrated benchmark database; Django configured on it in this process."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    database_url = f"{PG}/{BENCH_DB}"
    sys.path.insert(0, str(ROOT))
    from tests.integration.stack import stack_env

    env = stack_env(database_url, BENCH_REDIS) | {"RTMS_MEDIA": media}
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    import django

    django.setup()
    return database_url


def session_cookie() -> str:
    """A staff viewer's session cookie (staff see every meeting)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_user("bench", password=None, is_staff=True)
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def simulator_config(stack: Any, speed: float) -> Any:
    """The simulator of a benchmark: the stack's secrets and webhook, playing at `speed`."""
    from rtms_ingest.simulator import SimulatorConfig
    from tests.integration.stack import CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET

    return SimulatorConfig(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        webhook_secret_token=WEBHOOK_SECRET,
        webhook_url=stack.webhook_url,
        speed=speed,
        connect_timeout_s=60,
    )


async def play_with_viewer(
    stack: Any, cookie: str, simulator: Any, *, after_end_s: float | None = None
) -> tuple[Any, Any]:
    """Play one stream with one live viewer; (report, viewer).

    The viewer stops at the meeting's end, or, with `after_end_s`, reads that much longer
    (captions that come after the end).
    """
    from asgiref.sync import sync_to_async

    from assistant.models import Meeting
    from tests.integration.viewer import Viewer

    stream = simulator.new_stream()
    playing = asyncio.create_task(simulator.play(stream))
    meeting_id = None
    while meeting_id is None:
        meeting_id = await sync_to_async(
            Meeting.objects.filter(rtms_stream_id=stream.rtms_stream_id)
            .values_list("pk", flat=True)
            .first
        )()
        await asyncio.sleep(0.05)
    viewer = Viewer(
        url=f"{stack.ws_url}/ws/meetings/{meeting_id}/", cookie=cookie, origin=stack.base_url
    )
    stop_at_end = after_end_s is None
    watching = asyncio.create_task(viewer.run(timeout_s=900, stop_at_end=stop_at_end))
    report = await playing
    if after_end_s is None:
        await asyncio.wait_for(watching, 60)
    else:
        await asyncio.sleep(after_end_s)
        watching.cancel()
    return report, viewer


async def play_meetings(stack: Any, cookie: str, count: int, speed: float) -> dict[str, Any]:
    """Play `count` meetings at once; latency of every caption, matched by (speaker, start)."""
    from rtms_ingest.simulator import RtmsSimulator
    from rtms_ingest.simulator.fixture import sample_meeting

    config = simulator_config(stack, speed)

    started = time.monotonic()
    async with RtmsSimulator(sample_meeting(), config) as simulator:
        results = await asyncio.gather(
            *(play_with_viewer(stack, cookie, simulator) for _ in range(count))
        )
    latencies_ms: list[float] = []
    missing = 0
    for report, viewer in results:
        sent = {frame.key: frame.monotonic_ns for frame in report.frames("transcript")}
        seen: dict[tuple[Any, ...], int] = {}
        for event, received_ns in zip(viewer.events, viewer.received_ns, strict=True):
            if event["type"] == "segment":
                seen[(event["speaker_user_id"], event["start_ms"])] = received_ns
        for key, sent_ns in sent.items():
            if key in seen:
                latencies_ms.append((seen[key] - sent_ns) / 1e6)
            else:
                missing += 1
    return {
        "meetings": count,
        "captions": len(latencies_ms),
        "missing": missing,
        "p50_ms": round(percentile(latencies_ms, 50), 2),
        "p95_ms": round(percentile(latencies_ms, 95), 2),
        "p99_ms": round(percentile(latencies_ms, 99), 2),
        "mean_ms": round(statistics.fmean(latencies_ms), 2),
        "max_ms": round(max(latencies_ms), 2),
        "wall_s": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--speed", type=float, default=1.0, help="1.0 = real time")
    parser.add_argument(
        "--media",
        default="transcript,chat,audio",
        help="what the ingest asks RTMS for (RTMS_MEDIA)",
    )
    args = parser.parse_args()
    database_url = prepare_database(args.media)
    cookie = session_cookie()
    from tests.integration.stack import running_stack

    runs = []
    with running_stack(database_url, BENCH_REDIS, Path(tempfile.mkdtemp())) as stack:
        for count in args.meetings:
            runs.append(asyncio.run(play_meetings(stack, cookie, count, args.speed)))
    base = runs[0]
    for run in runs[1:]:
        run["p50_ratio_vs_first"] = round(run["p50_ms"] / base["p50_ms"], 2)
        run["p99_ratio_vs_first"] = round(run["p99_ms"] / base["p99_ms"], 2)
    print(
        json.dumps(
            {
                "benchmark": "caption_latency",
                "measured": "simulator transcript frame sent -> viewer WebSocket message received",
                "speed": args.speed,
                "media": args.media,
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "runs": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
