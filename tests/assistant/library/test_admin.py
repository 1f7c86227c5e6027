"""The admin for staff: every library model listed, holds set there, deletions audited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from assistant.models import Meeting, MeetingDeletion, WebhookDelivery
from tests.assistant.library.conftest import MakeFinished


def _staff(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "meeting",
        "participant",
        "transcriptsegment",
        "meetingnotes",
        "decision",
        "actionitem",
        "chatmessage",
        "connectionlogentry",
        "webhookdelivery",
        "meetingdeletion",
        "zoomuserlink",
    ],
)
def test_staff_see_each_list_and_change_page(
    make_finished: MakeFinished, admin_user: User, host: User, model: str
) -> None:
    make_finished(host)
    WebhookDelivery.objects.create(
        dedupe_key="k", event="meeting.rtms_started", payload={"signature": "sekret-signature"}
    )
    client = _staff(admin_user)
    listing = client.get(f"/admin/assistant/{model}/")
    assert listing.status_code == 200
    assert b"sekret-signature" not in listing.content


def test_users_are_listed_with_their_zoom_link_and_no_password_hash(
    admin_user: User, host: User
) -> None:
    page = _staff(admin_user).get(f"/admin/auth/user/{host.pk}/change/").content.decode()
    assert "zoom-host-1" in page
    assert host.password not in page


def test_admin_deletion_goes_through_the_service_and_respects_holds(
    make_finished: MakeFinished, admin_user: User, host: User
) -> None:
    gone = make_finished(host)
    held = make_finished(host, legal_hold=True)
    client = _staff(admin_user)
    response = client.post(
        "/admin/assistant/meeting/",
        {"action": "delete_selected", "_selected_action": [gone.pk, held.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert set(Meeting.objects.values_list("pk", flat=True)) == {held.pk}
    audit = MeetingDeletion.objects.get()
    assert (audit.meeting_id, audit.reason, audit.actor) == (gone.pk, "staff", admin_user)
    assert "under legal hold" in response.content.decode()


def test_staff_place_and_release_legal_holds(
    make_finished: MakeFinished, admin_user: User, host: User
) -> None:
    meeting = make_finished(host)
    client = _staff(admin_user)
    client.post(
        "/admin/assistant/meeting/", {"action": "place_on_hold", "_selected_action": [meeting.pk]}
    )
    assert Meeting.objects.get(pk=meeting.pk).legal_hold
    client.post(
        "/admin/assistant/meeting/", {"action": "release_hold", "_selected_action": [meeting.pk]}
    )
    assert not Meeting.objects.get(pk=meeting.pk).legal_hold
