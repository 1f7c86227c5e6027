"""Deleting meetings: by retention, by the host, never on hold; with an audit row and no content."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from assistant import recordings, tasks
from assistant.models import (
    ActionItem,
    ChatMessage,
    Decision,
    Delivery,
    DeliveryTarget,
    LiveEvent,
    Meeting,
    MeetingDeletion,
    MeetingNotes,
    Participant,
    ShareLink,
    TranscriptSegment,
)
from assistant.services import meeting_deletion
from assistant.speech_audio import audio_store
from tests.assistant.library.conftest import MakeFinished

ATTACHED = (
    TranscriptSegment,
    ChatMessage,
    Participant,
    MeetingNotes,
    Decision,
    ActionItem,
    LiveEvent,
    ShareLink,
    Delivery,
)


def _aged(make_finished: MakeFinished, owner: User, days: int, **fields: object) -> Meeting:
    meeting = make_finished(owner, **fields)
    ended = timezone.now() - dt.timedelta(days=days)
    Meeting.objects.filter(pk=meeting.pk).update(
        ended_at=ended, started_at=ended - dt.timedelta(hours=1)
    )
    LiveEvent.objects.create(meeting=meeting, seq=1, type="segment", payload={"text": "x"})
    ShareLink.objects.create(
        meeting=meeting, token_hash=f"{meeting.pk:064x}", expires_at=timezone.now()
    )
    target = DeliveryTarget.objects.create(owner=owner, kind="email", name="team")
    Delivery.objects.create(meeting=meeting, target=target, notes_version=1)
    return meeting


def _rows(meeting_id: int) -> dict[str, int]:
    return {m.__name__: m.objects.filter(meeting_id=meeting_id).count() for m in ATTACHED}


def test_deleting_removes_the_meeting_and_everything_attached_and_audits_without_content(
    make_finished: MakeFinished, host: User, outsider: User
) -> None:
    meeting = _aged(make_finished, host, 1)
    other = _aged(make_finished, outsider, 1)
    before_other = _rows(other.pk)
    audit = meeting_deletion.delete_meeting(meeting.pk, meeting_deletion.Reason.HOST, actor=host)
    assert not Meeting.objects.filter(pk=meeting.pk).exists()
    assert set(_rows(meeting.pk).values()) == {0}
    assert _rows(other.pk) == before_other
    assert audit.counts == {
        "segments": 5,
        "live_events": 1,
        "action_items": 1,
        "decisions": 1,
        "notes": 1,
        "chat_messages": 1,
        "participants": 3,
        "connection_log": 0,
        "share_links": 1,
        "deliveries": 1,
        "slides": 0,
        "participant_pictures": 0,
    }
    assert (audit.meeting_id, audit.reason, audit.actor, audit.owner_id) == (
        meeting.pk,
        "host",
        host,
        host.pk,
    )
    stored = str(MeetingDeletion.objects.filter(pk=audit.pk).values().get())
    assert "rollback" not in stored and meeting.topic not in stored


def test_retention_deletes_only_expired_meetings_and_nothing_on_hold(
    make_finished: MakeFinished, host: User, settings: Settings
) -> None:
    settings.MEETING_RETENTION_DAYS = 30
    expired = _aged(make_finished, host, 31)
    held = _aged(make_finished, host, 400, legal_hold=True)
    recent = _aged(make_finished, host, 29)
    live = make_finished(host)
    Meeting.objects.filter(pk=live.pk).update(
        state=Meeting.State.LIVE, ended_at=None, created_at=timezone.now() - dt.timedelta(days=90)
    )
    assert tasks.purge_expired_meetings() == 1
    assert set(Meeting.objects.values_list("pk", flat=True)) == {held.pk, recent.pk, live.pk}
    assert _rows(held.pk)["TranscriptSegment"] == 5
    assert MeetingDeletion.objects.get().reason == "retention"
    assert MeetingDeletion.objects.get().meeting_id == expired.pk


def test_retention_unset_keeps_every_meeting(
    make_finished: MakeFinished, host: User, settings: Settings
) -> None:
    settings.MEETING_RETENTION_DAYS = None
    _aged(make_finished, host, 5000)
    assert tasks.purge_expired_meetings() == 0
    assert Meeting.objects.count() == 1


def test_retention_works_in_bounded_batches(
    make_finished: MakeFinished, host: User, settings: Settings
) -> None:
    settings.MEETING_RETENTION_DAYS = 1
    settings.MEETING_RETENTION_BATCH = 2
    for _ in range(3):
        _aged(make_finished, host, 10)
    assert tasks.purge_expired_meetings() == 2
    assert tasks.purge_expired_meetings() == 1
    assert not Meeting.objects.exists()


def test_large_tables_are_deleted_in_chunks(
    make_finished: MakeFinished, host: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(meeting_deletion, "CHUNK_ROWS", 2)
    meeting = _aged(make_finished, host, 1)
    audit = meeting_deletion.delete_meeting(meeting.pk, meeting_deletion.Reason.STAFF)
    assert audit.counts["segments"] == 5


def test_a_meeting_on_hold_or_live_is_refused_and_keeps_its_rows(
    make_finished: MakeFinished, host: User
) -> None:
    held = _aged(make_finished, host, 1, legal_hold=True)
    live = make_finished(host)
    Meeting.objects.filter(pk=live.pk).update(state=Meeting.State.LIVE)
    for meeting in (held, live):
        with pytest.raises(meeting_deletion.DeletionRefused):
            meeting_deletion.delete_meeting(meeting.pk, meeting_deletion.Reason.HOST)
        assert _rows(meeting.pk)["TranscriptSegment"] == 5
    assert not MeetingDeletion.objects.exists()


def test_audio_and_recordings_go_with_the_meeting(
    make_finished: MakeFinished,
    host: User,
    django_capture_on_commit_callbacks: object,
    settings: Settings,
    tmp_path: Path,
) -> None:
    settings.RECORDINGS_DIR = tmp_path
    meeting = _aged(make_finished, host, 1)
    other = meeting.pk + 1
    store = audio_store()
    store.put(f"asr:utt:{meeting.pk}:1:0:1", b"pcm", f"asr:utt:{meeting.pk}:1:0", 1)
    store.keep(f"asr:ctx:{meeting.pk}:1", b"context", 60)
    store.put(f"asr:utt:{other}:1:0:1", b"keep", f"asr:utt:{other}:1:0", 1)
    for meeting_id in (meeting.pk, other):
        writer = recordings.TrackWriter(recordings.meeting_dir(meeting_id), 1)
        writer.write(0, recordings.Anchor(0, 0), b"\x01\x00" * 320)
        writer.close()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        meeting_deletion.delete_meeting(meeting.pk, meeting_deletion.Reason.HOST)
    assert store.get(f"asr:utt:{meeting.pk}:1:0:1") is None
    assert store.get(f"asr:ctx:{meeting.pk}:1") is None
    assert not recordings.meeting_dir(meeting.pk).exists()
    assert store.get(f"asr:utt:{other}:1:0:1") == b"keep"
    assert [t.user_id for t in recordings.recorded_tracks(other)] == [1]
    store.delete_prefix(f"asr:utt:{other}:")


def test_the_host_deletes_from_the_page_and_others_cannot(
    make_finished: MakeFinished,
    host: User,
    coworker: User,
    django_capture_on_commit_callbacks: object,
) -> None:
    meeting = _aged(make_finished, host, 1)
    stranger = Client()
    stranger.force_login(coworker)
    assert stranger.post(f"/meetings/{meeting.pk}/delete/").status_code == 404
    owner = Client()
    owner.force_login(host)
    assert owner.get(f"/meetings/{meeting.pk}/delete/").status_code == 405
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = owner.post(f"/meetings/{meeting.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Meeting.objects.filter(pk=meeting.pk).exists()
    assert MeetingDeletion.objects.get().actor == host


def test_the_host_is_told_when_a_hold_stops_the_deletion(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = _aged(make_finished, host, 1, legal_hold=True)
    client = Client()
    client.force_login(host)
    page = client.post(f"/meetings/{meeting.pk}/delete/", follow=True).content.decode()
    assert "legal hold" in page
    assert Meeting.objects.filter(pk=meeting.pk).exists()


def test_the_delete_button_is_offered_to_the_host_and_staff(
    make_finished: MakeFinished, host: User, admin_user: User
) -> None:
    from django.contrib.auth.models import User as UserModel

    meeting = make_finished(host)
    colleague = UserModel.objects.create_user("colleague", is_staff=False)
    pages = {}
    for user in (host, admin_user, colleague):
        client = Client()
        client.force_login(user)
        pages[user.username] = client.get(f"/meetings/{meeting.pk}/")
    assert f"/meetings/{meeting.pk}/delete/" in pages["host"].content.decode()
    assert f"/meetings/{meeting.pk}/delete/" in pages["admin"].content.decode()
    assert pages["colleague"].status_code == 404
