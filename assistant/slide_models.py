"""Slides (what a screen share showed) and participants' camera thumbnails.

Kept apart from models.py (which imports them, so Django registers them with the app). The
pictures themselves are files under PICTURES_DIR (assistant/pictures.py); a row names its file.
The services are assistant/services/slides.py and assistant/services/camera.py.
"""

from __future__ import annotations

from django.db import models


class Slide(models.Model):
    """One picture of a screen share, kept because it differed from the slide before it."""

    meeting = models.ForeignKey(
        "assistant.Meeting", on_delete=models.CASCADE, related_name="slides"
    )
    seq = models.BigIntegerField(help_text="live-event sequence number of its `slide` event")
    shown_at_ms = models.BigIntegerField(help_text="stream clock: when it was first on screen")
    sharer_user_id = models.BigIntegerField(null=True, blank=True)
    sharer_name = models.CharField(max_length=300, blank=True)
    image_name = models.CharField(max_length=64, help_text="its file in the meeting's folder")
    thumbnail_name = models.CharField(max_length=64)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    picture_hash = models.CharField(max_length=64, help_text="perceptual hash (hex)")
    text = models.TextField(blank=True, help_text="what OCR read on it, line by line")
    title = models.CharField(max_length=300, blank=True, help_text="its first line of text")
    read_at = models.DateTimeField(null=True, blank=True, help_text="when OCR read it")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shown_at_ms", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "shown_at_ms"], name="uniq_slide_moment")
        ]

    def __str__(self) -> str:
        return self.title or f"slide at {self.shown_at_ms}"


class ParticipantPicture(models.Model):
    """The latest camera key frame of a participant, as a small thumbnail (one per person)."""

    meeting = models.ForeignKey(
        "assistant.Meeting", on_delete=models.CASCADE, related_name="participant_pictures"
    )
    zoom_user_id = models.BigIntegerField()
    image_name = models.CharField(max_length=64)
    taken_at_ms = models.BigIntegerField(help_text="stream clock of the frame")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "zoom_user_id"], name="uniq_participant_picture"
            )
        ]

    def __str__(self) -> str:
        return f"camera of {self.zoom_user_id}"
