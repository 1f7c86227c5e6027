"""Admission by capacity: an ingest takes a new stream only while it has room for it.

A Python process runs its event loop on one core. When the loop falls behind, every stream it
holds falls behind with it (late keep-alives, growing backlogs), so an ingest refuses new
streams before that happens and leaves them in the queue for another ingest. The gauge samples
the loop's lag (how late a short sleep wakes) and the process's CPU (share of one core), and
counts the streams admitted since the last full window as load not measured yet, so that a
burst of starts cannot all slip in before the CPU figure rises.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

__all__ = ["LoadGauge"]


@dataclass
class LoadGauge:
    """Event-loop lag and CPU of this process, and whether another stream fits."""

    # Measured with `make bench-ingest` (voice detection on, 2 cores): a healthy ingest at 200
    # streams (0.55 core) has a worst lag near 100 ms and a p99 under 50 ms; a saturated one
    # (400 streams) is a second late. The CPU limit is what keeps a process off saturation.
    max_loop_lag_ms: float = 150.0
    max_cpu: float = 0.8  # share of one core
    # What a stream costs before it can be measured (a four-speaker audio stream at about
    # 14 us a frame with voice detection, 200 frames a second, is 0.3% of a core; the speech
    # sink's hand-over adds to that, transcript and chat are less).
    stream_cost: float = 0.005
    interval_s: float = 0.25
    window: int = 8  # samples: two seconds at the default interval
    lag_ms: deque[float] = field(default_factory=deque)
    cpu: deque[float] = field(default_factory=deque)
    refused: int = 0
    _admitted_at: deque[float] = field(default_factory=deque)

    async def run(self) -> None:
        """Sample until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            start, cpu_start = loop.time(), time.process_time()
            await asyncio.sleep(self.interval_s)
            elapsed = loop.time() - start
            self._sample(
                (elapsed - self.interval_s) * 1000, (time.process_time() - cpu_start) / elapsed
            )

    def _sample(self, lag_ms: float, cpu: float) -> None:
        for series, value in ((self.lag_ms, lag_ms), (self.cpu, cpu)):
            series.append(value)
            while len(series) > self.window:
                series.popleft()

    def refusal(self, held: int) -> str | None:
        """Why one more stream must not be taken now (None: take it) and count it."""
        reason = self._refusal(held)
        if reason is None:
            self._admitted_at.append(time.monotonic())
        else:
            self.refused += 1
        return reason

    def _refusal(self, held: int) -> str | None:
        worst_lag = max(self.lag_ms, default=0.0)
        if worst_lag > self.max_loop_lag_ms:
            return f"event loop {worst_lag:.0f} ms late (limit {self.max_loop_lag_ms:g} ms)"
        # Streams admitted within the last window are not fully in the CPU figure yet.
        horizon = time.monotonic() - self.interval_s * self.window
        while self._admitted_at and self._admitted_at[0] < horizon:
            self._admitted_at.popleft()
        cpu = sum(self.cpu) / len(self.cpu) if self.cpu else 0.0
        measured = max(1, held - len(self._admitted_at))
        per_stream = max(self.stream_cost, cpu / measured) if held else self.stream_cost
        projected = cpu + per_stream * (len(self._admitted_at) + 1)
        if projected > self.max_cpu:
            return f"CPU {cpu:.0%} of a core, {projected:.0%} with one more stream"
        return None

    def snapshot(self) -> dict[str, float]:
        """Current figures, for logs and metrics."""
        return {
            "loop_lag_ms": max(self.lag_ms, default=0.0),
            "cpu": sum(self.cpu) / len(self.cpu) if self.cpu else 0.0,
            "refused": float(self.refused),
        }
