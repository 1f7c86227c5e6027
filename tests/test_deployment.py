"""docker-compose.yml and the Procfile stay true to the code: same commands, same variables."""

from __future__ import annotations

import importlib
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands

from assistant import jobs
from tests.integration.own_redis import PERSISTENCE

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "assistant" / "settings.py").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
IMAGE_ONLY_VARS = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
WORKER_SERVICES = ["worker", "worker-asr", "worker-llm"]
APP_SERVICES = ["migrate", "web", "ingest", *WORKER_SERVICES, "beat"]


def settings_variables() -> set[str]:
    return set(
        re.findall(r'env_(?:str|bool|int|float|list|secret)\(\s*"([A-Z0-9_]+)"', SETTINGS_SOURCE)
    )


def service(name: str) -> dict[str, Any]:
    return COMPOSE["services"][name]


def option(argv: list[str], flag: str) -> str | None:
    """The value given to flag in argv, if any."""
    return argv[argv.index(flag) + 1] if flag in argv else None


def procfile() -> dict[str, list[str]]:
    """Each Procfile process's argv, the program by its bare name (compose runs it from PATH)."""
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        argv = shlex.split(command)
        processes[name.strip()] = [Path(argv[0]).name, *argv[1:]]
    return processes


def check_command(argv: list[str]) -> None:
    """Fail unless the command names something that exists in this code base."""
    program = Path(argv[0]).name
    if program == "python":
        assert argv[1] == "manage.py"
        assert argv[2] in get_commands(), f"no management command {argv[2]!r}"
    elif program == "daphne":
        module, _, attribute = argv[-1].partition(":")
        assert hasattr(importlib.import_module(module), attribute)
    elif program == "celery":
        app_module = argv[argv.index("-A") + 1]
        assert hasattr(importlib.import_module(app_module), "celery_app")
        subcommand = argv[argv.index("-A") + 2]
        assert subcommand in {"worker", "beat"}
        if subcommand == "worker":
            queues = option(argv, "-Q")
            assert queues, "a worker names its queues"
            assert set(queues.split(",")) <= set(jobs.QUEUES), queues
    else:
        raise AssertionError(f"unknown program {program}")


def test_compose_runs_the_production_processes() -> None:
    assert set(COMPOSE["services"]) == {"postgres", "redis", *APP_SERVICES}


def test_each_queue_has_one_worker_service_of_its_own() -> None:
    queues = sorted(str(option(service(name)["command"], "-Q")) for name in WORKER_SERVICES)
    assert queues == sorted(jobs.QUEUES)
    node_names = {option(service(name)["command"], "-n") for name in WORKER_SERVICES}
    assert len(node_names) == len(WORKER_SERVICES), "workers on one host need distinct names"


def test_redis_keeps_its_data_on_a_volume_across_restarts() -> None:
    redis = service("redis")
    # The tests' own Redis (the restart tests) runs with these same options.
    argv = redis["command"]
    for flag, value in zip(PERSISTENCE[::2], PERSISTENCE[1::2], strict=True):
        assert option(argv, flag) == value, flag
    volume, _, mounted = next(v for v in redis["volumes"] if v.endswith(":/data")).partition(":")
    assert mounted == "/data" and volume in COMPOSE["volumes"], "the image keeps its data in /data"


def test_the_asr_worker_runs_one_job_at_a_time() -> None:
    # Each worker process holds a Whisper model; more children would hold more models.
    assert option(service("worker-asr")["command"], "--concurrency") == "1"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_compose_command_exists_in_the_code(name: str) -> None:
    check_command(service(name)["command"])


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_compose_variable_is_read_by_the_settings(name: str) -> None:
    variables = set(service(name)["environment"]) - IMAGE_ONLY_VARS
    assert variables <= settings_variables(), variables - settings_variables()


def test_every_setting_variable_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE, flags=re.M))
    missing = settings_variables() - documented
    assert not missing, f"undocumented in .env.example: {sorted(missing)}"


def test_procfile_runs_the_same_commands_as_compose() -> None:
    processes = procfile()
    assert set(processes) == set(APP_SERVICES) - {"migrate"}
    for name in WORKER_SERVICES:
        assert processes[name] == service(name)["command"]
    for name in ("web", "ingest", "beat"):
        compose_argv = service(name)["command"]
        local_argv = processes[name]
        # Same program and subcommand; host, port and schedule paths may differ locally.
        assert local_argv[0] == Path(compose_argv[0]).name
        if local_argv[0] == "python":
            assert local_argv[1:3] == compose_argv[1:3]
        else:
            assert local_argv[-1] == compose_argv[-1] or local_argv[1:4] == compose_argv[1:4]
