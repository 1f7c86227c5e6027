"""The faults `make chaos` injects into the production shape, and the Redis it can kill.

Each fault is an async function of a `ChaosContext` that prepares what it needs, waits for
the fault time, injects the fault (noting the instant), puts things back as an operator or an
orchestrator would, and returns a `FaultResult` with what it did.

The PostgreSQL "restart" closes the benchmark's own database to new connections
(`ALTER DATABASE ... WITH ALLOW_CONNECTIONS false`) and terminates every backend on it, then
opens it again ~15 s later. The machine's PostgreSQL is shared, so it is never restarted
itself; this shows the clients what a restart shows them: every connection cut by the server
(the same "terminating connection due to administrator command" a fast shutdown sends), and
every new connection refused until it is back. A TCP proxy could refuse at the TCP level
instead, but it would sit in the path of every query of the whole run (and of the caption
latency being measured) and cut connections without the server's own error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis

from rtms_ingest.cluster.leases import LEASE_PREFIX
from rtms_ingest.simulator import StreamReport
from tests.integration.stack import StackProcesses

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_DOWN_S = 3.0
POSTGRES_DOWN_S = 15.0
WORKER_BUSY_WAIT_S = 30.0
LEASE_WAIT_S = 60.0
FINAL_ASR_REVISION = 1_000_000  # assistant.speech_audio.FINAL_REVISION: a final cut's key suffix
# Celery's log lines about one task: received, then one of the others.
_TASK_LINE = re.compile(
    r"Task (?P<name>[\w.]+)\[(?P<id>[0-9a-f-]+)\] "
    r"(?P<what>received|succeeded|failed|raised|retry|ignored|rejected)"
)


class RedisServer:
    """A redis-server of our own: a spare port, an append-only file in its own folder."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 15.0) -> None:
        """Start (or restart, on the same port and folder) and wait until it answers PING."""
        argv = [
            "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--dir", str(self.directory), "--appendonly", "yes", "--save", ""),
            *("--logfile", str(self.directory / "redis.log")),
        ]
        self.process = subprocess.Popen(argv, start_new_session=True)
        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}")
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return
                time.sleep(0.05)
        finally:
            client.close()
        raise RuntimeError(f"redis-server on {self.port} did not answer within {timeout_s} s")

    def kill(self) -> None:
        """kill -9, as a crashed host or an OOM kill would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class ChaosContext:
    """What a fault may act on."""

    processes: StackProcesses
    redis: RedisServer
    database: str
    report: StreamReport
    fault_at_ns: int  # time.monotonic_ns() of the fault (stream time fault_at_s)
    worker_queues: str
    worker_concurrency: int
    stream_id: str


@dataclass
class FaultResult:
    """When the fault struck (monotonic ns), when it was put right, and what was done."""

    fault_ns: int
    restored_ns: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


async def until_ns(at_ns: int) -> None:
    await asyncio.sleep(max(0.0, (at_ns - time.monotonic_ns()) / 1e9))


def lease_pid(redis_url: str, stream_id: str) -> int | None:
    """The pid in the stream's lease ("<hostname>:<pid>:<hex>"), if anyone holds it."""
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        value = client.get(LEASE_PREFIX + stream_id)
    finally:
        client.close()
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    parts = text.rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


async def holder(ctx: ChaosContext) -> tuple[int, str]:
    """The pid and name of the ingest holding the stream; RuntimeError if none of ours does."""
    pid = await asyncio.to_thread(lease_pid, ctx.redis.url, ctx.stream_id)
    name = ctx.processes.name_of(pid) if pid is not None else None
    if pid is None or name is None:
        raise RuntimeError(f"no ingest of ours holds the lease of {ctx.stream_id} (pid {pid})")
    return pid, name


async def lease_moved(ctx: ChaosContext, old_pid: int, since_ns: int) -> dict[str, Any]:
    """Wait until another process of ours holds the lease: who, and how long after the fault."""
    deadline = time.monotonic() + LEASE_WAIT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError):
            pid = await asyncio.to_thread(lease_pid, ctx.redis.url, ctx.stream_id)
            if pid is not None and pid != old_pid:
                return {
                    "new_holder": ctx.processes.name_of(pid) or f"pid {pid}",
                    "lease_moved_after_s": round((time.monotonic_ns() - since_ns) / 1e9, 2),
                }
        await asyncio.sleep(0.1)
    return {"new_holder": None, "lease_moved_after_s": None}


