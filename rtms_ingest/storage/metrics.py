"""What the ingest's own sinks count (Prometheus, this process's default registry).

Totals over every stream of the process, so they never go backwards while it lives; served
with the rest of the ingest's figures on `RTMS_METRICS_PORT` (rtms_ingest/runtime/metrics.py).
"""

from __future__ import annotations

from prometheus_client import Counter

__all__ = [
    "ASR_CUTS_DROPPED",
    "ASR_CUTS_HANDED_OVER",
    "ASR_FINALS_LOST",
    "DB_RETRIES",
    "DB_WRITES_GIVEN_UP",
    "RECORDING_FRAMES_DROPPED",
]

ASR_CUTS_HANDED_OVER = Counter(
    "rtms_ingest_asr_cuts_handed_over", "Utterance cuts stored and queued for speech recognition"
)
ASR_CUTS_DROPPED = Counter(
    "rtms_ingest_asr_cuts_dropped",
    "Utterance cuts dropped because handing over fell behind (provisional first)",
)
ASR_FINALS_LOST = Counter(
    "rtms_ingest_asr_finals_lost", "Final utterance cuts dropped: their captions are lost"
)
RECORDING_FRAMES_DROPPED = Counter(
    "rtms_ingest_recording_frames_dropped", "Audio frames not recorded (the disk fell behind)"
)
DB_RETRIES = Counter(
    "rtms_ingest_db_retries",
    "Database calls of the ingest tried again after the database or the connection failed",
)
DB_WRITES_GIVEN_UP = Counter(
    "rtms_ingest_db_writes_given_up",
    "Stream writes given up after RTMS_DB_RETRY_S without the database (recorded as a gap)",
)
