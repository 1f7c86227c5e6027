"""Asking a meeting: a per-user rate limit (429 with Retry-After, counted in Redis), and asks
that wait for a slow LLM hold no request thread's database connection meanwhile."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import User
from django.db import connection
from django.test import AsyncClient, Client
from pytest_django.fixtures import Settings

from assistant.models import Meeting
from assistant.services.notes import llm_client
from tests.assistant.notes.conftest import PlaySample
from tests.assistant.notes.faulty_llm import Step, faulty_llm

QUESTION = "Who writes the release notes?"


def _ask(client: Client, meeting: Meeting) -> Any:
    return client.post(
        f"/api/meetings/{meeting.pk}/ask/",
        json.dumps({"question": QUESTION}),
        content_type="application/json",
    )


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def extractive(settings: Settings) -> None:
    settings.NOTES_ENGINE = "extractive"
    settings.LLM_BASE_URL = ""


@pytest.mark.django_db
def test_the_eleventh_ask_within_a_minute_is_refused_with_retry_after(
    extractive: None, play_sample: PlaySample, host: User
) -> None:
    meeting = play_sample()
    client = _signed_in(host)
    for _ in range(10):
        assert _ask(client, meeting).status_code == 200
    refused = _ask(client, meeting)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many questions" in refused.json()["error"]


@pytest.mark.django_db
def test_the_ask_limit_is_per_user(
    extractive: None, play_sample: PlaySample, host: User, admin_user: User
) -> None:
    meeting = play_sample()
    client = _signed_in(host)
    for _ in range(11):
        _ask(client, meeting)
    assert _ask(client, meeting).status_code == 429
    assert _ask(_signed_in(admin_user), meeting).status_code == 200


@pytest.mark.django_db
def test_the_ask_limit_is_a_setting(
    extractive: None, settings: Settings, play_sample: PlaySample, host: User
) -> None:
    from assistant.wiring.env import Rate

    settings.ASK_RATE_LIMIT = Rate(uses=2, period_s=3600)
    meeting = play_sample()
    client = _signed_in(host)
    assert [_ask(client, meeting).status_code for _ in range(3)] == [200, 200, 429]
    assert int(_ask(client, meeting)["Retry-After"]) > 60


SLOW_S = 3.0
ASKS = 4


@pytest.fixture
def slow_llm(settings: Settings) -> Iterator[Any]:
    """An OpenAI-compatible server that takes SLOW_S to answer every question."""
    reply = {"answer": "Tomás writes them.", "found": True, "segment_ids": []}
    with faulty_llm(Step(content=json.dumps(reply), hang_s=SLOW_S)) as llm:
        settings.NOTES_ENGINE = "llm"
        settings.LLM_BASE_URL = llm.url
        settings.LLM_MODEL = "test-model"
        settings.LLM_MAX_ATTEMPTS = 1
        settings.LLM_TIMEOUT_S = 30
        llm_client.forget_formats()
        yield llm
    llm_client.forget_formats()


def _other_connections() -> int:
    """Connections to the test database other than this thread's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.django_db(transaction=True)
async def test_asks_waiting_for_the_llm_hold_no_database_connection(
    slow_llm: Any, play_sample: PlaySample, host: User
) -> None:
    meeting = await database_sync_to_async(play_sample)()
    browser = await database_sync_to_async(_signed_in)(host)
    client = AsyncClient()
    await client.aforce_login(host)
    before = await database_sync_to_async(_other_connections)()
    asks = [
        asyncio.create_task(
            client.post(
                f"/api/meetings/{meeting.pk}/ask/",
                json.dumps({"question": QUESTION}),
                content_type="application/json",
            )
        )
        for _ in range(ASKS)
    ]
    deadline = time.monotonic() + SLOW_S
    while len(slow_llm.requests) < ASKS:  # every ask is now waiting for the LLM
        assert time.monotonic() < deadline, "the asks did not all reach the LLM"
        await asyncio.sleep(0.05)
    # Before, each waiting ask kept its request thread's connection for the LLM's whole answer.
    assert await database_sync_to_async(_other_connections)() <= before
    started = time.monotonic()
    page = await database_sync_to_async(browser.get)("/api/meetings/")
    assert page.status_code == 200
    assert time.monotonic() - started < 1.0
    answers = await asyncio.gather(*asks)
    assert [a.status_code for a in answers] == [200] * ASKS
    assert answers[0].json()["answer"] == "Tomás writes them."
