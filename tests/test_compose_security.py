"""docker-compose.yml's exposure: loopback-only web port, passwords required, Redis as it runs.

Docker is not on this machine: compose's variable interpolation is done here by its documented
rules (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `$$`), and Redis is started from the
compose service's own command line.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from assistant.wiring.http_limits import APPLICATION_TIMEOUT_S
from tests.integration.stack import free_port

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = [name for name, service in SERVICES.items() if service.get("build")]
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(Exception):
    """compose refuses to start: a `${VAR:?error}` whose variable is unset (or empty)."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """`value` (a string, list or mapping from the compose file) as compose interpolates it."""
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg")
        current = env.get(name)
        unset = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in (":?", "?") and unset:
            raise MissingVariable(f"{name}: {arg}")
        if op in (":-", "-") and unset:
            return str(arg)
        return current or ""

    return _VARIABLE.sub(substitute, value)


def app_environment(name: str) -> dict[str, str]:
    return dict(SERVICES[name]["environment"])


DATA_KEYS = {"DATA_ENCRYPTION_KEYS": "k" * 43 + "="}
PASSWORD_USES = [
    (service, password)
    for service in ["postgres", "redis", *APP_SERVICES]
    for password in ("POSTGRES_PASSWORD", "REDIS_PASSWORD")
    if password in json.dumps(SERVICES[service]) or service == password.split("_")[0].lower()
]


@pytest.mark.parametrize(("service", "missing"), PASSWORD_USES)
def test_compose_refuses_to_start_without_a_password(service: str, missing: str) -> None:
    env = {"POSTGRES_PASSWORD": "pg-secret", "REDIS_PASSWORD": "redis-secret", **DATA_KEYS}
    with pytest.raises(MissingVariable, match=missing):
        interpolate(SERVICES[service], {k: v for k, v in env.items() if k != missing})
    with pytest.raises(MissingVariable, match=missing):
        interpolate(SERVICES[service], env | {missing: ""})


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_refuses_to_start_an_app_process_without_data_encryption_keys(name: str) -> None:
    # Stored secrets must not hang on DJANGO_SECRET_KEY (the derived key of a laptop).
    env = {"POSTGRES_PASSWORD": "pg-secret", "REDIS_PASSWORD": "redis-secret"}
    with pytest.raises(MissingVariable, match="DATA_ENCRYPTION_KEYS"):
        interpolate(app_environment(name), env)
    environment = interpolate(app_environment(name), env | DATA_KEYS)
    assert environment["DATA_ENCRYPTION_KEYS"] == DATA_KEYS["DATA_ENCRYPTION_KEYS"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_process_reaches_postgres_and_redis_with_their_passwords(name: str) -> None:
    env = {"POSTGRES_PASSWORD": "pg-secret", "REDIS_PASSWORD": "redis-secret", **DATA_KEYS}
    environment = interpolate(app_environment(name), env)
    assert environment["DATABASE_URL"].startswith("postgres://assistant:pg-secret@postgres:")
    assert environment["REDIS_URL"].startswith("redis://:redis-secret@redis:")


def test_the_web_port_is_published_on_loopback_only() -> None:
    # Plain HTTP, trusting X-Forwarded-Proto: only the TLS proxy on the host may reach it.
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    assert SERVICES["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_metrics_listen_on_the_compose_network_and_are_never_published() -> None:
    for name, service in SERVICES.items():
        environment = service.get("environment") or {}
        ports = {key for key in environment if key.endswith("_METRICS_PORT")}
        if not ports:
            continue
        assert environment["METRICS_BIND_ADDRESS"] == "0.0.0.0", name
        published = {str(port).rsplit(":", 1)[-1] for port in service.get("ports", [])}
        assert not published & {str(environment[key]) for key in ports}, name


def _argv_of_dockerfile_cmd() -> list[str]:
    line = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    )
    return list(json.loads(line.removeprefix("CMD ")))


def _procfile_web() -> list[str]:
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    return line.removeprefix("web:").split()


@pytest.mark.parametrize(
    "argv",
    [_argv_of_dockerfile_cmd(), SERVICES["web"]["command"], _procfile_web()],
    ids=["Dockerfile", "compose", "Procfile"],
)
def test_every_web_command_bounds_the_applications_time_to_answer(argv: list[str]) -> None:
    assert Path(argv[0]).name == "daphne"
    assert argv[argv.index("--http-timeout") + 1] == str(APPLICATION_TIMEOUT_S)


@pytest.fixture
def compose_redis(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """redis-server run with compose's own command line (its password interpolated)."""
    password = secrets.token_hex(16)
    argv = interpolate(SERVICES["redis"]["command"], {"REDIS_PASSWORD": password})
    port = free_port()
    process = subprocess.Popen(
        [*argv, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, check=False
            )
            if probe.stdout.strip():
                break
            time.sleep(0.05)
        yield port, password
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_redis_as_compose_runs_it_refuses_clients_without_the_password(
    compose_redis: tuple[int, str],
) -> None:
    port, _ = compose_redis
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=port).ping()
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=port, password="guessed").ping()


def test_the_apps_redis_url_and_the_healthcheck_get_in(compose_redis: tuple[int, str]) -> None:
    port, password = compose_redis
    url = interpolate(app_environment("web")["REDIS_URL"], {"REDIS_PASSWORD": password})
    client = redis.Redis.from_url(url.replace("@redis:6379", f"@127.0.0.1:{port}"))
    assert client.ping()
    client.close()
    healthcheck = SERVICES["redis"]["healthcheck"]["test"][1:]
    redis_env = interpolate(SERVICES["redis"]["environment"], {"REDIS_PASSWORD": password})
    env = {"PATH": os.environ["PATH"]}
    check = [*healthcheck[:1], "-p", str(port), *healthcheck[1:]]
    healthy = subprocess.run(check, env=env | redis_env, capture_output=True, text=True)
    assert healthy.stdout.strip() == "PONG"
    refused = subprocess.run(check, env=env, capture_output=True, text=True)
    assert "NOAUTH" in refused.stdout
