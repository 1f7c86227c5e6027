"""Who sees and changes what: a host's own targets, the meeting's deliveries, the admin's log."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from assistant import jobs
from assistant.models import Delivery, DeliveryAttempt, DeliveryTarget, Meeting
from tests.assistant.deliveries.conftest import (
    SECRET,
    Receiver,
    email,
    finish_and_deliver,
    webhook,
)

pytestmark = pytest.mark.django_db(transaction=True)

SLACK_URL = "https://hooks.slack.com/services/T000/B000/token-that-stays-secret"


def _client(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def _token(client: Client, path: str) -> str:
    """The CSRF token a page gives its forms (and sets as the cookie)."""
    html = client.get(path).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_a_host_sees_only_their_own_targets(host: User, outsider: User) -> None:
    webhook(host, "https://hooks.example.com/mine")
    webhook(outsider, "https://other.example.org/theirs")
    webhook(None, "https://site.example.net/all")

    page = _client(host).get(reverse("delivery-settings")).content.decode()

    assert "hooks.example.com" in page
    assert "other.example.org" not in page and "site.example.net" not in page
    assert "/mine" not in page  # only the host of a URL is ever shown


def test_a_host_cannot_delete_another_hosts_target(host: User, outsider: User) -> None:
    theirs = webhook(outsider, "https://other.example.org/theirs")

    response = _client(host).post(reverse("delivery-target-delete", args=[theirs.pk]))

    assert response.status_code == 404
    assert DeliveryTarget.objects.filter(pk=theirs.pk).exists()


def test_writes_on_the_settings_page_need_the_csrf_token(host: User) -> None:
    client = _client(host, csrf=True)
    form = {"kind": "slack", "name": "#team", "url": SLACK_URL}

    refused = client.post(reverse("delivery-settings"), form)
    assert refused.status_code == 403
    assert not DeliveryTarget.objects.exists()

    token = _token(client, reverse("delivery-settings"))
    added = client.post(reverse("delivery-settings"), {**form, "csrfmiddlewaretoken": token})
    assert added.status_code == 302
    target = DeliveryTarget.objects.get()
    assert client.post(reverse("delivery-target-delete", args=[target.pk])).status_code == 403
    assert DeliveryTarget.objects.filter(pk=target.pk).exists()


def test_a_target_added_on_the_page_is_the_hosts_and_its_secrets_are_never_shown(
    host: User,
) -> None:
    client = _client(host)
    client.post(
        reverse("delivery-settings"),
        {
            "kind": "webhook",
            "name": "CRM",
            "url": "https://crm.example.com/in/k3y",
            "secret": SECRET,
        },
    )
    client.post(reverse("delivery-settings"), {"kind": "slack", "name": "#team", "url": SLACK_URL})

    assert set(DeliveryTarget.objects.values_list("owner", "kind")) == {
        (host.pk, "webhook"),
        (host.pk, "slack"),
    }
    page = client.get(reverse("delivery-settings")).content.decode()
    assert "crm.example.com" in page and "hooks.slack.com" in page
    for secret in ("k3y", SECRET, "token-that-stays-secret"):
        assert secret not in page


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"kind": "slack", "url": "https://example.com/services/x"}, "hooks.slack.com"),
        ({"kind": "webhook", "url": "http://crm.example.com/in", "secret": SECRET}, "https"),
        ({"kind": "webhook", "url": "https://crm.example.com/in", "secret": "short"}, "16"),
        ({"kind": "email", "recipients": "someone, not-an-address"}, "not an email address"),
    ],
)
def test_the_form_refuses_what_cannot_be_delivered(
    host: User, form: dict[str, str], error: str
) -> None:
    response = _client(host).post(reverse("delivery-settings"), {"name": "T", **form})

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not DeliveryTarget.objects.exists()


def test_the_meeting_page_shows_where_the_notes_went(
    ended_meeting: Meeting, host: User, receiver: Receiver, make_receiver: Callable[[], Receiver]
) -> None:
    failing = make_receiver()
    failing.script = [(404, {})]
    webhook(host, receiver.url)
    webhook(host, failing.url)
    email(host)
    host.email = ""
    host.save(update_fields=["email"])
    finish_and_deliver(ended_meeting)

    page = _client(host).get(reverse("meeting-detail", args=[ended_meeting.pk])).content.decode()

    part = page[page.index('data-role="deliveries"') :]
    states = [
        " ".join(s.split())
        for s in re.findall(r'data-role="delivery-state">(.*?)</span>', part, re.S)
    ]
    assert len(states) == 3
    assert any(s.startswith("Sent <time") for s in states)
    assert "Failed: HTTP 404: nope" in states
    assert "Failed: no recipient has an email address" in states
    assert "Send notes again" in part


def test_a_delivery_waiting_for_its_job_reads_pending(ended_meeting: Meeting, host: User) -> None:
    target = webhook(host, "https://hooks.example.com/x")
    Delivery.objects.create(meeting=ended_meeting, target=target, trigger="final", notes_version=1)

    page = _client(host).get(reverse("meeting-detail", args=[ended_meeting.pk])).content.decode()

    assert re.search(r'data-role="delivery-state">\s*Pending\s*</span>', page)


def _a_while_ago(meeting: Meeting) -> None:
    """The meeting's deliveries were made a few minutes ago."""
    Delivery.objects.filter(meeting=meeting).update(
        created_at=timezone.now() - dt.timedelta(minutes=5)
    )


