"""Slides on the pages: the finished timeline and transcript, the pictures' access rule, and the
host's slides choice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from assistant import pictures
from assistant.models import Meeting, ParticipantPicture, Slide
from assistant.services import meeting_deletion
from rtms_ingest.simulator.fixture import sample_meeting
from tests.assistant.library.conftest import SPEAKERS, MakeFinished

PNG = sample_meeting().shares[0].slides[0].image.read_bytes()


@pytest.fixture(autouse=True)
def _pictures_dir(tmp_path: Path) -> object:
    with override_settings(PICTURES_DIR=tmp_path / "pictures"):
        yield


def client_of(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def add_slide(meeting: Meeting, at_ms: int, title: str) -> Slide:
    slide = Slide.objects.create(
        meeting=meeting,
        seq=9_000 + at_ms,
        shown_at_ms=at_ms,
        sharer_user_id=1,
        sharer_name="Ana Lima",
        image_name="x",
        thumbnail_name="x",
        content_type="image/png",
        width=1280,
        height=720,
        picture_hash="0" * 16,
        title=title,
        text=title,
    )
    slide.image_name = f"slide-{slide.pk}.png"
    slide.thumbnail_name = f"slide-{slide.pk}-thumb.jpg"
    slide.save()
    pictures.write(meeting.pk, slide.image_name, PNG)
    pictures.write(meeting.pk, slide.thumbnail_name, b"\xff\xd8\xff thumb")
    return slide


def test_finished_page_shows_slides_on_the_timeline_and_in_the_transcript(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    slide = add_slide(meeting, 2_000, "Q3 budget")
    thumb = f"/meetings/{meeting.pk}/pictures/{slide.thumbnail_name}"
    full = f"/meetings/{meeting.pk}/pictures/{slide.image_name}"
    page = client_of(host).get(f"/meetings/{meeting.pk}/").content.decode()
    timeline = page[page.index('data-role="timeline-slides"') :]
    assert f'id="slide-{slide.pk}"' in timeline and thumb in timeline and full in timeline
    captions = page[page.index('data-role="captions"') : page.index('data-role="people"')]
    assert f'data-slide-id="{slide.pk}"' in captions and "Slide: Q3 budget" in captions


def test_a_participants_camera_thumbnail_is_shown(make_finished: MakeFinished, host: User) -> None:
    meeting = make_finished(host)
    user_id = next(iter(SPEAKERS.values()))
    pictures.write(meeting.pk, f"camera-{user_id}.jpg", b"\xff\xd8\xff cam")
    ParticipantPicture.objects.create(
        meeting=meeting, zoom_user_id=user_id, image_name=f"camera-{user_id}.jpg", taken_at_ms=1
    )
    page = client_of(host).get(f"/meetings/{meeting.pk}/").content.decode()
    assert f"/meetings/{meeting.pk}/pictures/camera-{user_id}.jpg?v=" in page


def test_a_picture_is_served_privately_to_whoever_may_see_the_meeting(
    make_finished: MakeFinished, host: User, outsider: User
) -> None:
    meeting = make_finished(host)
    slide = add_slide(meeting, 2_000, "Q3 budget")
    url = f"/meetings/{meeting.pk}/pictures/{slide.image_name}"
    response = client_of(host).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG  # type: ignore[attr-defined]
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"].startswith("private")
    assert client_of(outsider).get(url).status_code == 404
    assert client_of(None).get(url).status_code == 404
    assert client_of(host).get(f"/meetings/{meeting.pk}/pictures/..%2Fsecret").status_code == 404


def test_a_deleted_meeting_leaves_no_picture_behind(
    make_finished: MakeFinished, host: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = make_finished(host)
    add_slide(meeting, 2_000, "Q3 budget")
    folder = pictures.meeting_dir(meeting.pk)
    assert folder.is_dir()
    with django_capture_on_commit_callbacks(execute=True):
        meeting_deletion.delete_meeting(meeting.pk, "host", host)
    assert not folder.exists()


@pytest.mark.django_db(transaction=True)
def test_only_the_host_turns_slides_on_or_off(
    make_finished: MakeFinished, host: User, coworker: User
) -> None:
    meeting = make_finished(host)
    url = f"/api/meetings/{meeting.pk}/slides/"
    off = json.dumps({"slides": False})
    assert client_of(coworker).put(url, off, content_type="application/json").status_code == 404
    response = client_of(host).put(url, off, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"slides": False, "effective": False}
    meeting.refresh_from_db()
    assert meeting.capture_slides is False
    bad = client_of(host).put(url, content_type="application/json", data='{"slides": 1}')
    assert bad.status_code == 400


def test_exports_link_the_slides_in_markdown_and_list_them_in_the_json(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    slide = add_slide(meeting, 2_000, "Q3 *budget*")
    client = client_of(host)
    markdown = client.get(f"/meetings/{meeting.pk}/export.md").content.decode()
    url = f"http://127.0.0.1:8000/meetings/{meeting.pk}/pictures/{slide.image_name}"
    section = markdown[markdown.index("## Slides") : markdown.index("## Transcript")]
    assert f"[Q3 \\*budget\\*]({url}) (shared by Ana Lima)" in section
    transcript = markdown[markdown.index("## Transcript") :]
    assert transcript.index("Slide shown:") < transcript.index("Tom Okafor")
    document = json.loads(client.get(f"/meetings/{meeting.pk}/export.json").content)
    [entry] = document["slides"]
    assert (entry["id"], entry["shown_at_ms"], entry["title"], entry["image_url"]) == (
        slide.pk,
        2_000,
        "Q3 *budget*",
        url,
    )
