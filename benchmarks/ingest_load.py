"""Ingest capacity: our RTMS client against Zoom's SDK and a minimal client, side by side.

For each stream count, a lean load server (`benchmarks.load_server`, its own process) plays N
streams of four speakers' 20 ms audio (200 frames a second a stream) with a keep-alive a second
on every socket; each client, in its own process, joins all N streams asking for audio only:

- `ours`: `RtmsStreamClient` (the product's client) feeding a sink that only counts;
- `sdk`: Zoom's official `rtms` 1.1.0 with an `EventLoopPool` (one thread per 25 clients);
- `minimal`: asyncio + websockets + json + base64, no checks, a floor for pure-Python clients;
- `baseline` (optional): our client from another checkout (INGEST_LOAD_BASELINE_SRC=<dir>),
  e.g. `git archive main | tar -x -C /tmp/base` before a change.

Voice detection is on, as in the product's ingest: every client feeds each participant's
frames to the product's utterance cutter (`rtms_ingest.audio`, the speech sink's voice onset
and offset), so the figures compare whole ingests doing the same work. `--no-voice` measures the
clients alone.

Reported per run: frames per CPU-second of the client process (all threads), lost frames (due
by the server's schedule, never received), keep-alives answered, worst frame delay (receive
time minus the frame's send timestamp), peak RSS, event-loop lag (asyncio clients). Clients run
one after the other in one invocation, so compare ratios within a run, not across machines.

    python -m benchmarks.ingest_load [--streams 50 100 200 400] [--seconds 15]
        [--clients ours,sdk,minimal] [--no-voice]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rtms_ingest.client.sink import GapSpan

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ("ours", "sdk", "minimal")


# --- the server process ----------------------------------------------------------------------


def _server_main(streams: int, seconds: float, port_q: Any, result_q: Any) -> None:
    from benchmarks.load_server import LoadServer

    async def run() -> None:
        server = LoadServer(seconds)
        port_q.put(await server.start(streams))
        # Joining takes a while at scale; a stream that never goes live is reported as such.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.all_ended.wait(), seconds + 60)
        result_q.put(server.report())
        await server.stop()

    asyncio.run(run())


# --- measurements shared by the clients ------------------------------------------------------


class Tally:
    """Frames received and the worst delay, updated from any thread (GIL-atomic enough).

    With `voice`, each (stream, participant)'s frames go through the product's utterance
    cutter, as the speech sink does on the ingest's event loop.
    """

    def __init__(self, voice: bool) -> None:
        from rtms_ingest.audio.utterances import UtteranceCutter

        self.frames = 0
        self.cuts = 0
        self.worst_delay_ms = 0.0
        self._voice = voice
        self._cutter = UtteranceCutter
        self._cutters: dict[tuple[int, int], UtteranceCutter] = {}

    def frame(self, timestamp_ms: int, stream: int, user_id: int, pcm: bytes) -> None:
        self.frames += 1
        delay = time.time() * 1000 - timestamp_ms
        if delay > self.worst_delay_ms:
            self.worst_delay_ms = delay
        if self._voice:
            cutter = self._cutters.get((stream, user_id))
            if cutter is None:
                cutter = self._cutters[stream, user_id] = self._cutter()
            self.cuts += len(cutter.feed(pcm, timestamp_ms))


class LoopLag:
    """How late a 50 ms sleep wakes up: the event loop's lag, max and p99."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    async def run(self) -> None:
        while True:
            start = time.monotonic()
            await asyncio.sleep(0.05)
            self.samples.append((time.monotonic() - start - 0.05) * 1000)

    def report(self) -> dict[str, float]:
        if not self.samples:
            return {}
        ordered = sorted(self.samples)
        return {
            "loop_lag_max_ms": round(ordered[-1], 1),
            "loop_lag_p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 1),
        }


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- the clients -----------------------------------------------------------------------------


async def _ours(port: int, streams: int, tally: Tally) -> dict[str, Any]:
    from rtms_ingest.client import RtmsCredentials, RtmsStreamClient, StreamTarget, UrlPolicy
    from rtms_ingest.client.sink import IgnoringSink
    from rtms_ingest.protocol import BinaryContent, MediaType

    class CountingSink(IgnoringSink):
        gaps = 0

        def __init__(self, stream: int) -> None:
            self.stream = stream

        # `span` is optional: the baseline (a checkout before GapSpan) passes only the detail.
        async def gap(self, detail: str, span: GapSpan | None = None) -> None:
            CountingSink.gaps += 1

        async def audio(self, content: BinaryContent) -> None:
            tally.frame(content.timestamp, self.stream, content.user_id or 0, content.data)

    credentials = RtmsCredentials("bench-client", "bench-secret")
    clients = [
        RtmsStreamClient(
            StreamTarget("meeting", f"meeting-{i}==", f"s{i}", f"ws://127.0.0.1:{port}/sig/s{i}"),
            credentials,
            CountingSink(i),
            media=MediaType.AUDIO,
            backoff_initial_s=0.5,
            # The load server on loopback, as a user testing locally allows it.
            url_policy=UrlPolicy(("127.0.0.1",), allow_insecure=True),
        )
        for i in range(streams)
    ]
    await asyncio.gather(*(c.run() for c in clients), return_exceptions=True)
    return {
        "client_keepalives_answered": sum(c.stats.keepalives_answered for c in clients),
        "frames_dropped_counted": sum(getattr(c.stats, "frames_dropped", 0) for c in clients),
        "frames_discarded_counted": sum(getattr(c.stats, "frames_discarded", 0) for c in clients),
        "gaps_recorded": CountingSink.gaps,
        "reconnects": sum(c.stats.reconnects + c.stats.media_reconnects for c in clients),
    }


