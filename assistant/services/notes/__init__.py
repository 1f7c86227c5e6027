"""AI notes: rolling notes during a meeting, final notes after it, questions answered.

The ingest (or whatever stores segments) calls `segment_stored(meeting_id)` after each stored
segment, and `meeting_ended(meeting_id)` once the meeting ended; both only queue jobs. A caller
that first filters its calls cheaply should use `update_thresholds()`: they depend on the engine.
"""

from __future__ import annotations

from assistant.services.notes.updates import meeting_ended, segment_stored, update_thresholds

__all__ = ["meeting_ended", "segment_stored", "update_thresholds"]