def test_send_notes_again_sends_them_once_more_on_a_csrf_checked_post(
    ended_meeting: Meeting, host: User, receiver: Receiver
) -> None:
    webhook(host, receiver.url)
    finish_and_deliver(ended_meeting)
    _a_while_ago(ended_meeting)
    client = _client(host, csrf=True)
    send = reverse("meeting-send-notes", args=[ended_meeting.pk])

    assert client.post(send).status_code == 403
    token = _token(client, reverse("meeting-detail", args=[ended_meeting.pk]))
    assert client.post(send, {"csrfmiddlewaretoken": token}).status_code == 302
    jobs.shutdown()

    assert len(receiver.received) == 2
    first, again = receiver.received
    assert first.headers["x-meeting-notes-delivery"] != again.headers["x-meeting-notes-delivery"]
    latest = Delivery.objects.filter(meeting=ended_meeting).first()
    assert latest is not None
    assert (latest.trigger, latest.state, latest.requested_by_id) == ("again", "sent", host.pk)


def test_only_the_host_and_staff_see_the_deliveries_and_may_send_them(
    ended_meeting: Meeting, host: User, outsider: User, admin_user: User, receiver: Receiver
) -> None:
    webhook(host, receiver.url)
    finish_and_deliver(ended_meeting)
    _a_while_ago(ended_meeting)
    detail = reverse("meeting-detail", args=[ended_meeting.pk])
    send = reverse("meeting-send-notes", args=[ended_meeting.pk])

    assert _client(outsider).get(detail).status_code == 404
    assert _client(outsider).post(send).status_code == 404
    assert 'data-role="deliveries"' in _client(admin_user).get(detail).content.decode()
    assert _client(admin_user).post(send).status_code == 302
    jobs.shutdown()
    assert len(receiver.received) == 2


def test_the_admin_shows_each_delivery_with_every_attempt(
    ended_meeting: Meeting, host: User, admin_user: User, receiver: Receiver
) -> None:
    receiver.script = [(500, {}), (200, {})]
    webhook(host, receiver.url)
    finish_and_deliver(ended_meeting)
    delivery = Delivery.objects.get(meeting=ended_meeting)
    client = _client(admin_user)

    listing = client.get(reverse("admin:assistant_delivery_changelist")).content.decode()
    page = client.get(
        reverse("admin:assistant_delivery_change", args=[delivery.pk])
    ).content.decode()

    assert "Team hook" in listing and "Sent" in listing
    assert str(delivery.delivery_id) in page
    cells = re.findall(r'<td class="field-status_code">\s*<p>(\d+)</p>', page)
    assert cells == ["500", "200"]
    assert page.count('class="field-duration_ms"') == 2


def test_staff_add_a_site_target_in_the_admin_and_never_see_its_url_again(
    admin_user: User, settings: Settings
) -> None:
    client = _client(admin_user)
    add = reverse("admin:assistant_deliverytarget_add")
    response = client.post(
        add,
        {
            "name": "All meetings",
            "kind": "slack",
            "url": SLACK_URL,
            "enabled": "on",
            "recipients": "",
        },
    )

    assert response.status_code == 302
    target = DeliveryTarget.objects.get()
    assert target.owner is None and target.url_host == "hooks.slack.com"
    page = client.get(reverse("admin:assistant_deliverytarget_change", args=[target.pk]))
    assert "token-that-stays-secret" not in page.content.decode()


def test_sending_again_right_after_a_delivery_sends_nothing_more(
    ended_meeting: Meeting, host: User, receiver: Receiver
) -> None:
    webhook(host, receiver.url)
    finish_and_deliver(ended_meeting)
    send = reverse("meeting-send-notes", args=[ended_meeting.pk])

    response = _client(host).post(send, follow=True)
    jobs.shutdown()

    assert "Nothing to send" in response.content.decode()
    assert len(receiver.received) == 1


def test_send_again_before_the_final_notes_says_they_are_not_ready(
    ended_meeting: Meeting, host: User, receiver: Receiver
) -> None:
    webhook(host, receiver.url)
    send = reverse("meeting-send-notes", args=[ended_meeting.pk])

    response = _client(host).post(send, follow=True)
    jobs.shutdown()

    assert "The final notes are not ready yet." in response.content.decode()
    assert receiver.received == [] and not Delivery.objects.exists()


def test_staff_edit_a_target_in_the_admin_without_retyping_its_secrets(
    admin_user: User, host: User
) -> None:
    target = webhook(host, "https://crm.example.com/in/k3y")
    sealed = (target.url_sealed, target.secret_sealed)
    client = _client(admin_user)
    change = reverse("admin:assistant_deliverytarget_change", args=[target.pk])
    page = client.get(change).content.decode()
    assert "k3y" not in page and SECRET not in page

    response = client.post(
        change,
        {"name": "CRM (renamed)", "kind": "webhook", "owner": host.pk, "enabled": "on"},
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.name == "CRM (renamed)"
    assert (target.url_sealed, target.secret_sealed) == sealed


def test_deleting_a_meeting_deletes_its_deliveries_and_their_log(
    ended_meeting: Meeting, host: User, receiver: Receiver
) -> None:
    target = webhook(host, receiver.url)
    finish_and_deliver(ended_meeting)
    assert DeliveryAttempt.objects.filter(delivery__meeting=ended_meeting).exists()

    response = _client(host).post(reverse("meeting-delete", args=[ended_meeting.pk]))

    assert response.status_code == 302
    assert not Delivery.objects.exists() and not DeliveryAttempt.objects.exists()
    assert DeliveryTarget.objects.filter(pk=target.pk).exists()