async def _minimal_stream(port: int, i: int, tally: Tally) -> None:
    import websockets

    base = f"ws://127.0.0.1:{port}"
    async with websockets.connect(f"{base}/sig/s{i}", compression=None, max_size=2**24) as sig:
        hello = {
            "msg_type": 1,
            "protocol_version": 1,
            "meeting_uuid": f"m{i}",
            "rtms_stream_id": f"s{i}",
            "sequence": 1,
            "signature": "x",
        }
        await sig.send(json.dumps(hello))
        answer = json.loads(await sig.recv())
        url = answer["media_server"]["server_urls"]["audio"]
        async with websockets.connect(url, compression=None, max_size=2**24) as media:
            params = {
                "audio": {
                    "content_type": 2,
                    "codec": 1,
                    "sample_rate": 1,
                    "channel": 1,
                    "data_opt": 2,
                    "send_rate": 20,
                }
            }
            request = {
                "msg_type": 3,
                "protocol_version": 1,
                "meeting_uuid": f"m{i}",
                "rtms_stream_id": f"s{i}",
                "sequence": 2,
                "signature": "x",
                "media_type": 1,
                "media_params": params,
            }
            await media.send(json.dumps(request))
            await media.recv()
            await sig.send(json.dumps({"msg_type": 7, "rtms_stream_id": f"s{i}"}))

            async def signaling() -> None:
                async for raw in sig:
                    message = json.loads(raw)
                    if message["msg_type"] == 12:
                        await sig.send(
                            json.dumps(
                                {
                                    "msg_type": 13,
                                    "sequence": message["sequence"],
                                    "timestamp": message["timestamp"],
                                }
                            )
                        )

            side = asyncio.create_task(signaling())
            async for raw in media:
                message = json.loads(raw)
                kind = message["msg_type"]
                if kind == 14:
                    content = message["content"]
                    pcm = base64.b64decode(content["data"])
                    tally.frame(content["timestamp"], i, content["user_id"], pcm)
                elif kind == 12:
                    await media.send(
                        json.dumps(
                            {
                                "msg_type": 13,
                                "sequence": message["sequence"],
                                "timestamp": message["timestamp"],
                            }
                        )
                    )
            side.cancel()


async def _minimal(port: int, streams: int, tally: Tally) -> dict[str, Any]:
    await asyncio.gather(
        *(_minimal_stream(port, i, tally) for i in range(streams)), return_exceptions=True
    )
    return {}


