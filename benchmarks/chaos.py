"""Chaos: play a meeting in real time through each fault in turn, and measure what each cost.

The production shape as real processes: daphne, two `manage.py run_ingest`, a Celery worker
(asr,llm,celery) with TRANSCRIPTION=both (Zoom's transcript and ours), a redis-server of its
own (append-only, on a spare port, so it can be killed and restarted) and the machine's
PostgreSQL on a database of its own. For each fault, fresh processes and a fresh Redis, the
sample meeting played at speed 1 with one live viewer (reconnecting as the dashboard does),
the fault about 30 s in, then a settle time for the last captions. What each measure means is
in benchmarks/chaos_judge.py; the faults are in benchmarks/chaos_faults.py.

Prints one JSON object (each fault, and the machine); exits 1 if any fault lost something
outside its window or stored something twice (2 if the harness itself failed on a fault).

    python -m benchmarks.chaos [--faults deploy,kill,redis,postgres,worker,signaling|none]
                               [--fault-at 30] [--speed 1] [--settle 30] [--max-window 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent
CHAOS_DB = "assistant_chaos"
PG = "postgres://postgres@127.0.0.1:5432"
# Settings of the product that change what a fault does: shown with the results when set.
_SHOWN_ENV = ("RTMS_", "CELERY_", "ASR_", "TRANSCRIPTION", "WHISPER_", "DATABASE_CONN")


def prepare(redis_url: str) -> str:
    """A fresh, migrated database; Django set up on it in this process. Its URL."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {CHAOS_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {CHAOS_DB}")
    database_url = f"{PG}/{CHAOS_DB}"
    sys.path.insert(0, str(ROOT))
    from tests.integration.stack import stack_env

    env = stack_env(database_url, redis_url)
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    import django

    django.setup()
    return database_url


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from benchmarks.chaos_faults import DEFAULT_FAULTS, FAULTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--faults",
        default=",".join(DEFAULT_FAULTS),
        help=f"comma-separated, in order, from: {', '.join(FAULTS)}",
    )
    parser.add_argument("--fault-at", type=float, default=30.0, help="stream seconds")
    parser.add_argument("--speed", type=float, default=1.0, help="1.0 = real time")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds after the end")
    parser.add_argument(
        "--max-window",
        type=float,
        default=60.0,
        help="seconds after the fault by which captions must be back (else: not recovered)",
    )
    parser.add_argument("--worker-concurrency", type=int, default=1)
    parser.add_argument("--meeting", help="a recorded meeting folder (default: the sample)")
    parser.add_argument("--logs", help="folder for process logs (default: a new temp folder)")
    args = parser.parse_args(argv)
    args.fault_names = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = [name for name in args.fault_names if name not in FAULTS]
    if unknown or not args.fault_names:
        parser.error(f"unknown fault(s) {unknown}; choose from {', '.join(FAULTS)}")
    return args


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """The four numbers of issue 17 for one fault, and its verdict."""
    keys = (
        "fault",
        "captions_gap_s",
        "utterances_lost_outside_window",
        "utterances_doubled",
        "ended_normally",
        "passed",
        "error",
    )
    summary = {key: result[key] for key in keys if key in result}
    asr = result.get("asr") or {}
    summary["asr_lost_jobs"] = asr.get("unfinished_final_jobs")
    summary["asr_doubled"] = asr.get("doubled")
    return summary


def _interrupted(signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM and SIGHUP unwind like Ctrl-C, so every process started is stopped on the way out.
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGHUP, _interrupted)
    from tests.integration.stack import free_port

    redis_port = free_port()
    prepare(f"redis://127.0.0.1:{redis_port}/0")
    from benchmarks.caption_latency import session_cookie
    from benchmarks.chaos_run import run_fault

    cookie = session_cookie()
    logs = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="chaos-"))
    started = time.monotonic()
    load_before = os.getloadavg()

    results: list[dict[str, Any]] = []

    async def run_all() -> None:
        for name in args.fault_names:
            results.append(await run_fault(name, args, cookie, redis_port, logs / name))

    interrupted = False
    try:
        asyncio.run(run_all())
    except KeyboardInterrupt:
        interrupted = True  # every process is stopped by now; show what was measured
    passed = all(r.get("passed") for r in results)
    failed_to_run = any("error" in r for r in results)
    print(
        json.dumps(
            {
                "benchmark": "chaos",
                "measured": {
                    "captions_gap_s": "fault -> first caption at a live viewer of an utterance "
                    "sent after the fault (natural_gap_s: fault -> the next utterance due); "
                    "stream seconds, real seconds at speed 1",
                    "utterances_lost_outside_window": "sent outside [fault, first caption "
                    f"after it] (window at most {args.max_window:g} s) and never stored",
                    "utterances_doubled": "stored more than once",
                    "ended_normally": "meeting state ended, and the simulator played it to "
                    "MEETING_ENDED (6)",
                },
                "speed": args.speed,
                "transcription": os.environ.get("TRANSCRIPTION", "both"),
                "fault_at_s": args.fault_at,
                "machine": {
                    "cores": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "load_average_at_start": [round(x, 2) for x in load_before],
                },
                "env": {k: v for k, v in os.environ.items() if k.startswith(_SHOWN_ENV)},
                "summary": [_summary(r) for r in results],
                "faults": results,
                "interrupted": interrupted,
                "passed": passed and not failed_to_run and not interrupted,
                "logs": str(logs),
                "wall_s": round(time.monotonic() - started, 1),
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    if interrupted:
        return 130
    if failed_to_run:
        return 2
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
