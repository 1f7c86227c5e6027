"""When notes are delivered: once per target when final notes are first stored, and on request.

Final notes are written again as late captions arrive (our recogniser finishes the last
sentences after the meeting ended) and after a re-transcription: each target still gets the
meeting's final notes once by itself (a unique row per meeting and target), carrying the notes
as they are when its job runs; the host's "Send notes again" sends the notes as they are then.
Each delivery is one job (`assistant.deliver_notes`), handed over once the rows are committed.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assistant import jobs
from assistant.models import Delivery, Meeting, MeetingNotes
from assistant.services import tracks
from assistant.services.deliveries import targets

log = logging.getLogger(__name__)

State = Delivery.State
# "Send notes again" leaves alone a target that got them less than this long ago.
AGAIN_AFTER_S = 60


class NotReady(Exception):
    """The meeting's notes cannot be sent now; the message says why, for the host."""


def final_notes_stored(meeting_id: int) -> int:
    """Queue the first delivery of a meeting's final notes to each of its targets; how many."""
    meeting = Meeting.objects.filter(pk=meeting_id).first()
    notes = MeetingNotes.objects.filter(meeting_id=meeting_id, is_final=True).first()
    # A meeting deleted meanwhile, or one that said nothing, has nothing to tell anyone.
    if meeting is None or notes is None or not tracks.primary_track(meeting_id).exists():
        return 0
    created = []
    with transaction.atomic():
        for target in targets.targets_for(meeting):
            delivery, new = Delivery.objects.get_or_create(
                meeting=meeting,
                target=target,
                trigger=Delivery.Trigger.FINAL,
                defaults={"notes_version": notes.version},
            )
            if new:
                created.append(delivery.pk)
        _submit_on_commit(created)
    return len(created)


def send_again(meeting: Meeting, user: User) -> int:
    """The host's "Send notes again": one new delivery per target not being sent; how many.

    A delivery still waiting for its job (one whose job was lost with a broker outage) is
    handed to a job again: the claim makes sure only one of its jobs sends it. A target that
    got the notes less than AGAIN_AFTER_S ago is left alone (a double click, or a host
    repeating the site's channel).
    """
    if meeting.is_live:
        raise NotReady("The meeting is still live: its notes are sent once it has ended.")
    notes = MeetingNotes.objects.filter(meeting_id=meeting.pk).first()
    if notes is None or not notes.is_final:
        raise NotReady("The final notes are not ready yet.")
    chosen = targets.targets_for(meeting)
    if not chosen:
        raise NotReady("There is no delivery target for this meeting.")
    queued = []
    with transaction.atomic():
        for target in chosen:
            latest = Delivery.objects.filter(meeting=meeting, target=target).first()
            if latest is not None and latest.state == State.SENDING:
                continue
            if latest is not None and latest.state == State.SENT and _recent(latest):
                continue
            if latest is not None and latest.state == State.PENDING:
                queued.append(latest.pk)
                continue
            delivery = Delivery.objects.create(
                meeting=meeting,
                target=target,
                trigger=Delivery.Trigger.AGAIN,
                requested_by=user,
                notes_version=notes.version,
            )
            queued.append(delivery.pk)
        _submit_on_commit(queued)
    return len(queued)


def _recent(delivery: Delivery) -> bool:
    return delivery.created_at > timezone.now() - timedelta(seconds=AGAIN_AFTER_S)


def _submit_on_commit(delivery_ids: list[int]) -> None:
    """One job per delivery, handed over at commit; a broker that is away is logged, not raised.

    The rows stay pending: "Send notes again" hands them to a job later.
    """

    def hand_over() -> None:
        for pk in delivery_ids:
            try:
                jobs.submit(jobs.DELIVER_NOTES, pk)
            except jobs.JobNotQueued as exc:
                log.warning("delivery %s not queued (%s): it waits for 'Send notes again'", pk, exc)

    transaction.on_commit(hand_over)