def _sdk(port: int, streams: int, seconds: float, tally: Tally, finish: Any) -> None:
    """Zoom's SDK on an EventLoopPool; `finish()` reports and exits the process.

    The SDK's native core aborted the process in its teardown ("terminate called without an
    active exception") in our runs, so the figures are reported before anything is released.
    """
    import rtms

    pool = rtms.EventLoopPool(threads=max(1, (streams + 24) // 25), poll_interval=0.005)
    left = threading.Semaphore(0)
    clients = []
    params = rtms.AudioParams(
        rtms.AudioContentType.RAW_AUDIO,
        rtms.AudioCodec.L16,
        rtms.AudioSampleRate.SR_16K,
        rtms.AudioChannel.MONO,
        rtms.DataOption.AUDIO_MULTI_STREAMS,
        20,
        320,
    )

    def on_audio_of(stream: int) -> Callable[[bytes, int, int, Any], None]:
        def on_audio(data: bytes, size: int, timestamp: int, md: Any) -> None:
            tally.frame(timestamp, stream, md.userId, data)

        return on_audio

    def on_leave(reason: int) -> None:
        left.release()

    for i in range(streams):
        client = rtms.Client()
        client.set_audio_params(params)
        client.on_audio_data(on_audio_of(i))
        client.on_leave(on_leave)
        pool.add(client)
        clients.append(client)
    for i, client in enumerate(clients):
        client.join(
            meeting_uuid=f"meeting-{i}==",
            rtms_stream_id=f"s{i}",
            server_urls=f"ws://127.0.0.1:{port}/sig/s{i}",
            client="bench-client",
            secret="bench-secret",  # noqa: S106  (the load server checks no signature)
        )

    def watchdog() -> None:
        deadline = time.monotonic() + seconds + 60
        for _ in range(streams):
            if not left.acquire(timeout=max(0.1, deadline - time.monotonic())):
                break
        time.sleep(0.5)
        finish({})

    threading.Thread(target=watchdog, daemon=True).start()
    pool.run()


def _client_main(
    kind: str, port: int, streams: int, seconds: float, voice: bool, result_q: Any
) -> None:
    os.environ.pop("ZM_RTMS_CLIENT", None)
    os.environ.pop("ZM_RTMS_SECRET", None)
    if kind == "baseline":
        os.environ["INGEST_LOAD_BASELINE_SRC"] = os.path.abspath(
            os.environ["INGEST_LOAD_BASELINE_SRC"]
        )
    # The SDK's native core writes its log to ./logs/ (and, without that folder, reports every
    # line it could not write on stderr): a folder of its own, as a deployment would have.
    os.chdir(tempfile.mkdtemp(prefix="ingest-load-"))
    os.mkdir("logs")
    os.environ["ZM_RTMS_LOG_ENABLED"] = "false"
    if kind == "baseline":
        # Our client as it was: another checkout's rtms_ingest, imported before anything else.
        sys.path.insert(0, os.environ["INGEST_LOAD_BASELINE_SRC"])
    tally = Tally(voice)
    cpu0 = time.process_time()
    lag = LoopLag()

    def finish(extra: dict[str, Any]) -> None:
        cpu = time.process_time() - cpu0
        result_q.put(
            {
                "frames_received": tally.frames,
                "utterances_cut": tally.cuts,
                "cpu_s": round(cpu, 2),
                "frames_per_cpu_s": round(tally.frames / cpu) if cpu else None,
                "worst_frame_delay_ms": round(tally.worst_delay_ms, 1),
                "rss_peak_mb": _rss_mb(),
                **lag.report(),
                **extra,
            }
        )
        result_q.close()
        result_q.join_thread()
        os._exit(0)

    if kind == "sdk":
        _sdk(port, streams, seconds, tally, finish)
    else:

        async def run() -> dict[str, Any]:
            watcher = asyncio.create_task(lag.run())
            try:
                if kind in ("ours", "baseline"):
                    return await _ours(port, streams, tally)
                return await _minimal(port, streams, tally)
            finally:
                watcher.cancel()

        finish(asyncio.run(run()))


# --- the orchestration -----------------------------------------------------------------------


def run_pair(kind: str, streams: int, seconds: float, voice: bool) -> dict[str, Any]:
    """One client kind against a fresh load server with `streams` streams."""
    ctx = mp.get_context("spawn")
    port_q, server_q, client_q = ctx.Queue(), ctx.Queue(), ctx.Queue()
    server = ctx.Process(target=_server_main, args=(streams, seconds, port_q, server_q))
    server.start()
    port = port_q.get(timeout=30)
    client = ctx.Process(target=_client_main, args=(kind, port, streams, seconds, voice, client_q))
    client.start()
    timeout = seconds + 120
    served = server_q.get(timeout=timeout)
    try:
        got = client_q.get(timeout=30)
    except Exception:
        got = {"error": "client did not finish"}
    for process in (client, server):
        process.join(5)
        if process.is_alive():
            process.kill()
    result: dict[str, Any] = {"client": kind, "streams": streams, **got, "server": served}
    if "frames_received" in got:
        result["frames_lost"] = max(0, served["frames_due"] - got["frames_received"])
        result["keepalives_answered"] = (
            f"{served['keepalives_answered']}/{served['keepalives_sent']}"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[50, 100, 200, 400])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument(
        "--no-voice",
        action="store_true",
        help="clients only: no utterance cutter behind them",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    kinds = [k for k in args.clients.split(",") if k]
    runs = []
    for streams in args.streams:
        for kind in kinds:
            result = run_pair(kind, streams, args.seconds, voice=not args.no_voice)
            print(json.dumps(result), file=sys.stderr)
            runs.append(result)
    ratios: dict[str, Any] = {}
    for streams in args.streams:
        by_kind = {r["client"]: r for r in runs if r["streams"] == streams}
        ours = by_kind.get("ours", {}).get("frames_per_cpu_s")
        for other in ("sdk", "minimal", "baseline"):
            theirs = by_kind.get(other, {}).get("frames_per_cpu_s")
            if ours and theirs:
                ratios[f"{streams}_streams_ours_vs_{other}"] = round(ours / theirs, 2)
    report = {
        "benchmark": "ingest_load",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds_per_stream": args.seconds,
        "voice_detection": not args.no_voice,
        "frames_per_stream_per_s": 200,
        "runs": runs,
        "ratios_frames_per_cpu_s": ratios,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
