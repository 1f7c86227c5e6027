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

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "assistant" / "settings.py").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
IMAGE_ONLY_VARS = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
APP_SERVICES = ["migrate", "web", "ingest", "worker", "beat"]


def settings_variables() -> set[str]:
    return set(
        re.findall(r'env_(?:str|bool|int|float|list|secret)\(\s*"([A-Z0-9_]+)"', SETTINGS_SOURCE)
    )


def service(name: str) -> dict[str, Any]:
    return COMPOSE["services"][name]


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
        assert argv[argv.index("-A") + 2] in {"worker", "beat"}
    else:
        raise AssertionError(f"unknown program {program}")


def test_compose_runs_the_production_processes() -> None:
    assert {"postgres", "redis", "web", "ingest", "worker", "beat"} <= set(COMPOSE["services"])


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
    procfile = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        procfile[name.strip()] = shlex.split(command)
    for name in ("web", "ingest", "worker", "beat"):
        compose_argv = service(name)["command"]
        local_argv = [Path(arg).name if i == 0 else arg for i, arg in enumerate(procfile[name])]
        # Same program and subcommand; host, port and schedule paths may differ locally.
        assert local_argv[0] == Path(compose_argv[0]).name
        if local_argv[0] == "python":
            assert local_argv[1:3] == compose_argv[1:3]
        else:
            assert local_argv[-1] == compose_argv[-1] or local_argv[1:4] == compose_argv[1:4]
