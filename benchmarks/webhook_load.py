"""Webhook receiver throughput and latency: signed Zoom deliveries against the real web process.

Starts `daphne assistant.asgi:application` (production shape: PostgreSQL, Redis) on a fresh
database and fires correctly signed `endpoint.url_validation` and `meeting.rtms_started`
deliveries (a new stream each) over keep-alive connections at concurrency 1, 8 and 32 for a
few seconds each. With `--baseline-src DIR` (another checkout, e.g. `git archive main | tar -x
-C DIR`) the same load runs against that code too, in the same invocation.

The load generator is kept lean so that what it reports is the server's latency, not its own
(it shares the machine's cores with the server): requests are signed before the timed window,
connections are spread over `--client-processes` processes, the garbage collector is off while
timing, and a response is timed when its bytes arrive (asyncio.Protocol), before anything else
is done with it. Latency is the time from writing a request to reading the end of its answer.

    python -m benchmarks.webhook_load [--seconds 5] [--concurrency 1 8 32] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.webhook_client import LoadCell, run_cell

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"
BENCH_DB = "assistant_bench_webhook"
BENCH_REDIS = "redis://127.0.0.1:6379/12"
EVENTS = ("url_validation", "rtms_started")

# The figures issue 12 (item 5) started from, for the ratios in the JSON: (req/s, p99 ms).
ISSUE_12_FIGURES: dict[tuple[str, int], tuple[float, float]] = {
    ("url_validation", 1): (2310, 2.9),
    ("url_validation", 8): (3617, 7.3),
    ("url_validation", 32): (3636, 137),
    ("rtms_started", 1): (538, 8.0),
    ("rtms_started", 8): (863, 29),
    ("rtms_started", 32): (797, 116),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fresh_database(src: Path, env: dict[str, str]) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=src, env=env, check=True
    )


def _summary(
    event: str, concurrency: int, latencies: list[float], errors: int, elapsed: float
) -> dict[str, Any]:
    ordered = sorted(latencies)

    def percentile(p: float) -> float | None:
        # Nearest rank: the smallest latency that p% of the requests did not exceed.
        if not ordered:
            return None
        return round(ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)], 1)

    result: dict[str, Any] = {
        "event": event,
        "concurrency": concurrency,
        "requests": len(ordered),
        "req_per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": percentile(50),
        "p99_ms": percentile(99),
        "max_ms": round(ordered[-1], 1) if ordered else None,
        "errors": errors,
    }
    reference = ISSUE_12_FIGURES.get((event, concurrency))
    if reference and ordered:
        result["vs_issue_12"] = {
            "req_per_s": round(result["req_per_s"] / reference[0], 2),
            "p99": round(result["p99_ms"] / reference[1], 2),
        }
    return result


def _wait_for_port(port: int, web: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        if web.poll() is not None:
            raise RuntimeError(f"daphne exited with {web.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("daphne did not listen within 30 s")


def run_target(name: str, src: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    from tests.integration.stack import WEBHOOK_SECRET, stack_env

    env = stack_env(f"{PG}/{BENCH_DB}", BENCH_REDIS)
    _fresh_database(src, env)
    port = _free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    web = subprocess.Popen(
        [*command, "assistant.asgi:application"],
        cwd=src,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, web)
        results = []
        for event in EVENTS:
            warm_up = LoadCell(port, WEBHOOK_SECRET, event, 1, 1.0, processes=1)
            run_cell(warm_up)
            for concurrency in args.concurrency:
                processes = max(1, min(args.client_processes, concurrency))
                cell = LoadCell(port, WEBHOOK_SECRET, event, concurrency, args.seconds, processes)
                outcome = run_cell(cell)
                result = _summary(
                    event, concurrency, outcome.latencies_ms, outcome.errors, outcome.elapsed_s
                )
                result.update(
                    target=name,
                    client_processes=processes,
                    signed_while_timing=outcome.signed_while_timing,
                )
                print(json.dumps(result), file=sys.stderr)
                results.append(result)
        return results
    finally:
        web.terminate()
        web.wait(10)


def _versus_baseline(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ours over the baseline for each cell of the same run (req/s and p99)."""
    baseline = {(r["event"], r["concurrency"]): r for r in runs if r["target"] == "baseline"}
    ratios = []
    for ours in (r for r in runs if r["target"] == "ours"):
        base = baseline.get((ours["event"], ours["concurrency"]))
        if base and base["req_per_s"] and base["p99_ms"]:
            ratios.append(
                {
                    "event": ours["event"],
                    "concurrency": ours["concurrency"],
                    "req_per_s": round(ours["req_per_s"] / base["req_per_s"], 2),
                    "p99": round(ours["p99_ms"] / base["p99_ms"], 2),
                }
            )
    return ratios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--client-processes",
        type=int,
        default=2,
        help="load-generator processes sharing the connections of a cell (at most one each)",
    )
    parser.add_argument("--baseline-src", type=Path)
    args = parser.parse_args(argv)
    runs = run_target("ours", ROOT, args)
    if args.baseline_src:
        runs += run_target("baseline", args.baseline_src.resolve(), args)
    report: dict[str, Any] = {
        "benchmark": "webhook_load",
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "runs": runs,
    }
    if args.baseline_src:
        report["ours_vs_baseline"] = _versus_baseline(runs)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
