"""A host's Zoom OAuth tokens, kept (sealed) so the dashboard can start RTMS on their behalf.

Kept apart from models.py (which imports it, so Django registers it with the app). Both tokens
are sealed at rest (services/sealing.py) and never shown, logged or put in the admin;
deauthorization deletes the row. The service is assistant/services/zoom_grants.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ZoomGrant(models.Model):
    """The access and refresh token Zoom granted a site user at their last Zoom sign-in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="zoom_grant"
    )
    zoom_user_id = models.CharField(max_length=64, unique=True)
    access_token_sealed = models.TextField()
    refresh_token_sealed = models.TextField()
    expires_at = models.DateTimeField(help_text="when Zoom said the access token runs out")
    scopes = models.JSONField(default=list)
    needs_sign_in = models.BooleanField(
        default=False,
        help_text="Zoom refused the refresh token (revoked or expired): the host must sign in "
        "with Zoom again",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"zoom grant of {self.user}"
