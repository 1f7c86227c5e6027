"""Webhook receiver throughput and latency: signed Zoom deliveries against the real web process.

Starts `daphne assistant.asgi:application` (production shape: PostgreSQL, Redis) on a fresh
database and fires correctly signed `endpoint.url_validation` and `meeting.rtms_started`
deliveries (a new stream each) over keep-alive connections at concurrency 1, 8 and 32 for a
few seconds each. With `--baseline-src DIR` (another checkout, e.g. `git archive main | tar -x
-C DIR`) the same load runs against that code too, in the same invocation.

    python -m benchmarks.webhook_load [--seconds 5] [--concurrency 1 8 32] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"
BENCH_DB = "assistant_bench_webhook"
BENCH_REDIS = "redis://127.0.0.1:6379/12"
PATH = "/webhooks/zoom/"
_ids = itertools.count()


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


def _body(event: str) -> bytes:
    n = next(_ids)
    if event == "url_validation":
        envelope: dict[str, Any] = {
            "event": "endpoint.url_validation",
            "event_ts": 1_700_000_000_000 + n,
            "payload": {"plainToken": f"token-{n}"},
        }
    else:
        envelope = {
            "event": "meeting.rtms_started",
            "event_ts": 1_700_000_000_000 + n,
            "payload": {
                "meeting_uuid": f"bench-meeting-{n}==",
                "operator_id": "bench-host",
                "rtms_stream_id": f"bench-stream-{os.getpid()}-{n}",
                "server_urls": "ws://127.0.0.1:9/signaling",
            },
        }
    return json.dumps(envelope).encode()


def _request(port: int, secret: str, event: str) -> bytes:
    from rtms_ingest.protocol.webhook_signing import webhook_signature

    body = _body(event)
    ts = str(int(time.time()))
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nx-zm-request-timestamp: {ts}\r\n"
        f"x-zm-signature: {webhook_signature(secret, ts, body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _load(
    port: int, secret: str, event: str, concurrency: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < deadline:
                request = _request(port, secret, event)
                start = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append((time.perf_counter() - start) * 1000)
                if status >= 300:
                    errors += 1
        finally:
            writer.close()

    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - start
    ordered = sorted(latencies)
    return {
        "event": event,
        "concurrency": concurrency,
        "requests": len(ordered),
        "req_per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": round(ordered[len(ordered) // 2], 1) if ordered else None,
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 1) if ordered else None,
        "errors": errors,
    }


def run_target(name: str, src: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    from tests.integration.stack import WEBHOOK_SECRET, stack_env

    env = stack_env(f"{PG}/{BENCH_DB}", BENCH_REDIS)
    _fresh_database(src, env)
    port = _free_port()
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "assistant.asgi:application",
        ],
        cwd=src,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        results = []
        for event in ("url_validation", "rtms_started"):
            asyncio.run(_load(port, WEBHOOK_SECRET, event, 1, 1.0))  # warm-up
            for concurrency in args.concurrency:
                result = asyncio.run(_load(port, WEBHOOK_SECRET, event, concurrency, args.seconds))
                result["target"] = name
                print(json.dumps(result), file=sys.stderr)
                results.append(result)
        return results
    finally:
        web.terminate()
        web.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--baseline-src", type=Path)
    args = parser.parse_args(argv)
    runs = run_target("ours", ROOT, args)
    if args.baseline_src:
        runs += run_target("baseline", args.baseline_src.resolve(), args)
    print(json.dumps({"benchmark": "webhook_load", "cpus": os.cpu_count(), "runs": runs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
