"""The recording sink: each participant's audio appended to WAV files, when the meeting asks.

On the event loop a frame is only placed on its participant's timeline (assistant.recordings)
and queued; a task writes the queue through a thread every half second. The queue is bounded:
if the disk cannot keep up, frames are dropped, counted, logged, and the participant's next
frame starts a new anchor, so what was kept stays on the right stream time.

Each batch is written under a lock on the meeting's row, taken after checking that the meeting
still exists: a meeting deleted meanwhile (its deletion locks the row too, and removes the
folder after its commit) gets no file written, or created again, after it is gone; the sink
then drops everything it holds and writes nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from assistant import recordings
from assistant.models import Meeting
from rtms_ingest.client.sink import GapSpan, IgnoringSink, StreamStatus
from rtms_ingest.protocol import BinaryContent, MediaType
from rtms_ingest.storage import metrics
from rtms_ingest.storage.database import RETRYABLE, run_db_once

log = logging.getLogger(__name__)

FLUSH_S = 0.5  # how often queued audio is written
QUEUE_LIMIT_BYTES = 16 * 1024 * 1024  # about 8 minutes of one voice waiting for the disk
DRAIN_S = 5.0  # at the end of the stream, how long writing what is left may take


@dataclass
class _Pending:
    """Audio placed but not yet written, per participant."""

    items: list[tuple[int, recordings.Anchor | None, bytes]] = field(default_factory=list)


class RecordingSink(IgnoringSink):
    """Implements MediaSink for one meeting's audio: WAV files per participant."""

    wants = MediaType.AUDIO

    def __init__(self, meeting_id: int, folder: Path) -> None:
        self.meeting_id = meeting_id
        self.frames_dropped = 0
        self.bytes_written = 0
        self._folder = folder
        self._timelines: dict[int, recordings.TrackTimeline] = {}
        self._writers: dict[int, recordings.TrackWriter] = {}
        self._pending: dict[int, _Pending] = {}
        self._queued_bytes = 0
        self._task: asyncio.Task[None] | None = None
        self.meeting_gone = False  # deleted: nothing more is written

    async def audio(self, content: BinaryContent) -> None:
        if self.meeting_gone:
            return
        if self._task is None:
            self._task = asyncio.create_task(self._flush_loop(), name=f"rec-{self.meeting_id}")
        user_id = content.user_id if content.user_id is not None else 0
        timeline = self._timelines.setdefault(user_id, recordings.TrackTimeline())
        pcm = content.data[: len(content.data) - len(content.data) % 2]
        if self._queued_bytes + len(pcm) > QUEUE_LIMIT_BYTES:
            self.frames_dropped += 1
            metrics.RECORDING_FRAMES_DROPPED.inc()
            if self.frames_dropped == 1 or self.frames_dropped % 500 == 0:
                log.error(
                    "meeting %s: recording behind the disk, %d frames dropped",
                    self.meeting_id,
                    self.frames_dropped,
                )
            timeline.skipped()
            return
        placed = timeline.place(int(content.timestamp), len(pcm), content.user_name or "")
        pending = self._pending.setdefault(user_id, _Pending())
        pending.items.append((placed.silence_bytes, placed.anchor, pcm))
        self._queued_bytes += placed.silence_bytes + len(pcm)

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        if state in (StreamStatus.ENDED, StreamStatus.FAILED):
            await self.close()

    async def close(self) -> None:
        """Write what is queued (for a while) and close the files."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._write_pending(), DRAIN_S)
        writers, self._writers = self._writers, {}
        for writer in writers.values():
            await asyncio.to_thread(writer.close)
        self._timelines.clear()  # a reopened stream continues the files with new anchors

    async def gap(self, detail: str, span: GapSpan) -> None:
        # Not the span: each frame carries its own stream time, so the next one's new anchor
        # places it exactly, and an anchor (unlike filled silence) marks the break for
        # retranscription, which never runs a stretch across one.
        for timeline in self._timelines.values():
            timeline.skipped()

    # --- internals ---------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            try:
                await self._write_pending()
            except OSError:
                log.exception("meeting %s: recording not written", self.meeting_id)

    async def _write_pending(self) -> None:
        """Hand the queued audio to a thread (file I/O blocks) and wait for it to be written."""
        if not self._pending or self.meeting_gone:
            return
        batch, self._pending = self._pending, {}
        self._queued_bytes = 0  # the batch in the thread is bounded as the queue was
        try:
            written = await run_db_once(self._write_if_meeting_exists, batch)
        except RETRYABLE:
            # No database (a restart): no deletion can commit either, so write what is left
            # of the batch unlocked rather than lose the audio.
            written = await asyncio.to_thread(self._write, batch)
        if written is None:
            await self._meeting_deleted()
            return
        self.bytes_written += written

    async def _meeting_deleted(self) -> None:
        """The meeting is gone: drop what is queued, close the files, write nothing more."""
        log.warning(
            "meeting %s: deleted while recording; its audio is no longer written", self.meeting_id
        )
        self.meeting_gone = True
        self._pending.clear()
        self._queued_bytes = 0
        writers, self._writers = self._writers, {}
        for writer in writers.values():
            await asyncio.to_thread(writer.close)

    def _write_if_meeting_exists(self, batch: dict[int, _Pending]) -> int | None:
        """Write the batch under the meeting's row lock; None (nothing written) if it is gone."""
        with transaction.atomic():
            locked = (
                Meeting.objects.select_for_update(no_key=True)
                .filter(pk=self.meeting_id)
                .values_list("pk", flat=True)
                .first()
            )
            if locked is None:
                return None
            return self._write(batch)

    def _write(self, batch: dict[int, _Pending]) -> int:
        """Write each participant's queued audio; returns the bytes written (blocking).

        Each participant's audio leaves the batch once written, so a batch tried again after a
        failure (the database connection dropped at commit) is never written twice.
        """
        written = 0
        for user_id in list(batch):
            writer = self._writers.get(user_id)
            if writer is None:
                writer = self._writers[user_id] = recordings.TrackWriter(self._folder, user_id)
            for silence, anchor, pcm in batch.pop(user_id).items:
                writer.write(silence, anchor, pcm)
                written += silence + len(pcm)
        return written


def recording_sink(meeting: Meeting) -> RecordingSink | None:
    """The RTMS_SINKS factory: a recording sink when the meeting's audio is to be kept."""
    if not recordings.wants_recording(meeting):
        return None
    return RecordingSink(meeting.pk, recordings.meeting_dir(meeting.pk))
