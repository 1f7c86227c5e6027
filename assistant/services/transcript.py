"""Recording transcript segments, idempotently: a re-delivered utterance is stored once.

Zoom's transcript arrives one final utterance at a time (`record_segment`). Our recogniser's
arrives in versions (`record_recognition`): provisional texts of an utterance in progress, then
its final text, all in one row that each version replaces, with a new live event carrying the
row's id so viewers replace the caption too. A final text that turns out empty (the recogniser
heard no speech) removes the row, and its event says so with empty text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from assistant import events
from assistant.models import ActionItem, Decision, Meeting, MeetingNotes, TranscriptSegment
from assistant.services import live, notes

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
    else:
        _note_new_text(meeting_id, row)
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
        "final": row.final,
        "tentative_words": 0,
    }


@dataclass(frozen=True)
class Recognised:
    """One version of an utterance's text from our recogniser."""

    speaker_user_id: int | None
    speaker_name: str
    utterance_start_ms: int
    start_ms: int
    end_ms: int
    text: str
    language: str
    revision: int  # a later version outranks an earlier one; the final outranks them all
    final: bool
    tentative_words: int = 0  # of a provisional text: its last words, not yet agreed on

    @property
    def dedupe_key(self) -> str:
        """Equal for every version of the same utterance."""
        return f"{self.speaker_user_id}:{self.utterance_start_ms}"


def asr_version(
    meeting_id: int, speaker_user_id: int | None, utterance_start_ms: int
) -> tuple[bool, int] | None:
    """(final, revision) of the stored version of an utterance, or None if none is stored."""
    row = (
        TranscriptSegment.objects.filter(
            meeting_id=meeting_id,
            source=TranscriptSegment.Source.ASR,
            dedupe_key=f"{speaker_user_id}:{utterance_start_ms}",
        )
        .values_list("final", "revision")
        .first()
    )
    return None if row is None else (row[0], row[1])


def record_recognition(meeting_id: int, version: Recognised) -> TranscriptSegment | None:
    """Store a version of an utterance in place of an older one and publish it.

    Returns None when nothing changed: a version no newer than the stored one (a re-delivered
    or overtaken job), or an empty provisional text.
    """
    text = " ".join(version.text.split())
    if not text and not version.final:
        return None
    with transaction.atomic():
        live.lock_meeting(meeting_id)  # one writer per meeting: versions never interleave
        row = TranscriptSegment.objects.filter(
            meeting_id=meeting_id,
            source=TranscriptSegment.Source.ASR,
            dedupe_key=version.dedupe_key,
        ).first()
        if row is not None and (row.final or row.revision >= version.revision):
            return None
        if not text:
            _withdraw(meeting_id, row)
            return None
        seq = live.next_seq(meeting_id)
        if row is None:
            row = TranscriptSegment(
                meeting_id=meeting_id,
                source=TranscriptSegment.Source.ASR,
                dedupe_key=version.dedupe_key,
                speaker_user_id=version.speaker_user_id,
                speaker_name=version.speaker_name,
                start_ms=version.start_ms,
            )
        row.seq = seq
        row.end_ms = max(version.end_ms, row.start_ms)
        row.text = text
        row.language = version.language
        row.final = version.final
        row.revision = version.revision
        row.save()
        payload = segment_payload(row)
        payload["tentative_words"] = 0 if version.final else version.tentative_words
        live.publish(meeting_id, payload)
    if version.final:
        _final_text_stored(meeting_id, row)
    return row


def final_recognition_delivered_again(
    meeting_id: int, speaker_user_id: int | None, utterance_start_ms: int
) -> None:
    """An utterance's final text, already stored, was delivered again (its worker died after
    the store): what follows the store of a final is done again (the notes' trigger)."""
    row = TranscriptSegment.objects.filter(
        meeting_id=meeting_id,
        source=TranscriptSegment.Source.ASR,
        dedupe_key=f"{speaker_user_id}:{utterance_start_ms}",
        final=True,
    ).first()
    if row is not None:
        _final_text_stored(meeting_id, row)


