"""Slack and email deliveries, end to end: a local Slack stand-in, Django's locmem email backend."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.models import Delivery, Meeting, Participant
from assistant.services.deliveries import slack as slack_message
from assistant.services.transcript import SegmentInput, record_segment
from tests.assistant.deliveries.conftest import Receiver, email, finish_and_deliver, slack

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE = (
    "Decision: we ship <!channel> on Friday, see <https://evil.example|the plan> and <a|b> & co."
)


def _say(meeting: Meeting, text: str, start_ms: int = 200_000) -> None:
    """One more line of transcript, as the ingest stores it (its notes job runs meanwhile)."""
    record_segment(
        meeting.pk,
        SegmentInput(
            source="native",
            speaker_user_id=16778240,
            speaker_name="Priya <@U024BE7LH> Raman",
            start_ms=start_ms,
            end_ms=start_ms + 3000,
            text=text,
        ),
    )
    jobs.shutdown()


def test_slack_escape_leaves_no_mention_link_or_command() -> None:
    assert slack_message.escape("<!channel>") == "&lt;!channel&gt;"
    assert slack_message.escape("<a|b>") == "&lt;a|b&gt;"
    assert slack_message.escape("R&D <@U1>") == "R&amp;D &lt;@U1&gt;"


def test_the_slack_message_has_the_notes_and_only_our_link(
    ended_meeting: Meeting, host: User, receiver: Receiver
) -> None:
    _say(ended_meeting, HOSTILE)
    slack(host, f"{receiver.url}/services/T000/B000/XXXX")
    finish_and_deliver(ended_meeting)

    [request] = receiver.received
    assert request.path == "/services/T000/B000/XXXX"
    body = json.loads(request.body)
    text = body["text"]
    assert body["unfurl_links"] is False and "link_names" not in body
    # The only markup Slack would read is our link to the meeting page.
    assert re.findall(r"<[^>]*>", text) == [
        f"<https://notes.example.com/meetings/{ended_meeting.pk}/|Open the meeting notes>"
    ]
    assert "&lt;!channel&gt;" in text and "&lt;a|b&gt;" in text and "&amp; co" in text
    assert text.startswith(f"*{ended_meeting.topic}*\nMon 11 Mar 2024, 09:00")
    assert "*Decisions*" in text and "*Action items*" in text
    # An action item with its owner and due date, as the sample gives them.
    assert "\n• Accessibility fixes (Zoë Müller, due 2024-03-12)\n" in text
    assert Delivery.objects.get(meeting=ended_meeting).state == "sent"


def test_a_slack_url_off_slacks_hosts_is_refused_when_sent(
    ended_meeting: Meeting, host: User, receiver: Receiver, settings: Settings
) -> None:
    slack(host, receiver.url)
    settings.SLACK_WEBHOOK_HOSTS = ["hooks.slack.com"]
    finish_and_deliver(ended_meeting)

    assert receiver.received == []
    delivery = Delivery.objects.get(meeting=ended_meeting)
    assert delivery.state == "failed" and "hooks.slack.com" in delivery.error


def test_the_email_goes_to_the_host_known_participants_and_extra_addresses(
    ended_meeting: Meeting, host: User
) -> None:
    first = Participant.objects.filter(meeting=ended_meeting).order_by("id").first()
    assert first is not None
    Participant.objects.filter(pk=first.pk).update(email="zoe@example.com")
    _say(ended_meeting, "Decision: the <script>alert(1)</script> banner goes & stays.")
    email(host, "lead@example.com\nHOST@example.com")
    finish_and_deliver(ended_meeting)

    [message] = mail.outbox
    assert isinstance(message, EmailMultiAlternatives)
    assert message.to == ["host@example.com", "zoe@example.com", "lead@example.com"]
    assert message.subject == f"Meeting notes: {ended_meeting.topic}"
    assert f"https://notes.example.com/meetings/{ended_meeting.pk}/" in message.body
    assert "<script>alert(1)</script>" in message.body  # plain text: as said
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and isinstance(html, str)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert Delivery.objects.get(meeting=ended_meeting).state == "sent"


def test_an_email_with_nobody_to_send_to_fails_with_the_reason(
    ended_meeting: Meeting, host: User
) -> None:
    host.email = ""
    host.save(update_fields=["email"])
    email(host)
    finish_and_deliver(ended_meeting)

    assert mail.outbox == []
    delivery = Delivery.objects.get(meeting=ended_meeting)
    assert (delivery.state, delivery.error) == ("failed", "no recipient has an email address")
