"""The webhook receiver's figures (Prometheus), served with the web process's metrics.

`WEB_METRICS_PORT` serves them (assistant/metrics.py); nothing here reaches the public site.
"""

from __future__ import annotations

from prometheus_client import Histogram

__all__ = ["WEBHOOK_LATENCY"]

# From the request reaching the endpoint to its answer sent: signature check, the stored
# delivery and the command queued. A body refused for its size is not counted.
WEBHOOK_LATENCY = Histogram(
    "rtms_webhook_latency_seconds",
    "Time to answer a Zoom webhook delivery (signature, storage, queueing)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