def _note_new_text(meeting_id: int, row: TranscriptSegment) -> None:
    """Ask the notes for an update when enough new text may be there (one cheap read first)."""
    covered = (
        MeetingNotes.objects.filter(meeting_id=meeting_id)
        .values_list("update_queued", "is_final", "covered_seq", "covered_end_ms")
        .first()
    )
    if covered is not None:
        queued, final, seq, end_ms = covered
        segments, seconds = notes.update_thresholds()
        # seq counts every live event, so it overstates the new segments: never too late.
        few = row.seq - seq < segments
        short = end_ms is not None and row.end_ms - end_ms < seconds * 1000
        if queued or final or (few and (short or end_ms is None)):
            return
    notes.segment_stored(meeting_id)


def _final_text_stored(meeting_id: int, row: TranscriptSegment | None) -> None:
    """Notes follow final text; a meeting that ended meanwhile gets its final notes again."""
    if row is not None:
        _note_new_text(meeting_id, row)
    # Our last sentences are recognised after the stream ended: the final notes are redone
    # with them (they are rebuilt from the whole transcript, so redoing is harmless).
    if Meeting.objects.filter(pk=meeting_id, state__in=Meeting.FINISHED_STATES).exists():
        notes.meeting_ended(meeting_id)


def _withdraw(meeting_id: int, row: TranscriptSegment | None) -> None:
    """The utterance had no speech after all: drop its provisional text, here and in viewers."""
    if row is None:
        return
    seq = live.next_seq(meeting_id)
    payload = segment_payload(row)
    row.delete()
    live.publish(meeting_id, {**payload, "seq": seq, "text": "", "final": True})


def replace_asr_track(meeting_id: int, versions: list[Recognised]) -> list[TranscriptSegment]:
    """Put a new recognition of a finished meeting in place of its whole `asr` track.

    Notes keep their sources: each decision or action item that cited old segments now cites
    the new ones spoken over the same time by the same person. Returns the new rows in order.
    """
    track = TranscriptSegment.objects.filter(
        meeting_id=meeting_id, source=TranscriptSegment.Source.ASR
    )
    with transaction.atomic():
        live.lock_meeting(meeting_id)
        old_spans = {
            row_id: (speaker, start, end)
            for row_id, speaker, start, end in track.values_list(
                "id", "speaker_user_id", "start_ms", "end_ms"
            )
        }
        track.delete()
        rows = []
        for version in sorted(versions, key=lambda v: (v.start_ms, v.speaker_user_id or 0)):
            text = " ".join(version.text.split())
            if not text:
                continue
            rows.append(
                TranscriptSegment.objects.create(
                    meeting_id=meeting_id,
                    seq=live.next_seq(meeting_id),
                    source=TranscriptSegment.Source.ASR,
                    dedupe_key=version.dedupe_key,
                    speaker_user_id=version.speaker_user_id,
                    speaker_name=version.speaker_name,
                    start_ms=version.start_ms,
                    end_ms=max(version.end_ms, version.start_ms),
                    text=text,
                    language=version.language,
                    final=True,
                    revision=version.revision,
                )
            )
        _cite_new_rows(meeting_id, old_spans, rows)
    return rows


def _cite_new_rows(
    meeting_id: int,
    old_spans: dict[int, tuple[int | None, int, int]],
    rows: list[TranscriptSegment],
) -> None:
    """Point the notes' citations of replaced segments at the rows now covering their time."""

    def successors(old_id: int) -> list[int]:
        span = old_spans.get(old_id)
        if span is None:
            return [old_id]  # not an `asr` segment (Zoom's track): untouched
        speaker, start, end = span
        return [
            row.pk
            for row in rows
            if row.speaker_user_id == speaker and row.start_ms < end and row.end_ms > start
        ]

    items: list[Decision | ActionItem] = [
        *Decision.objects.filter(meeting_id=meeting_id),
        *ActionItem.objects.filter(meeting_id=meeting_id),
    ]
    for item in items:
        cited = list(dict.fromkeys(i for old in item.segment_ids for i in successors(old)))
        if cited != item.segment_ids:
            item.segment_ids = cited
            item.save(update_fields=["segment_ids"])
