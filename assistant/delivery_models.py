"""Where final notes are delivered (targets), each delivery of them, and each attempt it took.

Part of the app's models (assistant.models re-exports them). URLs and signing secrets are kept
sealed (assistant/services/sealing.py): these rows hold ciphertext, never the secret itself.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class DeliveryTarget(models.Model):
    """A signed webhook, a Slack channel or an email: for one host's meetings, or every one."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "Signed webhook"
        SLACK = "slack", "Slack"
        EMAIL = "email", "Email"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="delivery_targets",
        help_text="the host whose meetings it gets; blank: every meeting of the site",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100)
    url_sealed = models.TextField(blank=True, help_text="the webhook or Slack URL, sealed")
    url_host = models.CharField(
        max_length=255, blank=True, help_text="the URL's host: what pages and logs show of it"
    )
    secret_sealed = models.TextField(blank=True, help_text="the webhook signing secret, sealed")
    recipients = models.TextField(
        blank=True, help_text="email: more addresses besides the host and participants"
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Delivery(models.Model):
    """One delivery of a meeting's notes to one target, sent by one job.

    Claimed atomically by the job that sends it (state pending -> sending under the job's id),
    so a job delivered twice sends once; `delivery_id` goes out with it for receivers to dedupe
    what we cannot prevent (a worker that died between sending and recording it).
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        FINAL = "final", "Final notes ready"
        AGAIN = "again", "Sent again on request"

    meeting = models.ForeignKey(
        "assistant.Meeting", on_delete=models.CASCADE, related_name="deliveries"
    )
    target = models.ForeignKey(DeliveryTarget, on_delete=models.CASCADE, related_name="deliveries")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes_version = models.IntegerField(help_text="the notes version it carries (as last sent)")
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.IntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, help_text="why it failed")
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Final notes are redone as late captions arrive: each target gets them once.
            models.UniqueConstraint(
                fields=["meeting", "target"],
                condition=models.Q(trigger="final"),
                name="one_final_delivery_per_target",
            )
        ]
        indexes = [
            models.Index(fields=["meeting", "target", "-created_at"], name="delivery_latest")
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"meeting {self.meeting_id} to {self.target_id}: {self.state}"


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, what the receiver answered (or the error), how long."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.IntegerField()
    at = models.DateTimeField()
    status_code = models.IntegerField(null=True, blank=True, help_text="HTTP status or SMTP code")
    error = models.CharField(max_length=300, blank=True)
    duration_ms = models.IntegerField()

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"
