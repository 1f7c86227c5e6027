"""Generate the sample meeting's slides and camera picture (Pillow): titles and bullets as PNG.

Usage (from the repository root):

    .venv/bin/python scripts/generate_sample_slides.py [--out FOLDER]

Writes `share/<n>-<name>.png` (1280x720 slides) and `video/<user_id>.png` (a 640x360 camera
still) into the sample meeting's folder; meeting.json's `share` and `video` entries name them.
The font is Pillow's bundled one, so the output does not depend on the machine's fonts.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "rtms_ingest" / "simulator" / "sample_meetings" / "weekly_sync"
SIZE = (1280, 720)
BACKGROUND = (250, 250, 252)
TITLE_BAR = (32, 64, 128)
INK = (20, 24, 32)


@dataclass(frozen=True)
class Slide:
    """One slide: its file name, its title and its bullet lines."""

    name: str
    title: str
    bullets: tuple[str, ...]


SLIDES = (
    Slide(
        "1-release-decision",
        "Release 2.4 decision",
        ("Ship on Thursday 14 March", "Offline mode moves to 2.5", "Payment retry fixes included"),
    ),
    Slide(
        "2-action-items",
        "Action items",
        (
            "Zoe: accessibility fixes by Tuesday",
            "Bjorn: rollback plan by Wednesday",
            "Tomas: release notes by Wednesday",
        ),
    ),
    Slide(
        "3-next-release",
        "Release 2.5 plan",
        ("CSV invoice export", "Offline mode sync", "Codename Heron kickoff"),
    ),
)
CAMERA_USER_ID = 16779264  # Zoe Muller's camera


def render_slide(slide: Slide) -> Image.Image:
    """A title bar and bullet lines in large, plain type."""
    image = Image.new("RGB", SIZE, BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, SIZE[0], 150), fill=TITLE_BAR)
    draw.text((70, 45), slide.title, font=ImageFont.load_default(size=64), fill=(255, 255, 255))
    body = ImageFont.load_default(size=44)
    for i, line in enumerate(slide.bullets):
        top = 220 + i * 110
        draw.ellipse((80, top + 14, 100, top + 34), fill=TITLE_BAR)
        draw.text((130, top), line, font=body, fill=INK)
    return image


def render_camera() -> Image.Image:
    """A camera still: a plain backdrop and a head-and-shoulders silhouette."""
    image = Image.new("RGB", (640, 360), (96, 128, 112))
    draw = ImageDraw.Draw(image)
    draw.ellipse((260, 70, 380, 200), fill=(224, 188, 160))
    draw.pieslice((180, 200, 460, 480), 180, 360, fill=(48, 80, 160))
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    out = parser.parse_args().out
    (out / "share").mkdir(parents=True, exist_ok=True)
    (out / "video").mkdir(parents=True, exist_ok=True)
    for slide in SLIDES:
        render_slide(slide).save(out / "share" / f"{slide.name}.png", optimize=True)
    render_camera().save(out / "video" / f"{CAMERA_USER_ID}.png", optimize=True)


if __name__ == "__main__":
    main()
