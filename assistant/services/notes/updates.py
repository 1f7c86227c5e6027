"""When and how notes are updated: the trigger, the per-meeting lock, the engine, final notes.

Notes read the meeting's primary track (services/tracks.py) and remember which one
(MeetingNotes.track). Notes built from another track than the primary one now (the host chose
another, or notes from before tracks were recorded) are built again from the start: the next
update or the final notes start from an empty draft, and store.save replaces what the engines
wrote before (hosts' edits are kept). Likewise with the meeting's notes template
(meeting_template.py; MeetingNotes.template): notes written with another are built again.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from assistant import jobs
from assistant.models import Meeting, MeetingNotes, Participant
from assistant.services import slides, tracks
from assistant.services.deliveries import scheduling
from assistant.services.notes import extractive, llm_engine, meeting_template, store
from assistant.services.notes.draft import NotesDraft, Utterance
from assistant.services.notes.engine_choice import EXTRACTIVE, LLM, engine_name
from assistant.services.notes.llm_client import LlmConfig, LlmError
from assistant.services.notes.templates import Template

log = logging.getLogger(__name__)

# One update reads at most this many new segments (the rest waits for the next one), so a
# backlog never makes one prompt unbounded.
MAX_SEGMENTS_PER_UPDATE = 200


def segment_stored(meeting_id: int) -> bool:
    """Queue a notes update if enough new transcript arrived since the last one; queued?"""
    notes, _ = MeetingNotes.objects.get_or_create(meeting_id=meeting_id)
    if notes.update_queued or notes.is_final or not _enough_new(notes):
        return False
    return queue_update(meeting_id)


def queue_update(meeting_id: int) -> bool:
    """Queue a rolling update of the notes now, unless one is queued already; queued?"""
    # Conditional UPDATE: of many segments stored at once, one queues the job.
    queued = MeetingNotes.objects.filter(meeting_id=meeting_id, update_queued=False)
    if not queued.update(update_queued=True):
        return False
    try:
        jobs.submit(jobs.UPDATE_NOTES, meeting_id)
    except jobs.JobNotQueued as exc:
        # Left set, the flag would stop every later update of the meeting: the next segment
        # stored (or the end of the meeting) asks again.
        MeetingNotes.objects.filter(meeting_id=meeting_id).update(update_queued=False)
        log.warning(
            "meeting %s: notes update not queued (%s); the next segment asks again", meeting_id, exc
        )
        return False
    return True


def meeting_ended(meeting_id: int) -> None:
    """Queue the final notes of a meeting that ended."""
    MeetingNotes.objects.get_or_create(meeting_id=meeting_id)
    jobs.submit(jobs.FINAL_NOTES, meeting_id)


def update_thresholds() -> tuple[int, int]:
    """New segments, or seconds of new speech, that call for an update with the engine in use."""
    # The extract costs no tokens, so it may follow the meeting closely; the LLM waits longer.
    if engine_name() == LLM:
        return settings.NOTES_UPDATE_SEGMENTS, settings.NOTES_UPDATE_SECONDS
    return settings.NOTES_EXTRACT_UPDATE_SEGMENTS, settings.NOTES_EXTRACT_UPDATE_SECONDS


def _read_from(meeting_id: int) -> str:
    """The track the meeting's notes are to be built from now: its primary track."""
    meeting = Meeting.objects.only(*tracks.RULE_FIELDS).get(pk=meeting_id)
    return tracks.primary_source(meeting)


def _covered_seq(notes: MeetingNotes, source: str) -> int:
    """Where reading `source` goes on from: after the notes, or from the start for new notes."""
    return notes.covered_seq if notes.track == source else 0


def _start_over(notes: MeetingNotes, source: str, template: Template) -> bool:
    """Whether the notes are to be built again: from another track, or another template."""
    return notes.track != source or meeting_template.notes_key(notes.template) != template.key