async def rolling_deploy(ctx: ChaosContext) -> FaultResult:
    """Start a third ingest, then SIGTERM the holder, as an orchestrator rolls a deploy."""
    new = await asyncio.to_thread(ctx.processes.start_ingest)
    await until_ns(ctx.fault_at_ns)
    pid, name = await holder(ctx)
    result = FaultResult(fault_ns=time.monotonic_ns())
    os.kill(pid, signal.SIGTERM)
    old = ctx.processes.processes[name]
    moved = asyncio.create_task(lease_moved(ctx, pid, result.fault_ns))
    try:
        code = await asyncio.to_thread(old.wait, 60)
    except subprocess.TimeoutExpired:
        code = None
    result.restored_ns = time.monotonic_ns()
    result.detail = {
        "started_before": ctx.processes.name_of(new.pid),
        "sigterm": name,
        "exit_code": code,
        "exited_after_s": round((result.restored_ns - result.fault_ns) / 1e9, 2),
        **await moved,
    }
    return result


async def ingest_kill(ctx: ChaosContext) -> FaultResult:
    """kill -9 the holder, then start a replacement so that two ingests remain."""
    await until_ns(ctx.fault_at_ns)
    pid, name = await holder(ctx)
    result = FaultResult(fault_ns=time.monotonic_ns())
    os.kill(pid, signal.SIGKILL)
    moved = asyncio.create_task(lease_moved(ctx, pid, result.fault_ns))
    new = await asyncio.to_thread(ctx.processes.start_ingest)
    result.restored_ns = time.monotonic_ns()
    result.detail = {
        "sigkill": name,
        "replacement": ctx.processes.name_of(new.pid),
        "replacement_ready_after_s": round((result.restored_ns - result.fault_ns) / 1e9, 2),
        **await moved,
    }
    return result


async def redis_restart(ctx: ChaosContext) -> FaultResult:
    """kill -9 Redis, restart it on the same port and append-only file ~3 s later."""
    await until_ns(ctx.fault_at_ns)
    result = FaultResult(fault_ns=time.monotonic_ns())
    await asyncio.to_thread(ctx.redis.kill)
    await asyncio.sleep(REDIS_DOWN_S)
    await asyncio.to_thread(ctx.redis.start)
    result.restored_ns = time.monotonic_ns()
    result.detail = {"down_s": round((result.restored_ns - result.fault_ns) / 1e9, 2)}
    return result


def _close_database(database: str) -> int:
    """Refuse new connections to `database` and cut the ones it has; how many were cut."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
        return _terminate(admin, database)


def _terminate(admin: psycopg.Connection[Any], database: str) -> int:
    rows = admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    ).fetchall()
    return len(rows)


def _cut_stragglers(database: str) -> int:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        return _terminate(admin, database)


def open_database(database: str) -> None:
    """Accept connections to `database` again."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')


async def postgres_restart(ctx: ChaosContext) -> FaultResult:
    """Cut every connection to the database and refuse new ones for ~15 s (module docstring)."""
    await until_ns(ctx.fault_at_ns)
    result = FaultResult(fault_ns=time.monotonic_ns())
    try:
        cut = await asyncio.to_thread(_close_database, ctx.database)
        # A connection that was being opened as the database closed may have slipped in.
        await asyncio.sleep(0.5)
        cut += await asyncio.to_thread(_cut_stragglers, ctx.database)
        await until_ns(result.fault_ns + int(POSTGRES_DOWN_S * 1e9))
    finally:
        await asyncio.to_thread(open_database, ctx.database)
    result.restored_ns = time.monotonic_ns()
    result.detail = {
        "connections_cut": cut,
        "refused_s": round((result.restored_ns - result.fault_ns) / 1e9, 2),
    }
    return result


def busy_tasks(log: Path) -> set[str]:
    """Ids of the tasks a worker's log says it received and has not finished."""
    busy: set[str] = set()
    for match in _TASK_LINE.finditer(log.read_text(errors="replace")):
        if match["what"] == "received":
            busy.add(match["id"])
        else:
            busy.discard(match["id"])
    return busy


