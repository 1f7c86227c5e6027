"""Reading a Prometheus endpoint over HTTP, as the operators' scraper does."""

from __future__ import annotations

import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

# Each sample's value by its name and its sorted labels.
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int, timeout_s: float = 10.0) -> Samples:
    """Every sample on http://127.0.0.1:port/metrics, by name and labels (retried until up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def figure(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the endpoint does not show it (yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)
