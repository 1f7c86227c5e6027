"""Reading a slide's text: RapidOCR (ONNX models shipped in its wheel), offline, once per process.

The engine is loaded lazily on first use (about a quarter of a second) and kept for the
process; calls are serialised (one OCR at a time per process: the job pool of its queue has
one thread in the embedded shape, and a Celery worker runs one task at a time per child).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

_engine: Any = None
_lock = threading.Lock()
# Lines read with less confidence than this are dropped (stray marks, bullets, noise).
MIN_CONFIDENCE = 0.5


def _load() -> Any:
    global _engine
    if _engine is None:
        from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]

        _engine = RapidOCR()
    return _engine


def read_lines(image: Path) -> list[str]:
    """The lines of text on a picture, top to bottom (blocking: call it from a job)."""
    with _lock:
        found, _ = _load()(str(image))
    lines: list[tuple[float, float, str]] = []
    for box, text, confidence in found or []:
        if float(confidence) < MIN_CONFIDENCE or not str(text).strip():
            continue
        top = min(point[1] for point in box)
        left = min(point[0] for point in box)
        lines.append((float(top), float(left), str(text).strip()))
    return [text for _, _, text in sorted(lines)]
