"""Exports of a meeting: each parses back (WebVTT, SRT, JSON) to the stored rows."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import srt
import webvtt
from django.contrib.auth.models import User
from django.test import Client
from markdown_it import MarkdownIt

from assistant.models import ChatMessage, Meeting, TranscriptSegment
from assistant.services import exports
from tests.assistant.library.conftest import AddSegments, MakeFinished

SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "export-schema.json"
# A strict WebVTT cue: identifier line, timing line, one payload line (the spec's grammar,
# restricted to what we write).
_CUE = re.compile(
    r"(?P<id>[^\n]*[^\n\s])\n"
    r"(?P<start>\d{2}:\d{2}:\d{2}\.\d{3}) --> (?P<end>\d{2}:\d{2}:\d{2}\.\d{3})\n"
    r"(?P<payload>(?:<v (?P<voice>[^>\n]+)>)?(?P<text>[^\n]+))"
)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _get(user: User, meeting: Meeting, fmt: str) -> str:
    response = _client(user).get(f"/meetings/{meeting.pk}/export.{fmt}")
    assert response.status_code == 200
    return response.content.decode("utf-8")


def _stored(meeting: Meeting) -> list[TranscriptSegment]:
    return list(
        TranscriptSegment.objects.filter(meeting=meeting, final=True).order_by("start_ms", "seq")
    )


def _ms(value: str) -> int:
    h, m, s = value.replace(",", ".").split(":")
    return round((int(h) * 3600 + int(m) * 60 + float(s)) * 1000)


def test_webvtt_passes_a_strict_parse_and_webvtt_py_and_matches_the_rows(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    text = _get(host, meeting, "vtt")
    header, *blocks = text.split("\n\n")
    assert header == "WEBVTT"
    stored = _stored(meeting)
    cues = [_CUE.fullmatch(b.strip("\n")) for b in blocks]
    assert all(cues), blocks
    parsed = [
        (
            int(c["id"]),
            html.unescape(c["voice"]),
            _ms(c["start"]),
            _ms(c["end"]),
            html.unescape(c["text"]),
        )
        for c in cues
        if c
    ]
    assert parsed == [(s.pk, s.speaker_name, s.start_ms, s.end_ms, s.text) for s in stored]
    library = webvtt.from_buffer(io.StringIO(text)).captions
    assert [html.unescape(c.voice or "") for c in library] == [s.speaker_name for s in stored]
    assert [html.unescape(c.text) for c in library] == [s.text for s in stored]


def test_srt_parses_back_to_the_rows(make_finished: MakeFinished, host: User) -> None:
    meeting = make_finished(host)
    subtitles = list(srt.parse(_get(host, meeting, "srt")))
    assert [(s.index, s.start, s.end, s.content) for s in subtitles] == [
        (
            n,
            timedelta(milliseconds=row.start_ms),
            timedelta(milliseconds=row.end_ms),
            f"{row.speaker_name}: {row.text}",
        )
        for n, row in enumerate(_stored(meeting), start=1)
    ]


def test_subtitle_times_count_from_the_first_wall_clock_start(
    make_finished: MakeFinished, host: User
) -> None:
    base = 1_700_000_000_000  # a stream that timestamps with the wall clock
    meeting = make_finished(host, lines=[("Ana Lima", base, base + 1500, "Hello")])
    [cue] = list(srt.parse(_get(host, meeting, "srt")))
    assert (cue.start, cue.end) == (timedelta(0), timedelta(milliseconds=1500))


def test_json_has_a_version_matches_its_schema_and_the_rows(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    document = json.loads(_get(host, meeting, "json"))
    schema = json.loads(SCHEMA.read_text())
    assert document["version"] == exports.EXPORT_VERSION == schema["properties"]["version"]["const"]
    assert set(document) == set(schema["required"])
    for key in ("meeting", "segments"):
        item = document[key][0] if key == "segments" else document[key]
        nested = schema["properties"][key]
        required = (nested.get("items") or nested)["required"]
        assert set(required) <= set(item)
    assert [
        (s["id"], s["speaker"], s["start_ms"], s["end_ms"], s["text"], s["source"])
        for s in document["segments"]
    ] == [(s.pk, s.speaker_name, s.start_ms, s.end_ms, s.text, s.source) for s in _stored(meeting)]
    assert document["decisions"][0]["text"] == "Ship the release on Thursday"
    assert document["action_items"][0]["owner"] == "Ana Lima"
    assert document["notes"]["summary"].startswith("Release on Thursday")
    assert document["chat"][0]["text"].startswith("Checklist")


def test_markdown_has_the_notes_the_transcript_then_the_chat_escaped(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    ChatMessage.objects.create(
        meeting=meeting,
        seq=1001,
        sender_name="Tom Okafor",
        sent_at_ms=25_000,
        text="Done! See [the plan](https://evil.test) <b>now</b>",
        dedupe_key="c2",
    )
    text = _get(host, meeting, "md")
    assert text.index("## Summary") < text.index("## Decisions") < text.index("## Action items")
    assert text.index("## Action items") < text.index("## Transcript") < text.index("## Chat")
    assert "- [ ] Write the release notes (Ana Lima, due by Wednesday)" in text
    assert "**00:06 Tom Okafor:** The payment job still needs a rollback plan" in text
    assert r"\<tags>" in text  # would otherwise be raw HTML in a renderer
    chat = text[text.index("## Chat") :]
    assert "- 00:20 **Ana Lima:** Checklist: https://example.test/list\n" in chat
    assert r"- 00:25 **Tom Okafor:** Done! See \[the plan](https://evil.test) \<b>now\</b>" in chat
    rendered = MarkdownIt("commonmark").render(text)
    assert "<b>" not in rendered and 'href="https://evil.test"' not in rendered


def test_a_meeting_without_chat_has_no_chat_section(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host)
    ChatMessage.objects.filter(meeting=meeting).delete()
    assert "## Chat" not in _get(host, meeting, "md")


def test_exports_use_the_primary_track(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    meeting = make_finished(host, transcription="asr")
    [ours] = add_segments(meeting, [("Ana Lima", 1000, 2000, "ours")], source="asr")
    assert [
        int(c.identifier or 0)
        for c in webvtt.from_buffer(io.StringIO(_get(host, meeting, "vtt"))).captions
    ] == [ours.pk]


def test_with_both_tracks_exports_read_zoom_s_unless_the_host_chose_ours(
    make_finished: MakeFinished, add_segments: AddSegments, host: User
) -> None:
    meeting = make_finished(host, transcription="both")
    add_segments(meeting, [("Ana Lima", 1000, 2000, "to Mars the release note")], source="asr")
    transcript = _get(host, meeting, "md").partition("## Transcript")[2]
    assert "rollback plan" in transcript and "to Mars" not in transcript
    assert json.loads(_get(host, meeting, "json"))["meeting"]["caption_source"] == "native"
    Meeting.objects.filter(pk=meeting.pk).update(notes_track="asr")
    transcript = _get(host, meeting, "md").partition("## Transcript")[2]
    assert "to Mars" in transcript and "rollback plan" not in transcript
    assert json.loads(_get(host, meeting, "json"))["meeting"]["caption_source"] == "asr"
    srt_text = _get(host, meeting, "srt")
    assert "to Mars" in srt_text and "rollback" not in srt_text


def test_a_finished_meeting_whose_chosen_track_is_empty_exports_the_other(
    make_finished: MakeFinished, host: User
) -> None:
    meeting = make_finished(host, transcription="both", notes_track="asr")  # Zoom's only
    assert "rollback plan" in _get(host, meeting, "md")
    assert json.loads(_get(host, meeting, "json"))["meeting"]["caption_source"] == "native"


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("Weekly sync", "weekly-sync-2026-12-06"),
        ("Zoë's café: Q3/Q4 — plans!", "zoes-cafe-q3q4-plans-2026-12-06"),
        ('"; rm -rf / ; "', "rm-rf-2026-12-06"),
        ("", "meeting-{id}-2026-12-06"),
        ("日本語の会議", "meeting-{id}-2026-12-06"),
        ("x" * 300, "x" * 60 + "-2026-12-06"),
    ],
)
@pytest.mark.parametrize("fmt", ["md", "vtt", "srt", "json"])
def test_export_files_are_named_by_topic_and_day(
    make_finished: MakeFinished, host: User, topic: str, expected: str, fmt: str
) -> None:
    started = dt.datetime(2026, 12, 6, 10, 30, tzinfo=dt.UTC)
    meeting = make_finished(host, topic=topic, started_at=started)
    response = _client(host).get(f"/meetings/{meeting.pk}/export.{fmt}")
    name = f"{expected.format(id=meeting.pk)}.{fmt}"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert name.isascii()


@pytest.mark.parametrize("fmt", ["md", "vtt", "srt", "json"])
def test_exports_of_a_meeting_the_user_may_not_see_are_not_found(
    make_finished: MakeFinished, host: User, outsider: User, fmt: str
) -> None:
    meeting = make_finished(host)
    assert _client(outsider).get(f"/meetings/{meeting.pk}/export.{fmt}").status_code == 404
    assert Client().get(f"/meetings/{meeting.pk}/export.{fmt}").status_code == 302
