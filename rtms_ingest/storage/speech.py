"""The speech sink: each participant's audio cut into utterances and handed to `asr` jobs.

On the event loop it only cuts (rtms_ingest.audio, microseconds a frame). Each cut goes into a
bounded queue that one task per stream empties through a thread, where the audio is stored and
the job queued (both block briefly). While Redis is unreachable (restarting) a final cut is
handed over again with a backoff for up to HANDOVER_PATIENCE_S, later cuts waiting behind it; a
provisional cut is dropped (its final follows). If the queue is full, new cuts are dropped; a
dropped final is logged as lost. A timer ends the utterances of participants who went quiet
(Zoom sends no frames for silence), and the end of the stream ends them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings

from assistant.models import Meeting
from assistant.services import speech, streaming
from assistant.services.fencing import StaleWriter, check_writer
from rtms_ingest.audio.utterances import Cut, CutterSettings, UtteranceCutter
from rtms_ingest.client.backoff import Backoff
from rtms_ingest.client.sink import IgnoringSink, StreamStatus
from rtms_ingest.cluster.sinks import WriterFence
from rtms_ingest.protocol import BinaryContent, MediaType
from rtms_ingest.storage import metrics
from rtms_ingest.storage.database import run_db_once

log = logging.getLogger(__name__)

TICK_S = 0.05  # how often quiet participants are checked
QUEUE_LIMIT = 64  # cuts waiting to be handed over, per stream
MAX_SPEAKERS = 256  # participants whose audio is cut at once (the quietest are dropped first)
DRAIN_S = 5.0  # at the end of the stream, how long handing over what is left may take
# How long a final cut is handed over again while Redis cannot be reached (a restart takes
# seconds; each attempt itself waits up to about 10 s for Redis, in the audio store).
HANDOVER_PATIENCE_S = 30.0


@dataclass
class _Speaker:
    cutter: UtteranceCutter
    name: str
    last_ts_ms: int = 0  # stream clock of the end of the last frame
    last_arrival: float = 0.0  # time.monotonic() it arrived


class SpeechSink(IgnoringSink):
    """Implements MediaSink for one meeting's audio: utterances to our recogniser."""

    wants = MediaType.AUDIO

    def __init__(
        self, meeting_id: int, cutter_settings: CutterSettings, fence: WriterFence | None = None
    ) -> None:
        self.meeting_id = meeting_id
        self.fence = fence or WriterFence()  # the store hands each stream's sinks its own
        self.handed_over = 0
        self.cuts_dropped = 0
        self.finals_lost = 0
        self._settings = cutter_settings
        self._speakers: dict[int, _Speaker] = {}
        self._queue: asyncio.Queue[speech.UtteranceJob | None] | None = None
        self._pending: dict[speech.UtteranceJob, bytes] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def audio(self, content: BinaryContent) -> None:
        if self._queue is None:
            self._start()
        user_id = content.user_id if content.user_id is not None else 0
        speaker = self._speaker(user_id, content.user_name or "")
        cuts = speaker.cutter.feed(content.data, int(content.timestamp))
        speaker.last_ts_ms = int(content.timestamp) + len(content.data) // 32
        speaker.last_arrival = time.monotonic()
        for cut in cuts:
            self._hand_over(user_id, speaker, cut)

    async def stream_state(
        self, state: StreamStatus, detail: str = "", reason: int | None = None
    ) -> None:
        if state in (StreamStatus.ENDED, StreamStatus.FAILED):
            await self.close()

    async def close(self) -> None:
        """End every utterance, hand over what is queued (for a while), stop the tasks."""
        for user_id, speaker in self._speakers.items():
            for cut in speaker.cutter.flush():
                self._hand_over(user_id, speaker, cut)
        if self._queue is None:
            return
        self._queue.put_nowait(None)  # never full: _hand_over leaves room for this marker
        sender, ticker = self._tasks
        ticker.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(sender), DRAIN_S)
        sender.cancel()
        await asyncio.gather(sender, ticker, return_exceptions=True)
        if self._pending:
            log.error(
                "meeting %s: %d utterances not handed over at the end",
                self.meeting_id,
                len(self._pending),
            )
        self._queue = None

    async def participant_left(
        self, user_id: int, user_name: str | None, at_ms: int | None
    ) -> None:
        speaker = self._speakers.pop(user_id, None)
        if speaker is not None:
            for cut in speaker.cutter.flush():
                self._hand_over(user_id, speaker, cut)

    # --- internals ---------------------------------------------------------------------

    def _start(self) -> None:
        self._queue = asyncio.Queue(QUEUE_LIMIT + 1)  # +1: room for the end marker
        self._tasks = [
            asyncio.create_task(self._send(), name=f"speech-send-{self.meeting_id}"),
            asyncio.create_task(self._tick(), name=f"speech-tick-{self.meeting_id}"),
        ]

    def _speaker(self, user_id: int, name: str) -> _Speaker:
        speaker = self._speakers.get(user_id)
        if speaker is None:
            if len(self._speakers) >= MAX_SPEAKERS:
                self._forget_quietest()
            speaker = _Speaker(UtteranceCutter(self._settings), name)
            self._speakers[user_id] = speaker
        elif name:
            speaker.name = name
        return speaker

    def _forget_quietest(self) -> None:
        quiet = [
            (s.last_arrival, uid) for uid, s in self._speakers.items() if not s.cutter.speaking
        ]
        _, user_id = min(quiet or [(s.last_arrival, uid) for uid, s in self._speakers.items()])
        speaker = self._speakers.pop(user_id)
        for cut in speaker.cutter.flush():
            self._hand_over(user_id, speaker, cut)

    def _hand_over(self, user_id: int, speaker: _Speaker, cut: Cut) -> None:
        """Queue a cut for the sender; when full, a provisional cut is dropped, a final lost."""
        assert self._queue is not None
        job = speech.UtteranceJob(
            meeting_id=self.meeting_id,
            speaker_user_id=user_id or None,
            speaker_name=speaker.name,
            utterance_start_ms=cut.utterance_start_ms,
            start_ms=cut.start_ms,
            end_ms=cut.end_ms,
            revision=cut.revision,
            final=cut.final,
            heard_at=_heard_at(speaker, cut),
        )
        if self._queue.qsize() >= QUEUE_LIMIT:
            self.cuts_dropped += 1
            metrics.ASR_CUTS_DROPPED.inc()
            if cut.final:
                self.finals_lost += 1
                metrics.ASR_FINALS_LOST.inc()
                log.error("meeting %s: utterance of %s lost (queue full)", self.meeting_id, user_id)
            return
        self._pending[job] = cut.pcm
        self._queue.put_nowait(job)

    async def _send(self) -> None:
        assert self._queue is not None
        while (job := await self._queue.get()) is not None:
            pcm = self._pending.pop(job)
            if self.fence.stale.is_set():
                continue  # another ingest holds the stream now: its audio is that ingest's
            try:
                # Fenced: an ingest that was paused past its lease hands nothing over after.
                # Once, no retries: a database outage must not hold up the audio (fails open).
                await run_db_once(check_writer, self.meeting_id, self.fence.generation)
            except StaleWriter as exc:
                log.warning("meeting %s: utterance not handed over (%s)", self.meeting_id, exc)
                self.fence.refused()
                continue
            except Exception:
                log.warning("meeting %s: writer not checked; handing over", self.meeting_id)
            if await self._hand_over_patiently(job, pcm):
                self.handed_over += 1
                metrics.ASR_CUTS_HANDED_OVER.inc()

    async def _hand_over_patiently(self, job: speech.UtteranceJob, pcm: bytes) -> bool:
        """Hand one cut over; a final one again while Redis is unreachable. Handed over?"""
        backoff = Backoff(0.25, 2.0, first_s=0.25)
        give_up_at = time.monotonic() + HANDOVER_PATIENCE_S
        retried = False
        while True:
            try:
                await asyncio.to_thread(speech.hand_over_utterance, job, pcm)
                if retried:
                    log.info("meeting %s: utterance handed over after a wait", self.meeting_id)
                return True
            except speech.HandOverUnavailable as exc:
                if job.final and time.monotonic() < give_up_at:
                    if not retried:
                        log.warning("meeting %s: hand-over waits (%s)", self.meeting_id, exc)
                    retried = True
                    await asyncio.sleep(backoff.next_delay())
                    continue
                self._not_handed_over(job, str(exc))
                return False
            except Exception:
                log.exception("meeting %s: utterance not handed over", self.meeting_id)
                return False

    def _not_handed_over(self, job: speech.UtteranceJob, why: str) -> None:
        self.cuts_dropped += 1
        metrics.ASR_CUTS_DROPPED.inc()
        if job.final:
            self.finals_lost += 1
            metrics.ASR_FINALS_LOST.inc()
            log.error("meeting %s: utterance lost (%s)", self.meeting_id, why)
        else:
            log.warning("meeting %s: provisional cut dropped (%s)", self.meeting_id, why)

    async def _tick(self) -> None:
        """End the utterances of participants who have sent nothing for a hangover."""
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            for user_id, speaker in list(self._speakers.items()):
                if speaker.cutter.speaking:
                    stream_now = speaker.last_ts_ms + int((now - speaker.last_arrival) * 1000)
                    for cut in speaker.cutter.flush(stream_now):
                        self._hand_over(user_id, speaker, cut)


