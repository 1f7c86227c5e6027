"""Fencing the ingest's writes: one stream, one writer, even across a takeover.

Each ingest writes for a stream under the generation of the stream's lease (a number that grows
each time the lease is taken). The newest generation that wrote is kept on the meeting; a write
under an older one is refused with StaleWriter, in the same transaction and under the meeting's
row lock as the write itself. So an ingest that was paused past its lease and wakes up after
another took the stream over writes nothing more: no segment is stored twice, none is lost.

An ingest that hands a stream over on purpose (shutting down) says so first (`hand_over`): its
successor's handshake ends its connection, and what it had read until then is still its own to
write, so its generation stays allowed. Generation 0 means "not fenced" (no lease).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import transaction

from assistant.models import Meeting

__all__ = ["StaleWriter", "check_writer", "hand_over", "write_as"]

T = TypeVar("T")
P = ParamSpec("P")


class StaleWriter(Exception):
    """A newer lease generation has written for this stream: this writer must stop."""

    def __init__(self, meeting_id: int, generation: int, current: int) -> None:
        super().__init__(
            f"meeting {meeting_id}: generation {generation} is stale (the stream is written "
            f"under {current} now)"
        )
        self.current = current


def write_as(
    meeting_id: int,
    generation: int,
    function: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run a write of the stream's meeting as the holder of `generation`, or refuse it."""
    if not generation:
        return function(*args, **kwargs)
    with transaction.atomic():
        row = (
            Meeting.objects.select_for_update()
            .filter(pk=meeting_id)
            .values_list("writer_generation", "handed_over_generation")
            .first()
        )
        if row is not None:
            _check(meeting_id, generation, *row)
            if row[0] < generation:
                Meeting.objects.filter(pk=meeting_id).update(writer_generation=generation)
        return function(*args, **kwargs)


def check_writer(meeting_id: int, generation: int) -> None:
    """Refuse (StaleWriter) a writer whose generation is older than the meeting's newest.

    Without a lock: for work handed on rather than written here (audio for transcription),
    which a takeover a moment later does not make wrong, only no longer this writer's to send.
    """
    if not generation:
        return
    row = (
        Meeting.objects.filter(pk=meeting_id)
        .values_list("writer_generation", "handed_over_generation")
        .first()
    )
    if row is not None:
        _check(meeting_id, generation, *row)


def hand_over(meeting_id: int, generation: int) -> None:
    """The holder of `generation` lets the stream go on purpose: it may finish its writes."""
    Meeting.objects.filter(pk=meeting_id, writer_generation__lte=generation).update(
        handed_over_generation=generation
    )


def _check(meeting_id: int, generation: int, current: int, handed_over: int) -> None:
    if current > generation and generation != handed_over:
        raise StaleWriter(meeting_id, generation, current)
