"""What share ingestion costs: CPU seconds per share stream-minute, slides kept per minute.

A synthetic share stream plays a deck through the product's own path, as fast as it goes: each
frame is a MEDIA_DATA_SHARE message on the wire (JSON, base64), parsed by the protocol package
and handed to the real pictures sink (`rtms_ingest.storage.slides.PicturesSink`), which keeps
slides in a throwaway SQLite database and PICTURES_DIR. The deck changes slide every
`--slide-s` seconds of stream time, so a perfect run keeps 60 / slide-s slides a minute.

- JPG and PNG: every frame of a slide is the same still (a screen that does not move).
- H.264: a real libx264 stream (key frame every 2 s, P-frames between), as Zoom's encoder would
  send a static screen; only key frames are decoded.

Reported per (codec, fps): ingest CPU seconds per stream-minute (the whole process minus the
OCR job thread: OCR runs in a worker, not in the ingest), slides kept per minute, and OCR CPU
seconds per kept slide. Between frames the run waits for the frame being looked at, as a
real-time stream would give it time to, so what is kept is what a live stream keeps.

    python -m benchmarks.share_ingest [--minutes 2] [--fps 1 2 5] [--codecs jpg h264]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEYFRAME_S = 2.0  # H.264: a key frame every 2 s of stream time


def _setup_django(workdir: Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="assistant.settings",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        ASSISTANT_VAR_DIR=str(workdir),
        PICTURES_DIR=str(workdir / "pictures"),
        REDIS_URL="",
        HF_HUB_OFFLINE="1",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def _deck() -> list[Any]:
    """Six distinct slides of one template (a title bar, three bullets), as decks look."""
    from PIL import Image, ImageDraw, ImageFont

    topics = ("Roadmap", "Budget", "Hiring", "Risks", "Metrics", "Next steps")
    slides = []
    for n, topic in enumerate(topics):
        image = Image.new("RGB", (1280, 720), (250, 250, 252))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, 1280, 150), fill=(32, 64, 128))
        title = ImageFont.load_default(size=64)
        draw.text((70, 45), f"{topic} {2026 + n}", font=title, fill=(255, 255, 255))
        body = ImageFont.load_default(size=44)
        for line in range(3):
            words = f"{topic} point {line + 1}: " + "detail " * (2 + (n + line) % 4)
            draw.text((130, 220 + line * 110), words.strip(), font=body, fill=(20, 24, 32))
        slides.append(image)
    return slides


def _still_frames(deck: list[Any], codec: str) -> list[bytes]:
    frames = []
    for image in deck:
        out = io.BytesIO()
        image.save(out, format="JPEG" if codec == "jpg" else "PNG", quality=85)
        frames.append(out.getvalue())
    return frames


def _h264_frames(deck: list[Any], fps: int, per_slide: int) -> list[bytes]:
    """One access unit per frame: each slide held for `per_slide` frames, key frame every 2 s."""
    import av

    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height = deck[0].size
    codec.pix_fmt = "yuv420p"
    codec.framerate = Fraction(fps)
    codec.options = {
        "preset": "veryfast",
        "tune": "stillimage",
        "x264-params": f"keyint={max(1, round(KEYFRAME_S * fps))}:bframes=0",
    }
    units: list[bytes] = []
    for image in deck:
        frame = av.VideoFrame.from_image(image).reformat(format="yuv420p")
        for _ in range(per_slide):
            units.extend(bytes(p) for p in codec.encode(frame))
    units.extend(bytes(p) for p in codec.encode(None))
    return units


def _wire(frames: list[bytes], fps: int, total: int) -> list[str]:
    """MEDIA_DATA_SHARE messages as sent, one per frame, cycling through `frames` if still."""
    from rtms_ingest.protocol import BinaryContent, ShareData, encode_message

    step = 1000 / fps
    return [
        encode_message(
            ShareData(BinaryContent(frames[n % len(frames)], round(n * step), user_id=7))
        )
        for n in range(total)
    ]


def _ocr_thread_cpu() -> float:
    """CPU seconds of the in-process job threads (OCR), which a real ingest does not run."""
    used = 0.0
    for thread in threading.enumerate():
        if thread.name.startswith("job-") and thread.ident is not None:
            used += time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    return used


async def _play(messages: list[str], meeting_id: int) -> tuple[float, int, int]:
    from rtms_ingest.protocol import ShareData, parse_message
    from rtms_ingest.storage.slides import PicturesSink

    sink = PicturesSink(meeting_id, share=True, video=False)
    await sink.sharing(7, "Bench", True, 0)
    before = time.process_time()
    for text in messages:
        message = parse_message(text)
        assert isinstance(message, ShareData)
        await sink.share(message.content)
        await sink.close()  # the look this frame started (if any) finishes before the next
    return time.process_time() - before, sink.slides_kept, sink.frames_looked_at


def run_one(codec: str, fps: int, minutes: float, slide_s: float) -> dict[str, Any]:
    from assistant import jobs
    from assistant.models import Meeting, Slide

    meeting = Meeting.objects.create(zoom_id=f"{codec}{fps}==", rtms_stream_id=f"b-{codec}-{fps}")
    deck = _deck()
    total = round(minutes * 60 * fps)
    per_slide = max(1, round(slide_s * fps))
    if codec == "h264":
        units = _h264_frames(deck, fps, per_slide)
        messages = _wire(units * (total // len(units) + 1), fps, total)
    else:
        stills = _still_frames(deck, codec)
        held = [stills[(n // per_slide) % len(stills)] for n in range(total)]
        messages = _wire(held, fps, total)
    ocr_before = _ocr_thread_cpu()
    cpu, kept, looked = asyncio.run(_play(messages, meeting.pk))
    ocr = _ocr_thread_cpu() - ocr_before
    jobs.shutdown()  # the slides' OCR jobs finish before the next run
    read = Slide.objects.filter(meeting=meeting).exclude(read_at=None).count()
    return {
        "codec": codec,
        "fps": fps,
        "stream_minutes": minutes,
        "frames": total,
        "frames_looked_at": looked,
        "ingest_cpu_s_per_stream_minute": round(max(0.0, cpu - ocr) / minutes, 3),
        "slides_kept_per_minute": round(kept / minutes, 2),
        "expected_slides_per_minute": round(60 / slide_s, 2),
        "slides_read": read,
    }


def _ocr_cost(workdir: Path) -> float:
    """CPU seconds to read one slide (RapidOCR), the worker's cost per kept slide."""
    from assistant import slide_text

    paths = []
    for n, image in enumerate(_deck()):
        path = workdir / f"ocr-{n}.png"
        image.save(path)
        paths.append(path)
    slide_text.read_lines(paths[0])  # the model loads once per process
    start = time.process_time()
    for path in paths:
        slide_text.read_lines(path)
    return (time.process_time() - start) / len(paths)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--fps", type=int, nargs="+", default=[1, 2, 5])
    parser.add_argument(
        "--codecs", nargs="+", default=["jpg", "h264"], choices=["jpg", "png", "h264"]
    )
    parser.add_argument("--slide-s", type=float, default=20.0, help="stream seconds per slide")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="share-bench-") as tmp:
        workdir = Path(tmp)
        _setup_django(workdir)
        from django.test.utils import override_settings

        with override_settings(JOBS_IN_PROCESS=True):
            runs = [
                run_one(codec, fps, args.minutes, args.slide_s)
                for codec in args.codecs
                for fps in args.fps
            ]
            ocr = _ocr_cost(workdir)
    report = {
        "benchmark": "share_ingest",
        "machine": {
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "ocr_cpu_s_per_slide": round(ocr, 3),
        "runs": runs,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
