"""Zoom's stop reasons (STOP_REASON 0-26, protocol reference §2.7) in words a host understands.

Zoom gives the number in the stream's TERMINATED state update and in `meeting.rtms_stopped`;
the meeting keeps it as `stop_reason`. The app does not import the ingest's enum (the app does
not depend on the ingest), so the numbers are spelled here; a test holds them to the enum.
"""

from __future__ import annotations

SENTENCES: dict[int, str] = {
    0: "Zoom did not say why the stream stopped.",
    1: "The host stopped the stream.",
    2: "A participant stopped the stream.",
    3: "The person who started the stream left the meeting.",
    4: "The person who started the stream was removed from the meeting.",
    5: "The host turned this app off for the meeting.",
    6: "The meeting ended.",
    7: "The stream was cancelled before it began.",
    8: "Permission to stream this meeting was withdrawn.",
    9: "The host turned off all apps for this meeting.",
    10: "Zoom had an internal error and stopped the stream.",
    11: "The connection to Zoom timed out.",
    12: "Zoom lost its connection to the meeting.",
    13: "The control connection to Zoom was interrupted.",
    14: "The media connection to Zoom was interrupted.",
    15: "The control connection to Zoom closed unexpectedly.",
    16: "The media connection to Zoom closed unexpectedly.",
    17: "Zoom's streaming service shut down.",
    18: "Zoom could not verify this app's credentials.",
    19: "The assistant did not reconnect to Zoom in time.",
    20: "The assistant closed the stream.",
    21: "The customer hung up.",
    22: "The agent hung up.",
    23: "An account admin turned this app off.",
    24: "The connection went silent: Zoom's keep-alive checks were missed three times.",
    25: "The stream was stopped from Zoom's controls or API.",
    26: "Zoom does not offer streaming for this meeting.",
}

# For a number newer than this table; `{code}` is replaced (here and by the live page's script).
UNKNOWN = "Zoom stopped the stream (reason {code})."


def sentence(code: int) -> str:
    """Why a stream stopped, for the host: Zoom's reason `code` in words."""
    return SENTENCES.get(code) or UNKNOWN.replace("{code}", str(code))
