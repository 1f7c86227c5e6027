"""`manage.py run_ingest` on the real Redis: it joins the cluster, and leaves it when it stops."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from django.conf import settings
from django.core.management import call_command

from assistant import jobs
from rtms_ingest.cluster.registry import INGESTS_KEY
from rtms_ingest.cluster.supervisor import Supervisor
from rtms_ingest.management.commands import run_ingest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]


@pytest.fixture
async def direct() -> AsyncIterator[aioredis.Redis]:
    r = aioredis.Redis.from_url(settings.REDIS_URL)
    yield r
    await r.aclose()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(signum)


async def beating(r: aioredis.Redis, holder: str) -> bool:
    return await r.zscore(INGESTS_KEY, holder) is not None


async def test_run_ingest_leaves_the_cluster_on_sigterm(
    direct: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Supervisor] = []
    real_build = run_ingest.build_supervisor

    def build_and_keep(*, embedded: bool) -> Supervisor:
        built.append(real_build(embedded=embedded))
        return built[0]

    monkeypatch.setattr(run_ingest, "build_supervisor", build_and_keep)
    serving = asyncio.create_task(run_ingest.Command()._serve())
    async with asyncio.timeout(10):
        while not built or not await beating(direct, built[0].holder_id):
            await asyncio.sleep(0.05)

    os.kill(os.getpid(), signal.SIGTERM)  # the command's handler sets its stopping event
    await asyncio.wait_for(serving, 15)

    # Gone at once, not found dead seconds later: no other ingest counts on it as a successor.
    assert not await beating(direct, built[0].holder_id)


def test_run_ingest_refuses_to_start_when_a_job_it_submits_has_no_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(jobs, "SUBMITTED_BY_THE_APP", (*jobs.SUBMITTED_BY_THE_APP, "asr.typo"))
    serving: list[bool] = []
    monkeypatch.setattr(run_ingest.Command, "_serve", lambda _: serving.append(True))
    with pytest.raises(jobs.UnknownJob, match=r"'asr\.typo'"):
        call_command("run_ingest")
    assert serving == []
