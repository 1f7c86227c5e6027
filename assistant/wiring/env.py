"""Typed readers for configuration from the environment that fail loudly on bad values.

Each reader also records the variable it read and its default (`declared_defaults`): the one
list of every setting the product reads, against which the documentation's defaults are
checked (`.env.example`, the README's and docs/architecture.md's tables).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

Default = str | bool | int | float | list[str]
_declared: dict[str, Default] = {}


def declared_defaults() -> dict[str, Default]:
    """Every variable read so far (all of them, once the settings are loaded), with its default."""
    return dict(_declared)


def _declare(name: str, default: Default) -> None:
    _declared.setdefault(name, default)


def _raw(name: str) -> str | None:
    """The variable's value; set-but-empty counts as unset (a blank line copied from a template)."""
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value


def env_str(name: str, default: str = "") -> str:
    """Return the variable, or default when it is unset or empty."""
    _declare(name, default)
    value = _raw(name)
    return default if value is None else value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Return one of `choices`; any other value is an error naming them."""
    value = env_str(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    """Return a boolean variable; anything but a clear yes/no is an error."""
    _declare(name, default)
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    """Return an integer variable; a non-integer is an error."""
    _declare(name, default)
    raw = _raw(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float) -> float:
    """Return a float variable; a non-number is an error."""
    _declare(name, default)
    raw = _raw(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated list variable."""
    _declare(name, default)
    raw = _raw(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Return a secret from NAME, or from the file named by NAME_FILE (Docker/K8s secrets)."""
    _declare(name, default)
    file_name = _raw(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} is unreadable: {exc}") from None
    value = _raw(name)
    return default if value is None else value


class Rate(NamedTuple):
    """A budget: at most `uses` per `period_s` seconds."""

    uses: int
    period_s: int


_PERIODS = {"s": 1, "sec": 1, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


def env_rate(name: str, default: str) -> Rate:
    """Return a rate written `COUNT/PERIOD` (`10/min`, `100/hour`, `5/s`); else an error."""
    raw = env_str(name, default).strip().lower()
    count, _, period = raw.partition("/")
    try:
        rate = Rate(int(count), _PERIODS[period.strip()])
    except (ValueError, KeyError):
        raise ImproperlyConfigured(
            f"{name} must be COUNT/PERIOD with PERIOD s, min or hour (like 10/min), got {raw!r}"
        ) from None
    if rate.uses < 1:
        raise ImproperlyConfigured(f"{name} must allow at least one use, got {raw!r}")
    return rate
