"""The production shape: a delivery job on Redis, run by a real Celery worker (queue `celery`)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from assistant.models import Delivery, Meeting
from assistant.services import sealing
from assistant.services.deliveries import signing
from assistant.services.notes import updates
from tests.assistant.deliveries.conftest import SECRET, Receiver, webhook
from tests.integration.stack import ROOT, celery_worker_argv, stack_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.timeout(120)
def test_a_celery_worker_delivers_the_final_notes_signed(
    ended_meeting: Meeting, host: User, receiver: Receiver, settings: Settings, tmp_path: Path
) -> None:
    key = sealing.new_key()
    settings.DATA_ENCRYPTION_KEYS = [key]
    webhook(host, receiver.url)
    settings.JOBS_IN_PROCESS = False  # the job goes to Redis, for a worker
    assert updates.finish(ended_meeting.pk)

    db = django_settings.DATABASES["default"]
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = stack_env(database_url, django_settings.REDIS_URL)
    env.update(DATA_ENCRYPTION_KEYS=key, DELIVERY_ALLOW_PRIVATE_URLS="1")
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            celery_worker_argv("celery"), cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 60
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.received, log_path.read_text()[-3000:]
        delivery = Delivery.objects.get(meeting=ended_meeting)
        while delivery.state != "sent" and time.monotonic() < deadline:
            time.sleep(0.2)
            delivery.refresh_from_db()
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    [request] = receiver.received
    header = request.headers["x-meeting-notes-signature"]
    assert signing.verify(SECRET, request.body, header, time.time())
    assert request.headers["x-meeting-notes-delivery"] == str(delivery.delivery_id)
    assert delivery.state == "sent"
