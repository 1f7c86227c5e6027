"""Recording transcript segments, idempotently: a re-delivered utterance is stored once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from assistant import events
from assistant.models import TranscriptSegment
from assistant.services import live

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentInput:
    """An utterance as received, on the RTMS stream clock."""

    source: str
    speaker_user_id: int | None
    speaker_name: str
    start_ms: int
    end_ms: int
    text: str
    language: str = ""

    @property
    def dedupe_key(self) -> str:
        """Equal for two deliveries of the same utterance."""
        return f"{self.speaker_user_id}:{self.start_ms}:{self.end_ms}"


def record_segment(meeting_id: int, segment: SegmentInput) -> TranscriptSegment | None:
    """Store a segment and publish it; returns None when it was already stored or is empty."""
    text = segment.text.strip()
    if not text:
        return None

    def create(seq: int) -> TranscriptSegment:
        return TranscriptSegment.objects.create(
            meeting_id=meeting_id,
            seq=seq,
            source=segment.source,
            speaker_user_id=segment.speaker_user_id,
            speaker_name=segment.speaker_name,
            start_ms=segment.start_ms,
            end_ms=max(segment.end_ms, segment.start_ms),
            text=text,
            language=segment.language,
            dedupe_key=segment.dedupe_key,
        )

    row = live.publish_new_row(meeting_id, create, segment_payload)
    if row is None:
        # Re-delivery (a reconnect or a second ingest): the unique key kept the first copy.
        log.info("segment %s of meeting %s already stored", segment.dedupe_key, meeting_id)
    return row


def segment_payload(row: TranscriptSegment) -> events.SegmentPayload:
    """The live event of a stored segment."""
    return {
        "type": events.SEGMENT,
        "seq": row.seq,
        "id": row.pk,
        "source": row.source,
        "speaker_user_id": row.speaker_user_id,
        "speaker": row.speaker_name,
        "start_ms": row.start_ms,
        "end_ms": row.end_ms,
        "text": row.text,
        "language": row.language,
        "final": True,
    }
