"""The Zoom products that stream over RTMS: their webhook names and the id that names a stream.

One table, shared by the webhook receiver, the RTMS client and the simulator (reference §1.1).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RtmsProduct:
    """How one product names its RTMS webhooks and which id the handshake signature covers."""

    name: str
    event_stem: str  # the webhook names are <stem>_started / _stopped / _interrupted
    id_field: str

    @property
    def webhook_prefix(self) -> str:
        """The part of the event name before the dot ("meeting", "session", ...)."""
        return self.event_stem.partition(".")[0]

    @property
    def started_event(self) -> str:
        return f"{self.event_stem}_started"

    @property
    def stopped_event(self) -> str:
        return f"{self.event_stem}_stopped"

    @property
    def interrupted_event(self) -> str:
        return f"{self.event_stem}_interrupted"


PRODUCTS: dict[str, RtmsProduct] = {
    "meeting": RtmsProduct("meeting", "meeting.rtms", "meeting_uuid"),
    # Webinars keep the meeting_uuid field name (reference §1.1).
    "webinar": RtmsProduct("webinar", "webinar.rtms", "meeting_uuid"),
    "video_sdk": RtmsProduct("video_sdk", "session.rtms", "session_id"),
    "contact_center": RtmsProduct("contact_center", "contact_center.voice_rtms", "engagement_id"),
}
PRODUCTS_BY_WEBHOOK_PREFIX: dict[str, RtmsProduct] = {
    product.webhook_prefix: product for product in PRODUCTS.values()
}
STREAM_OWNER_ID_FIELDS = ("meeting_uuid", "session_id", "engagement_id")
