"""app_deauthorized: verified like any webhook; the user's data goes (unless retained), an
audit row records it without content, and Zoom's data-compliance API is told (a stand-in)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import override_settings

from assistant import jobs
from assistant.models import (
    DeauthorizationAudit,
    Meeting,
    MeetingDeletion,
    ZoomUserLink,
)
from assistant.services import deauthorization, transcript
from assistant.services.transcript import SegmentInput
from tests.assistant.zoomapp.zoom_stand_in import ZoomStandIn
from tests.rtms_ingest.webhooks.edge import post

pytestmark = pytest.mark.django_db(transaction=True)

MakeMeeting = Callable[..., Meeting]


def event(retain: str = "false", user_id: str = "zoom-host-1") -> dict[str, Any]:
    return {
        "event": "app_deauthorized",
        "event_ts": int(time.time() * 1000),
        "payload": {
            "account_id": "acct-1",
            "user_id": user_id,
            "signature": "x",
            "deauthorization_time": "2026-11-29T02:00:00Z",
            "client_id": settings.ZOOM_CLIENT_ID,
            "user_data_retention": retain,
        },
    }


def _hosted_meeting(make_meeting: MakeMeeting, host: User) -> Meeting:
    meeting = make_meeting(owner=host, operator_id="zoom-host-1")
    transcript.record_segment(
        meeting.pk,
        SegmentInput(
            source="native",
            speaker_user_id=1,
            speaker_name="Priya",
            start_ms=0,
            end_ms=900,
            text="the secret plan",
        ),
    )
    return meeting


def test_deauthorization_deletes_data_and_reports_to_zoom(
    zoom: ZoomStandIn, make_meeting: MakeMeeting, host: User
) -> None:
    meeting = _hosted_meeting(make_meeting, host)
    other = make_meeting(operator_id="someone-else")
    assert post(event()).status_code == 200
    jobs.shutdown()  # the compliance report runs after commit on the in-process pool
    assert not Meeting.objects.filter(pk=meeting.pk).exists()
    assert Meeting.objects.filter(pk=other.pk).exists()
    audit = DeauthorizationAudit.objects.get()
    assert audit.meetings_deleted == 1 and not audit.data_retained
    assert audit.compliance_reported_at is not None
    assert "secret plan" not in str(vars(audit))
    (report,) = zoom.compliance_reports
    assert report["user_id"] == "zoom-host-1"
    assert report["compliance_completed"] is True
    assert report["deauthorization_event_received"]["user_data_retention"] == "false"


def test_a_meeting_on_legal_hold_outlives_its_hosts_deauthorization(
    zoom: ZoomStandIn, make_meeting: MakeMeeting, host: User
) -> None:
    held = _hosted_meeting(make_meeting, host)
    Meeting.objects.filter(pk=held.pk).update(legal_hold=True, state=Meeting.State.ENDED)
    ended = _hosted_meeting(make_meeting, host)
    Meeting.objects.filter(pk=ended.pk).update(state=Meeting.State.ENDED)
    assert post(event()).status_code == 200
    jobs.shutdown()
    assert Meeting.objects.filter(pk=held.pk).exists()
    assert not Meeting.objects.filter(pk=ended.pk).exists()
    assert DeauthorizationAudit.objects.get().meetings_deleted == 1
    deletion = MeetingDeletion.objects.get()
    assert (deletion.meeting_id, deletion.reason) == (ended.pk, "deauthorized")


def test_retention_keeps_meetings(zoom: ZoomStandIn, make_meeting: MakeMeeting, host: User) -> None:
    meeting = _hosted_meeting(make_meeting, host)
    assert post(event(retain="true")).status_code == 200
    jobs.shutdown()
    assert Meeting.objects.filter(pk=meeting.pk).exists()
    assert DeauthorizationAudit.objects.get().data_retained
    assert ZoomUserLink.objects.filter(zoom_user_id="zoom-host-1").exists()


def test_unsigned_deauthorization_is_refused(make_meeting: MakeMeeting, host: User) -> None:
    meeting = _hosted_meeting(make_meeting, host)
    assert post(event(), signature="v0=" + "0" * 64).status_code == 401
    assert Meeting.objects.filter(pk=meeting.pk).exists()
    assert not DeauthorizationAudit.objects.exists()


def test_a_repeated_delivery_is_acted_on_once(
    zoom: ZoomStandIn, make_meeting: MakeMeeting, host: User
) -> None:
    _hosted_meeting(make_meeting, host)
    body = event()
    assert post(body).status_code == 200
    assert post(body).json() == {"status": "duplicate"}
    jobs.shutdown()
    assert DeauthorizationAudit.objects.count() == 1
    assert len(zoom.compliance_reports) == 1


def test_zoom_unreachable_leaves_the_report_pending(make_meeting: MakeMeeting, host: User) -> None:
    _hosted_meeting(make_meeting, host)
    audit = deauthorization.deauthorize(event()["payload"], "k")
    with override_settings(ZOOM_COMPLIANCE_URL="http://127.0.0.1:9/oauth/data/compliance"):
        assert deauthorization.report_compliance(audit.pk) is False
    audit.refresh_from_db()
    assert audit.compliance_reported_at is None and audit.compliance_error
