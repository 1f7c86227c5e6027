"""What a share link leaves in the database: the token's hash only; and it goes with its meeting.

Also the admin: links and their openings are read-only there, and no hash is shown.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings

from assistant import tasks
from assistant.models import Meeting, MeetingDeletion, ShareLink, ShareLinkOpening
from assistant.services import meeting_deletion, share_links
from tests.assistant.sharing.conftest import reader, shared_path, signed_in

pytestmark = pytest.mark.django_db


def _database_text(table: str) -> str:
    """Every value of every row of `table`, as text (what a dump of it would hold)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (our own table names)
        return repr(cursor.fetchall())


def test_only_the_tokens_hash_is_stored(finished: Meeting, host: User, shared_url: str) -> None:
    token = shared_path(shared_url).split("/")[2]
    reader().get(shared_path(shared_url))
    stored = _database_text("assistant_sharelink") + _database_text("assistant_sharelinkopening")
    assert token not in stored
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    # The hash does not open the page: only the token does.
    link = ShareLink.objects.get()
    assert reader().get(f"/shared/{link.token_hash}/").status_code == 404


def test_deleting_the_meeting_deletes_its_links_and_openings(
    finished: Meeting, host: User, shared_url: str
) -> None:
    reader().get(shared_path(shared_url))
    other = share_links.create_link(
        Meeting.objects.create(
            zoom_id="other==", rtms_stream_id="other", owner=host, state=Meeting.State.ENDED
        ),
        7,
        host,
    )
    response = signed_in(host).post(f"/meetings/{finished.pk}/delete/")
    assert response.status_code == 302
    assert not Meeting.objects.filter(pk=finished.pk).exists()
    assert list(ShareLink.objects.all()) == [other.link]
    assert not ShareLinkOpening.objects.exists()
    assert reader().get(shared_path(shared_url)).status_code == 404


def test_retention_deletes_links_with_their_meeting(
    finished: Meeting, host: User, shared_url: str, settings: Settings
) -> None:
    reader().get(shared_path(shared_url))
    ended = timezone.now() - dt.timedelta(days=40)
    Meeting.objects.filter(pk=finished.pk).update(ended_at=ended)
    settings.MEETING_RETENTION_DAYS = 30
    tasks.purge_expired_meetings()
    assert MeetingDeletion.objects.get().reason == MeetingDeletion.Reason.RETENTION
    assert not ShareLink.objects.exists() and not ShareLinkOpening.objects.exists()


def test_a_meeting_on_hold_keeps_its_links(finished: Meeting, host: User, shared_url: str) -> None:
    Meeting.objects.filter(pk=finished.pk).update(legal_hold=True)
    with pytest.raises(meeting_deletion.DeletionRefused):
        meeting_deletion.delete_meeting(finished.pk, MeetingDeletion.Reason.HOST)
    assert ShareLink.objects.count() == 1


def test_staff_read_links_and_openings_in_the_admin_and_change_nothing(
    finished: Meeting, host: User, admin_user: User, shared_url: str
) -> None:
    reader().get(shared_path(shared_url))
    link = ShareLink.objects.get()
    staff = signed_in(admin_user)
    listing = staff.get("/admin/assistant/sharelink/")
    assert listing.status_code == 200 and f"share link {link.pk}" in listing.content.decode()
    page = staff.get(f"/admin/assistant/sharelink/{link.pk}/change/").content.decode()
    opening = ShareLinkOpening.objects.get()
    assert opening.client_address in page
    assert link.token_hash not in page
    assert 'name="_save"' not in page  # read-only
    assert staff.get("/admin/assistant/sharelinkopening/").status_code == 200
    assert staff.get("/admin/assistant/sharelink/add/").status_code == 403
    assert staff.post(f"/admin/assistant/sharelink/{link.pk}/delete/").status_code == 403
    assert ShareLink.objects.filter(pk=link.pk).exists()
