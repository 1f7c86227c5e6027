"""A host's PUT of a per-meeting choice (transcription, language...) through Django's client."""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from assistant.models import Meeting


def signed_in(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def put_choice(
    client: Client, url_name: str, meeting: Meeting, body: object
) -> tuple[int, dict[str, object]]:
    """PUT `body` as JSON to the meeting's choice `url_name`; (status, the JSON answer)."""
    url = reverse(url_name, args=[meeting.pk])
    response = client.put(url, json.dumps(body), content_type="application/json")
    return response.status_code, response.json()
