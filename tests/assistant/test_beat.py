"""The embedded shape's beat: its scheduled tasks run in process, on their intervals."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.models import Meeting
from assistant.wiring import beat

SCHEDULE = {
    "often": {"task": "t.often", "schedule": 10},
    "rarely": {"task": "t.rarely", "schedule": 60},
    "sweep": {"task": "t.sweep", "schedule": 5},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_entry_is_due_one_interval_after_the_start_and_then_every_interval() -> None:
    clock = Clock()
    schedule = beat.InProcessBeat(SCHEDULE, ["often", "rarely"], lambda name: None, clock)

    assert schedule.due() == []
    assert schedule.seconds_to_next() == 10
    clock.now += 10
    assert schedule.due() == ["t.often"]
    clock.now += 55  # late: due once, not once per interval missed
    assert sorted(schedule.due()) == ["t.often", "t.rarely"]
    assert schedule.due() == []
    assert schedule.seconds_to_next() == 10


def test_only_the_entries_named_run_and_a_wrong_name_is_refused() -> None:
    clock = Clock()
    schedule = beat.InProcessBeat(SCHEDULE, ["rarely"], lambda name: None, clock)
    clock.now += 60
    assert schedule.due() == ["t.rarely"]  # not the sweep, due every 5 s

    with pytest.raises(ValueError, match="nightly"):
        beat.InProcessBeat(SCHEDULE, ["nightly"], lambda name: None, clock)


def test_the_loop_submits_what_is_due_and_survives_a_failed_submission() -> None:
    submitted: list[str] = []
    stopping = threading.Event()

    def submit(name: str) -> None:
        submitted.append(name)
        if len(submitted) == 1:
            raise RuntimeError("the pool refused it")
        if len(submitted) >= 3:
            stopping.set()

    quick = {"quick": {"task": "t.quick", "schedule": 0.02}}
    runner = threading.Thread(
        target=beat.InProcessBeat(quick, ["quick"], submit).run, args=(stopping,)
    )
    runner.start()
    runner.join(5)

    assert not runner.is_alive()
    assert submitted == ["t.quick"] * 3


@pytest.mark.django_db(transaction=True)
def test_the_embedded_beat_runs_meeting_retention_in_process(
    settings: Settings, admin_user: User
) -> None:
    settings.JOBS_IN_PROCESS = True
    settings.MEETING_RETENTION_DAYS = 30
    expired = Meeting.objects.create(
        zoom_id="old==", state=Meeting.State.ENDED, owner=admin_user, topic="Old"
    )
    Meeting.objects.filter(pk=expired.pk).update(ended_at=timezone.now() - timedelta(days=31))
    stopping = threading.Event()
    schedule = {"purge": {"task": "assistant.purge_expired_meetings", "schedule": 0.05}}
    runner = threading.Thread(
        target=beat.InProcessBeat(schedule, ["purge"], jobs.submit).run, args=(stopping,)
    )
    runner.start()
    try:
        for _ in range(100):
            if not Meeting.objects.filter(pk=expired.pk).exists():
                break
            stopping.wait(0.05)
    finally:
        stopping.set()
        runner.join(5)

    assert not Meeting.objects.filter(pk=expired.pk).exists()


def test_the_beat_starts_only_where_jobs_run_in_process(settings: Settings) -> None:
    settings.JOBS_IN_PROCESS = False
    assert beat.start_in_process_beat() is None
