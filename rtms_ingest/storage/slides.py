"""The pictures sink: screen share frames become slides, camera frames become thumbnails.

On the event loop a frame costs a comparison of timestamps, and for H.264 a scan for an IDR
slice; nothing else. At most one frame a second of stream time per share (SAMPLE_MS), and one
every CAMERA_INTERVAL_MS per participant's camera, is decoded and hashed, in a thread; a frame
that arrives while the previous one is still being looked at is skipped (the next sample
catches up). A share frame becomes a slide when its perceptual hash differs from the last
kept slide's in more than SLIDES_HASH_DISTANCE bits and SLIDES_MIN_INTERVAL_S passed since
that slide: identical or barely changed frames (a cursor, compression noise) make one slide.
Storing it (files and row, under the meeting's lock) is services/slides.py's `record_slide`;
its text is read afterwards by a job. Writes are fenced as the storage sink's are: once the
app refuses this ingest's lease generation (another holds the stream), nothing more is kept.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from assistant.models import Meeting
from assistant.services import camera, slides
from assistant.services.fencing import StaleWriter, write_as
from rtms_ingest.client.sink import IgnoringSink
from rtms_ingest.cluster.sinks import WriterFence
from rtms_ingest.protocol import BinaryContent, MediaType
from rtms_ingest.storage import frames
from rtms_ingest.storage.database import RETRYABLE, run_db

log = logging.getLogger(__name__)

SAMPLE_MS = 1_000  # one share frame a second (stream clock) is looked at
CAMERA_INTERVAL_MS = 10_000  # a participant's thumbnail is renewed at most this often


@dataclass
class _Sharer:
    user_id: int | None = None
    name: str = ""


class PicturesSink(IgnoringSink):
    """Implements MediaSink for a meeting's share (slides) and cameras (thumbnails)."""

    def __init__(self, meeting_id: int, *, share: bool, video: bool) -> None:
        self.meeting_id = meeting_id
        self.wants = (MediaType.DESKSHARE if share else MediaType(0)) | (
            MediaType.VIDEO if video else MediaType(0)
        )
        self.min_interval_ms = round(settings.SLIDES_MIN_INTERVAL_S * 1000)
        self.hash_distance = settings.SLIDES_HASH_DISTANCE
        self.slides_kept = 0
        self.frames_looked_at = 0
        self.meeting_gone = False
        self.fence = WriterFence()  # the stream's, set when its sinks are built
        self._sharer = _Sharer()
        self._next_sample_ms: int | None = None
        self._last_hash: Any = None
        self._last_kept_ms: int | None = None
        self._share_busy = False
        self._camera_due: dict[int, int] = {}
        self._camera_busy: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def sharing(
        self, user_id: int | None, user_name: str, started: bool, at_ms: int | None
    ) -> None:
        # The last kept picture is not forgotten at a stop or start: the events come on the
        # signaling socket and the frames on their own, so frames of a share may arrive after
        # its stop (or the next start); a picture shown again is not a new slide either.
        if started:
            self._sharer = _Sharer(user_id, user_name)
            self._next_sample_ms = None  # the first frame of a new share is looked at

    async def share(self, content: BinaryContent) -> None:
        at_ms = int(content.timestamp)
        if self.meeting_gone or self._share_busy or self.fence.stale.is_set():
            return
        if self._next_sample_ms is not None and at_ms < self._next_sample_ms:
            return
        if not frames.is_key_frame(content.data):
            return
        self._next_sample_ms = at_ms + SAMPLE_MS
        self._share_busy = True
        self._spawn(self._look_at_share(content, at_ms))

    async def video(self, content: BinaryContent) -> None:
        user_id = content.user_id
        at_ms = int(content.timestamp)
        if self.meeting_gone or user_id is None or user_id in self._camera_busy:
            return
        if self.fence.stale.is_set():
            return
        if at_ms < self._camera_due.get(user_id, at_ms) or not frames.is_key_frame(content.data):
            return
        self._camera_due[user_id] = at_ms + CAMERA_INTERVAL_MS
        self._camera_busy.add(user_id)
        self._spawn(self._keep_camera(content, user_id, at_ms))

    async def close(self) -> None:
        """Let the pictures being looked at finish (the stream ends or is reconfigured)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- internals ---------------------------------------------------------------------

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work, name=f"pictures-{self.meeting_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _look_at_share(self, content: BinaryContent, at_ms: int) -> None:
        try:
            picture = await asyncio.to_thread(frames.analyse, content.data)
            self.frames_looked_at += 1
            if picture is None or not self._is_new_slide(picture, at_ms):
                return
            sharer = self._sharer
            new = await asyncio.to_thread(self._encode_slide, picture, content, at_ms, sharer)
            stored = await self._fenced(slides.record_slide, self.meeting_id, new)
            if stored is None and not await run_db(_meeting_exists, self.meeting_id):
                self.meeting_gone = True
                return
            self._last_hash, self._last_kept_ms = picture.hash, at_ms
            self.slides_kept += stored is not None
        except RETRYABLE:
            log.warning("meeting %s: slide not stored (no database)", self.meeting_id)
        except StaleWriter as exc:
            log.warning("meeting %s: slide not stored (%s)", self.meeting_id, exc)
            self.fence.refused()
        except Exception:
            log.exception("meeting %s: share frame not kept", self.meeting_id)
        finally:
            self._share_busy = False

    async def _fenced(self, service: Any, *args: Any) -> Any:
        """A write under the stream's lease generation (StaleWriter once another holds it)."""
        return await run_db(write_as, self.meeting_id, self.fence.generation, service, *args)

    def _is_new_slide(self, picture: frames.Picture, at_ms: int) -> bool:
        if self._last_hash is None:
            return True
        if frames.hash_distance(picture.hash, self._last_hash) <= self.hash_distance:
            return False
        return self._last_kept_ms is None or at_ms - self._last_kept_ms >= self.min_interval_ms

    @staticmethod
    def _encode_slide(
        picture: frames.Picture, content: BinaryContent, at_ms: int, sharer: _Sharer
    ) -> slides.NewSlide:
        """The files of a slide: the frame as received when it is a still, else a JPG."""
        if picture.kind == frames.H264:
            image, extension = frames.jpeg(picture.image, quality=90), "jpg"
        else:
            image, extension = content.data, picture.kind
        width, height = picture.image.size
        return slides.NewSlide(
            shown_at_ms=at_ms,
            sharer_user_id=sharer.user_id if sharer.user_id is not None else content.user_id,
            sharer_name=sharer.name or content.user_name or "",
            image=image,
            extension=extension,
            thumbnail=frames.jpeg(picture.image, frames.THUMBNAIL_SIDE, quality=80),
            width=width,
            height=height,
            picture_hash=str(picture.hash),
        )

    async def _keep_camera(self, content: BinaryContent, user_id: int, at_ms: int) -> None:
        try:
            thumbnail = await asyncio.to_thread(_camera_thumbnail, content.data)
            if thumbnail is None:
                return
            kept = await self._fenced(
                camera.keep_thumbnail, self.meeting_id, user_id, at_ms, thumbnail
            )
            if not kept:
                self.meeting_gone = True
        except RETRYABLE:
            log.warning("meeting %s: camera thumbnail not stored (no database)", self.meeting_id)
        except StaleWriter as exc:
            log.warning("meeting %s: camera thumbnail not stored (%s)", self.meeting_id, exc)
            self.fence.refused()
        except Exception:
            log.exception("meeting %s: camera frame not kept", self.meeting_id)
        finally:
            self._camera_busy.discard(user_id)


def _camera_thumbnail(data: bytes) -> bytes | None:
    image = frames.decode(data)
    return None if image is None else frames.jpeg(image, frames.CAMERA_SIDE, quality=80)


def _meeting_exists(meeting_id: int) -> bool:
    return Meeting.objects.filter(pk=meeting_id).exists()


def pictures_sink(meeting: Meeting) -> PicturesSink | None:
    """The RTMS_SINKS factory: slides when the meeting keeps them, thumbnails when configured.

    Whether Zoom is asked for share or video at all is RTMS_MEDIA's (the supervisor asks only
    for what some sink wants within it).
    """
    share = slides.wants_slides(meeting)
    video = bool(settings.VIDEO_THUMBNAILS)
    if not share and not video:
        return None
    return PicturesSink(meeting.pk, share=share, video=video)