def _enough_new(notes: MeetingNotes) -> bool:
    """Whether the segments after the notes reach the engine's update thresholds."""
    source = _read_from(notes.meeting_id)
    new = tracks.final_segments(notes.meeting_id, source).filter(
        seq__gt=_covered_seq(notes, source)
    )
    stats = new.aggregate(n=Count("id"), first=Min("start_ms"), last=Max("end_ms"))
    if not stats["n"]:
        return False
    segments, seconds = update_thresholds()
    if stats["n"] >= segments:
        return True
    since = notes.covered_end_ms if notes.covered_end_ms is not None else stats["first"]
    return int(stats["last"]) - int(since) >= seconds * 1000


def update(meeting_id: int, job_id: str | None = None) -> bool:
    """Bring the rolling notes up to date with the new segments; False if another update runs.

    `job_id` names the job (the same on each delivery of it): run again after its worker died
    holding the lock, the job takes its own lock back instead of waiting for it to expire.
    """
    token = _claim(meeting_id, job_id)
    if token is None:
        # The running update looks for new segments when it ends; let it queue the next job.
        MeetingNotes.objects.filter(meeting_id=meeting_id).update(update_queued=False)
        return False
    try:
        notes = MeetingNotes.objects.get(meeting_id=meeting_id)
        source = _read_from(meeting_id)
        ctx = _context(meeting_id)
        start_over = _start_over(notes, source, ctx.template)
        after = 0 if start_over else notes.covered_seq
        new = utterances(meeting_id, source, after_seq=after, limit=MAX_SEGMENTS_PER_UPDATE)
        if new and not notes.is_final:
            current = store.kept_draft(meeting_id) if start_over else store.draft_of(notes)
            draft, outcome = _rolling(current, new, ctx)
            store.save(
                meeting_id,
                draft,
                outcome,
                covered_seq=new[-1].seq,
                covered_end_ms=max(u.end_ms for u in new),
                lock_token=token,
                track=source,
                template=ctx.template.key,
                start_over=start_over,
            )
    finally:
        _release(meeting_id, token)
    # Segments that arrived during the update (or beyond this batch) may call for another.
    segment_stored(meeting_id)
    return True


def finish(meeting_id: int, wait_s: float = 120.0, job_id: str | None = None) -> bool:
    """Write the final notes from the whole transcript (waits for a running update)."""
    deadline = time.monotonic() + wait_s
    token = _claim(meeting_id, job_id)
    while token is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
        token = _claim(meeting_id, job_id)
    try:
        source = _read_from(meeting_id)
        everything = utterances(meeting_id, source, after_seq=0, limit=None)
        ctx = _context(meeting_id)
        notes = MeetingNotes.objects.get(meeting_id=meeting_id)
        start_over = _start_over(notes, source, ctx.template)
        # Up-to-date LLM notes of the same track and template are refined with the rest;
        # otherwise map-reduce everything.
        current = None
        if (
            not start_over
            and notes.engine == LLM
            and notes.status == MeetingNotes.Status.OK
            and notes.version
        ):
            current = (store.draft_of(notes), notes.covered_seq)
        draft, outcome = _final(everything, ctx, current)
        last = everything[-1] if everything else None
        saved = store.save(
            meeting_id,
            draft,
            outcome,
            covered_seq=last.seq if last else 0,
            covered_end_ms=max((u.end_ms for u in everything), default=None),
            lock_token=token,
            track=source,
            template=ctx.template.key,
            start_over=start_over,
        )
    finally:
        _release(meeting_id, token)
    if saved is not None:
        # The final notes are committed: their deliveries are queued (once per target).
        scheduling.final_notes_stored(meeting_id)
    return True


@dataclass(frozen=True)
class _Meeting:
    """What the engines need to know about a meeting besides its transcript."""

    said_on: date
    speakers: list[str]
    topic: str
    template: Template


def _context(meeting_id: int) -> _Meeting:
    """The meeting's date, speakers, topic and notes template."""
    meeting = Meeting.objects.get(pk=meeting_id)
    started = meeting.started_at or meeting.created_at
    names = list(Participant.objects.filter(meeting_id=meeting_id).values_list("name", flat=True))
    return _Meeting(
        timezone.localdate(started),
        [n for n in names if n],
        meeting.topic,
        meeting_template.for_meeting(meeting),
    )