def finals_waiting(redis_url: str) -> int:
    """Final ASR cuts whose audio waits for its job (the job queued or running)."""
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    try:
        return sum(1 for _ in client.scan_iter(f"asr:utt:*:{FINAL_ASR_REVISION}"))
    finally:
        client.close()


async def worker_kill(ctx: ChaosContext) -> FaultResult:
    """kill -9 the Celery worker (and its pool) while it runs a job, then start a new one.

    It waits (at most 30 s) for a moment when a final cut is waiting too, so that the job
    killed is likely a final: a killed provisional job is replaced by the next cut anyway.
    """
    await until_ns(ctx.fault_at_ns)
    [(name, worker)] = ctx.processes.alive("worker").items()
    log = ctx.processes.log_path(name)
    deadline = time.monotonic() + WORKER_BUSY_WAIT_S
    busy, finals = busy_tasks(log), 0
    while time.monotonic() < deadline:
        if busy and (finals := await asyncio.to_thread(finals_waiting, ctx.redis.url)):
            break
        await asyncio.sleep(0.05)
        busy = busy_tasks(log)
    result = FaultResult(fault_ns=time.monotonic_ns())
    ctx.processes.kill_group(worker, signal.SIGKILL)
    new = await asyncio.to_thread(
        ctx.processes.start_worker, ctx.worker_queues, ctx.worker_concurrency
    )
    result.restored_ns = time.monotonic_ns()
    result.detail = {
        "sigkill": name,
        "tasks_unfinished_at_kill": len(busy),
        "final_cuts_waiting_at_kill": finals,
        "waited_for_a_job_s": round((result.fault_ns - ctx.fault_at_ns) / 1e9, 2),
        "replacement": ctx.processes.name_of(new.pid),
        "replacement_ready_after_s": round((result.restored_ns - result.fault_ns) / 1e9, 2),
    }
    return result


async def signaling_drop(ctx: ChaosContext) -> FaultResult:
    """The simulator aborts the signaling socket at the fault time (Faults.drop_socket_at_s)."""
    await until_ns(ctx.fault_at_ns)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if ctx.report.faults_fired:
            break
        await asyncio.sleep(0.05)
    result = FaultResult(fault_ns=ctx.fault_at_ns, detail={"fired": ctx.report.faults_fired})
    deadline = time.monotonic() + LEASE_WAIT_S
    while time.monotonic() < deadline:
        outages = ctx.report.signaling_outages
        if outages and outages[0].to_ms is not None:
            result.detail["rejoined_after_s"] = (outages[0].to_ms - outages[0].from_ms) / 1000
            result.restored_ns = time.monotonic_ns()
            break
        if ctx.report.rejoins:  # a new connection kicked the old one before it was missed
            result.restored_ns = time.monotonic_ns()
            break
        await asyncio.sleep(0.05)
    return result


async def no_fault(ctx: ChaosContext) -> FaultResult:
    """Nothing: the baseline every fault is compared with."""
    await until_ns(ctx.fault_at_ns)
    return FaultResult(fault_ns=time.monotonic_ns(), restored_ns=time.monotonic_ns())


Fault = Callable[[ChaosContext], Coroutine[Any, Any, FaultResult]]

# name -> (what it does, how)
FAULTS: dict[str, tuple[str, Fault]] = {
    "deploy": ("rolling deploy: a third ingest started, the holder SIGTERMed", rolling_deploy),
    "kill": ("ingest SIGKILL: the holder killed -9, a replacement started", ingest_kill),
    "redis": ("Redis kill -9, restarted on the same port and AOF ~3 s later", redis_restart),
    "postgres": (
        "PostgreSQL restart: every connection cut, new ones refused for ~15 s",
        postgres_restart,
    ),
    "worker": ("Celery worker SIGKILL while it runs a job, a new one started", worker_kill),
    "signaling": ("signaling drop: the simulator aborts the signaling socket", signaling_drop),
    "none": ("no fault (baseline)", no_fault),
}
DEFAULT_FAULTS = ("deploy", "kill", "redis", "postgres", "worker", "signaling")
