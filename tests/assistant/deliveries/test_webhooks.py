"""Signed webhooks, end to end: final notes stored -> job in process -> a real local receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.models import Delivery, DeliveryAttempt, Meeting
from assistant.services.deliveries import sending, signing
from assistant.services.notes import updates
from assistant.services.transcript import SegmentInput, record_segment
from tests.assistant.deliveries.conftest import (
    SECRET,
    Receiver,
    finish_and_deliver,
    webhook,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _export(user: User, meeting: Meeting) -> dict[str, object]:
    client = Client()
    client.force_login(user)
    document: dict[str, object] = json.loads(
        client.get(f"/meetings/{meeting.pk}/export.json").content
    )
    return document


def _without_export_time(document: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in document.items() if key != "exported_at"}


def test_final_notes_reach_the_hosts_webhook_signed_with_the_export_as_body(
    ended_meeting: Meeting, host: User, receiver: Receiver
) -> None:
    webhook(host, f"{receiver.url}/hooks/notes?team=7")
    finish_and_deliver(ended_meeting)

    [request] = receiver.received
    assert request.path == "/hooks/notes?team=7"
    assert request.headers["content-type"] == "application/json"
    # The receiver's own check, as the README shows it: HMAC-SHA256 over "<t>." + body.
    fields = dict(
        part.split("=", 1) for part in request.headers["x-meeting-notes-signature"].split(",")
    )
    expected = hmac.new(
        SECRET.encode(), f"{fields['t']}.".encode() + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert abs(int(fields["t"]) - time.time()) < 60
    assert signing.verify(
        SECRET, request.body, request.headers["x-meeting-notes-signature"], time.time()
    )
    assert not signing.verify(
        "another secret 0123456789",
        request.body,
        request.headers["x-meeting-notes-signature"],
        time.time(),
    )
    # The body is the meeting's JSON export (the time of export aside).
    body = json.loads(request.body)
    assert _without_export_time(body) == _without_export_time(_export(host, ended_meeting))
    assert body["notes"]["is_final"] is True
    assert body["decisions"], "the sample's decisions are in the notes"
    delivery = Delivery.objects.get(meeting=ended_meeting)
    assert request.headers["x-meeting-notes-delivery"] == str(delivery.delivery_id)
    assert request.headers["x-meeting-notes-event"] == "meeting.notes"
    assert delivery.state == Delivery.State.SENT and delivery.sent_at is not None
    assert delivery.trigger == Delivery.Trigger.FINAL


def test_a_5xx_is_retried_with_the_same_body_and_delivery_id_until_it_is_taken(
    ended_meeting: Meeting, host: User, receiver: Receiver
) -> None:
    receiver.script = [(500, {}), (503, {}), (200, {})]
    webhook(host, receiver.url)
    finish_and_deliver(ended_meeting)

    assert len(receiver.received) == 3
    assert len({r.body for r in receiver.received}) == 1
    assert len({r.headers["x-meeting-notes-delivery"] for r in receiver.received}) == 1
    delivery = Delivery.objects.get(meeting=ended_meeting)
    assert (delivery.state, delivery.attempts, delivery.error) == ("sent", 3, "")
    log = list(
        DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")
    )
    assert log == [(1, 500), (2, 503), (3, 200)]


def test_a_429_is_retried_and_a_4xx_is_not(
    ended_meeting: Meeting, host: User, receiver: Receiver, make_receiver: Callable[[], Receiver]
) -> None:
    receiver.script = [(429, {"Retry-After": "0"}), (200, {})]
    refusing = make_receiver()
    refusing.script = [(400, {})]
    taking = webhook(host, receiver.url)
    refused = webhook(host, refusing.url)
    finish_and_deliver(ended_meeting)

    assert len(receiver.received) == 2
    assert len(refusing.received) == 1
    sent = Delivery.objects.get(meeting=ended_meeting, target=taking)
    failed = Delivery.objects.get(meeting=ended_meeting, target=refused)
    assert (sent.state, sent.attempts) == ("sent", 2)
    assert (failed.state, failed.attempts, failed.error) == ("failed", 1, "HTTP 400: nope")


def test_attempts_stop_at_the_setting_and_the_delivery_fails(
    ended_meeting: Meeting, host: User, receiver: Receiver, settings: Settings
) -> None:
    settings.DELIVERY_MAX_ATTEMPTS = 3
    receiver.script = [(502, {})] * 5
    webhook(host, receiver.url)
    finish_and_deliver(ended_meeting)

    assert len(receiver.received) == 3
    delivery = Delivery.objects.get(meeting=ended_meeting)
    assert (delivery.state, delivery.attempts, delivery.error) == ("failed", 3, "HTTP 502: nope")


def test_a_delivery_job_run_again_sends_nothing_more(
    ended_meeting: Meeting, host: User, receiver: Receiver
) -> None:
    webhook(host, receiver.url)
    finish_and_deliver(ended_meeting)
    delivery = Delivery.objects.get(meeting=ended_meeting)

    # The broker hands the job over again (its worker died before acknowledging it).
    jobs.submit(jobs.DELIVER_NOTES, delivery.pk)
    jobs.submit(jobs.DELIVER_NOTES, delivery.pk)
    jobs.shutdown()
    # The final notes are written again (late captions): the target already has them.
    finish_and_deliver(ended_meeting)

    assert len(receiver.received) == 1
    assert Delivery.objects.filter(meeting=ended_meeting).count() == 1


def test_a_delivery_another_job_is_sending_is_left_to_it(
    ended_meeting: Meeting, host: User, receiver: Receiver
) -> None:
    target = webhook(host, receiver.url)
    delivery = Delivery.objects.create(
        meeting=ended_meeting, target=target, trigger="again", notes_version=1
    )
    assert sending._claim(delivery.pk, "job-a")

    assert sending.deliver(delivery.pk, job_id="job-b") == "sending"
    assert receiver.received == []
    # The same job delivered again (its worker died mid-send) takes its claim back and sends,
    # under the same delivery id, for the receiver to dedupe.
    assert sending.deliver(delivery.pk, job_id="job-a") == "sent"
    [request] = receiver.received
    assert request.headers["x-meeting-notes-delivery"] == str(delivery.delivery_id)


def test_a_site_wide_target_gets_every_hosts_meetings(
    ended_meeting: Meeting,
    outsider: User,
    receiver: Receiver,
    make_receiver: Callable[[], Receiver],
) -> None:
    others = make_receiver()
    webhook(None, receiver.url)  # the site's, set by staff
    webhook(outsider, others.url)  # another host's: not for this meeting
    finish_and_deliver(ended_meeting)

    assert len(receiver.received) == 1
    assert others.received == []


def test_rolling_notes_are_not_delivered_only_final_ones(
    make_meeting: Callable[..., Meeting], host: User, receiver: Receiver, local_urls: None
) -> None:
    webhook(host, receiver.url)
    live = make_meeting(owner=host, state=Meeting.State.LIVE)
    for n, text in enumerate(["We agreed to ship on Friday.", "I will write the notes."]):
        record_segment(
            live.pk, SegmentInput("native", 7, "Ana Lima", n * 3000, n * 3000 + 2000, text)
        )
    assert updates.update(live.pk)
    jobs.shutdown()
    assert receiver.received == [] and not Delivery.objects.exists()

    silent = make_meeting(owner=host, state=Meeting.State.ENDED)
    finish_and_deliver(silent)  # nothing was said: nothing to deliver
    assert receiver.received == [] and not Delivery.objects.exists()