def _rolling(
    current: NotesDraft, new: list[Utterance], ctx: _Meeting
) -> tuple[NotesDraft, store.Outcome]:
    """The next notes: the extract always (it is cheap and keeps its state), the LLM's if on."""
    extract = extractive.update(
        current, new, said_on=ctx.said_on, speakers=ctx.speakers, template=ctx.template
    )
    if engine_name() != LLM:
        return extract, store.Outcome(EXTRACTIVE)
    try:
        notes = llm_engine.update(
            LlmConfig.from_settings(), current, new, said_on=ctx.said_on, template=ctx.template
        )
    except LlmError as exc:
        log.warning("notes LLM failed, showing the extract: %s", exc)
        return extract, store.Outcome(EXTRACTIVE, exc.status, str(exc))
    notes.engine_state = extract.engine_state
    return notes, store.Outcome(LLM)


def _final(
    everything: list[Utterance], ctx: _Meeting, current: tuple[NotesDraft, int] | None
) -> tuple[NotesDraft, store.Outcome]:
    """Final notes: the extract of the whole meeting, or the LLM's (refine or map-reduce)."""
    extract = extractive.final(
        everything,
        said_on=ctx.said_on,
        speakers=ctx.speakers,
        topic=ctx.topic,
        template=ctx.template,
    )
    if engine_name() != LLM or not everything:
        return extract, store.Outcome(EXTRACTIVE, final=True)
    config, chunk_tokens = LlmConfig.from_settings(), settings.LLM_CHUNK_TOKENS
    try:
        if current is not None:
            rolling, covered_seq = current
            tail = [u for u in everything if u.seq > covered_seq]
            notes = llm_engine.refine_final(
                config,
                rolling,
                tail,
                said_on=ctx.said_on,
                chunk_tokens=chunk_tokens,
                template=ctx.template,
            )
        else:
            notes = llm_engine.final(
                config,
                everything,
                said_on=ctx.said_on,
                chunk_tokens=chunk_tokens,
                template=ctx.template,
            )
    except LlmError as exc:
        log.warning("final notes LLM failed, showing the extract: %s", exc)
        return extract, store.Outcome(EXTRACTIVE, exc.status, str(exc), final=True)
    notes.engine_state = extract.engine_state
    notes.title = notes.title or ctx.topic
    return notes, store.Outcome(LLM, final=True)


def utterances(
    meeting_id: int, source: str, *, after_seq: int, limit: int | None
) -> list[Utterance]:
    """The final segments of one track after a seq, in order, as the engines read them."""
    rows = (
        tracks.final_segments(meeting_id, source)
        .filter(seq__gt=after_seq)
        .order_by("seq")
        .values_list("pk", "seq", "speaker_name", "start_ms", "end_ms", "text")
    )
    picked = rows[:limit] if limit is not None else rows
    return slides.with_slide_titles(meeting_id, [Utterance(*row) for row in picked])


def _claim(meeting_id: int, job_id: str | None = None) -> str | None:
    """Take the meeting's notes lock (a conditional UPDATE); its token, or None if held.

    The token is the job's id when given: a lock held under it is the same job's, left by a
    worker that died (the job is delivered again only once that worker is gone).
    """
    MeetingNotes.objects.get_or_create(meeting_id=meeting_id)
    token = job_id or uuid.uuid4().hex
    now = timezone.now()
    taken = (
        MeetingNotes.objects.filter(meeting_id=meeting_id)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now) | Q(lock_token=token))
        .update(
            locked_until=now + timedelta(seconds=settings.NOTES_LOCK_S),
            lock_token=token,
            update_queued=False,
        )
    )
    return token if taken else None


def _release(meeting_id: int, token: str) -> None:
    """Give the lock back, if it is still ours."""
    MeetingNotes.objects.filter(meeting_id=meeting_id, lock_token=token).update(
        locked_until=None, lock_token=""
    )
