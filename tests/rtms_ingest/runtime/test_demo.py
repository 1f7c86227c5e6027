"""The demo's play button: staff only, CSRF-checked, and a playback scheduled on the demo loop."""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from rtms_ingest.runtime import demo


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_play_sample_refuses_get(admin_user: User) -> None:
    assert _client(admin_user).get(reverse("demo-play")).status_code == 405


def test_play_sample_refuses_non_staff(settings: Settings, host: User) -> None:
    settings.DEMO_SIMULATOR = True
    assert _client(host).post(reverse("demo-play")).status_code == 403


def test_play_sample_requires_the_csrf_token(settings: Settings, admin_user: User) -> None:
    settings.DEMO_SIMULATOR = True
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(reverse("demo-play")).status_code == 403


@pytest.fixture
def demo_loop(monkeypatch: pytest.MonkeyPatch) -> Iterator[asyncio.AbstractEventLoop]:
    """A loop the real demo module is enabled on; it only ever runs long enough to schedule."""
    loop = asyncio.new_event_loop()
    monkeypatch.setattr(demo, "_loop", None)  # put back, with _base_url, after the test
    monkeypatch.setattr(demo, "_base_url", "")
    demo.enable(loop, "http://testserver")
    yield loop
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()  # never started: play_once's body does not run
    if tasks:
        loop.run_until_complete(asyncio.wait(tasks))
    loop.close()


def test_play_sample_schedules_a_playback_and_says_so(
    settings: Settings, admin_user: User, demo_loop: asyncio.AbstractEventLoop
) -> None:
    settings.DEMO_SIMULATOR = True
    response = _client(admin_user).post(reverse("demo-play"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("meeting-list")
    assert b"The sample meeting is starting" in response.content
    # One pass of the loop runs what the view queued: a play_once task is created, not started.
    demo_loop.call_soon(demo_loop.stop)
    demo_loop.run_forever()
    [task] = asyncio.all_tasks(demo_loop)
    coro = task.get_coro()
    assert isinstance(coro, types.CoroutineType) and coro.cr_code is demo.play_once.__code__


def test_play_sample_is_not_available_unless_the_demo_simulator_runs_here(
    settings: Settings, admin_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEMO_SIMULATOR = True  # but run_demo has not enabled a loop in this process
    monkeypatch.setattr(demo, "_loop", None)
    response = _client(admin_user).post(reverse("demo-play"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("meeting-list")
    assert b"not available on this server" in response.content


def test_play_sample_is_not_available_with_the_setting_off(
    settings: Settings, admin_user: User, demo_loop: asyncio.AbstractEventLoop
) -> None:
    settings.DEMO_SIMULATOR = False
    response = _client(admin_user).post(reverse("demo-play"), follow=True)
    assert b"not available on this server" in response.content
    demo_loop.call_soon(demo_loop.stop)
    demo_loop.run_forever()
    assert not asyncio.all_tasks(demo_loop)
