"""The primary-track rule of services/tracks.py in SQL, for queries over many meetings.

`meetings()` gives every meeting with what the rule needs (as a derived table `m`);
PRIMARY_SOURCE is tracks.primary_source of `m`, IS_PRIMARY whether its final segment `s` is on
it. Tests compare PRIMARY_SOURCE with the Python rule on both engines, for every case.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from assistant.models import Meeting

Sql = tuple[str, list[Any]]


def meetings() -> Sql:
    """Every meeting as `m`'s columns: id, whether it finished, its configured primary track.

    `configured` is tracks.configured_primary: the meeting's own transcription mode (else
    TRANSCRIPTION) decides, and with both the chosen track (notes_track, else NOTES_TRACK).
    """
    finished = ", ".join(f"'{state}'" for state in sorted(Meeting.FINISHED_STATES))
    sql = f"""
        SELECT id, state IN ({finished}) AS finished,
               CASE COALESCE(NULLIF(transcription, ''), %s)
                   WHEN 'native' THEN 'native' WHEN 'asr' THEN 'asr'
                   ELSE COALESCE(NULLIF(notes_track, ''), %s) END AS configured
        FROM assistant_meeting
    """  # noqa: S608
    return sql, [settings.TRANSCRIPTION, settings.NOTES_TRACK]


def _has_finals(meeting: str, source: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM assistant_transcriptsegment p "  # noqa: S608
        f"WHERE p.meeting_id = {meeting} AND p.final AND p.source = {source})"
    )


_OTHER_OF_CONFIGURED = "(CASE m.configured WHEN 'native' THEN 'asr' ELSE 'native' END)"

# tracks.primary_source of the meeting row `m`: the configured track, or on a finished meeting
# with no final segment of it but some of the other track, the other one.
PRIMARY_SOURCE = f"""
    (CASE WHEN m.finished AND NOT {_has_finals("m.id", "m.configured")}
               AND {_has_finals("m.id", _OTHER_OF_CONFIGURED)}
          THEN {_OTHER_OF_CONFIGURED} ELSE m.configured END)
"""

# Whether the final segment `s` of meeting `m` is on its primary track: PRIMARY_SOURCE
# compared with s.source, written so a segment of the configured track (nearly all) costs no
# subquery. The same rule: `s` itself is a final of its track, so "some of the other" holds.
IS_PRIMARY = f"""
    (s.source = m.configured OR (m.finished AND NOT {_has_finals("s.meeting_id", "m.configured")}))
"""
