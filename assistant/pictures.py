"""Pictures of a meeting on disk: its slides and its participants' camera thumbnails.

Everything of meeting N lives in `<PICTURES_DIR>/N/`: `slide-<id>.<ext>` (the picture as
received, or a JPG of a decoded H.264 frame), `slide-<id>-thumb.jpg`, and `camera-<user>.jpg`.
Files are named by our own ids only, never by anything a client sent. They are served by
assistant/views/pictures.py to those who may see the meeting, and deleted with it
(services/meeting_deletion.py; folders left by a crash are swept like recordings').
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

# The only names ever written or served (a file name in a URL must match one of them).
_NAME = re.compile(r"^(slide-\d+(-thumb)?\.(jpg|png)|camera-\d+\.jpg)$")
CONTENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png"}


def meeting_dir(meeting_id: int) -> Path:
    """Where a meeting's pictures are kept."""
    return Path(settings.PICTURES_DIR) / str(int(meeting_id))


def valid_name(name: str) -> bool:
    """Whether `name` is one of the file names this module writes."""
    return bool(_NAME.match(name))


def write(meeting_id: int, name: str, data: bytes) -> Path:
    """Write one picture atomically (a reader never sees half a file); returns its path."""
    if not valid_name(name):
        raise ValueError(f"not a picture name: {name!r}")
    folder = meeting_dir(meeting_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    partial = folder / f".{name}.part"
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


def path_of(meeting_id: int, name: str) -> Path | None:
    """The file of a picture, if the name is valid and the file exists."""
    if not valid_name(name):
        return None
    path = meeting_dir(meeting_id) / name
    return path if path.is_file() else None


def delete_pictures(meeting_id: int) -> int:
    """Delete a meeting's pictures; returns the bytes freed (0 if there were none)."""
    folder = meeting_dir(meeting_id)
    if not folder.is_dir():
        return 0
    freed = sum(path.stat().st_size for path in folder.iterdir() if path.is_file())
    shutil.rmtree(folder)
    log.info("meeting %s: pictures deleted (%d bytes)", meeting_id, freed)
    return freed