def _heard_at(speaker: _Speaker, cut: Cut) -> float:
    """When the end of the cut's audio reached us (Unix time), from its speaker's last frame.

    A provisional cut ends with the frame just received; a final one may be cut a hangover
    later, and its audio ended that much (on the stream clock) before the last frame's end.
    """
    arrived = time.time() - (time.monotonic() - speaker.last_arrival)
    return arrived - max(0, speaker.last_ts_ms - cut.end_ms) / 1000


def cutter_settings() -> CutterSettings:
    """The cutting rules from settings."""
    whole = streaming.commits_words()
    return CutterSettings(
        hangover_ms=settings.ASR_HANGOVER_MS,
        provisional_every_ms=settings.ASR_PROVISIONAL_EVERY_MS,
        # Drafts that commit words are decoded from the utterance's start (the committed words
        # are forced as the decoder's prefix), so each cut holds the whole utterance so far.
        window_ms=settings.ASR_MAX_UTTERANCE_MS if whole else CutterSettings.window_ms,
        max_utterance_ms=settings.ASR_MAX_UTTERANCE_MS,
    )


def speech_sink(meeting: Meeting) -> SpeechSink | None:
    """The RTMS_SINKS factory: a speech sink when the meeting is transcribed by us."""
    if not speech.wants_asr(meeting):
        return None
    return SpeechSink(meeting.pk, cutter_settings())
