"""Share links: read-only links to a finished meeting's notes and transcript, and their openings.

Kept apart from models.py (which imports them, so Django registers them with the app); the
meeting is named by string so this module needs nothing from models.py. The service is
assistant/services/share_links.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ShareLink(models.Model):
    """A link to one meeting for someone without an account; only the token's hash is kept.

    The link belongs to the meeting, not to whoever made it: the meeting's current host (or
    staff) lists and revokes it, and it goes with the meeting (cascade).
    """

    meeting = models.ForeignKey(
        "assistant.Meeting", on_delete=models.CASCADE, related_name="share_links"
    )
    token_hash = models.CharField(
        max_length=64, unique=True, help_text="SHA-256 (hex) of the token; the token is not kept"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    open_count = models.PositiveIntegerField(default=0, help_text="every opening, ever")
    last_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["meeting", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"share link {self.pk} of meeting {self.meeting_id}"


class ShareLinkOpening(models.Model):
    """One opening of a shared page; only the newest few per link are kept (a bounded log)."""

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="openings")
    at = models.DateTimeField()
    client_address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=200, blank=True, help_text="truncated")

    class Meta:
        ordering = ["link", "-at", "-id"]
        indexes = [models.Index(fields=["link", "-at"], name="share_opening_link_at")]

    def __str__(self) -> str:
        return f"link {self.link_id} opened {self.at:%Y-%m-%d %H:%M}"
