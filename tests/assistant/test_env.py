"""Typed environment readers: loud on bad values, and a blank value means "use the default"."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from assistant.wiring.env import (
    Rate,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_secret,
    env_str,
)


def test_blank_values_copied_from_the_template_mean_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("A_STR", "A_BOOL", "A_INT", "A_FLOAT", "A_LIST", "A_SECRET"):
        monkeypatch.setenv(name, "  ")
    assert env_str("A_STR", "policy") == "policy"
    assert env_bool("A_BOOL", True) is True
    assert env_int("A_INT", 7) == 7
    assert env_float("A_FLOAT", 1.5) == 1.5
    assert env_list("A_LIST", ["x"]) == ["x"]
    assert env_secret("A_SECRET", "d") == "d"


def test_a_bad_boolean_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A_BOOL", "maybe")
    with pytest.raises(ImproperlyConfigured, match="A_BOOL"):
        env_bool("A_BOOL")


def test_a_bad_integer_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="A_INT"):
        env_int("A_INT", 1)


def test_secret_is_read_from_the_file_named_by_name_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text("s3cret\n")
    monkeypatch.setenv("A_SECRET_FILE", str(secret_file))
    monkeypatch.setenv("A_SECRET", "ignored")
    assert env_secret("A_SECRET") == "s3cret"


def test_unreadable_secret_file_fails_loudly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("A_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="A_SECRET_FILE"):
        env_secret("A_SECRET")


def test_lists_are_comma_separated_and_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A_LIST", " a.example , b.example,,")
    assert env_list("A_LIST", []) == ["a.example", "b.example"]


def test_a_choice_outside_its_list_is_refused_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRANSCRIPTION_X", "whisper")
    with pytest.raises(ImproperlyConfigured, match="native, asr, both"):
        env_choice("TRANSCRIPTION_X", "native", ("native", "asr", "both"))
    monkeypatch.setenv("TRANSCRIPTION_X", " Both ")
    assert env_choice("TRANSCRIPTION_X", "native", ("native", "asr", "both")) == "both"


@pytest.mark.parametrize(
    ("raw", "rate"),
    [("10/min", Rate(10, 60)), ("100 / hour", Rate(100, 3600)), ("5/s", Rate(5, 1))],
)
def test_a_rate_is_uses_per_period(monkeypatch: pytest.MonkeyPatch, raw: str, rate: Rate) -> None:
    monkeypatch.setenv("A_RATE", raw)
    assert env_rate("A_RATE", "1/min") == rate


@pytest.mark.parametrize("raw", ["ten/min", "10/week", "0/min", "10"])
def test_a_bad_rate_fails_loudly(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("A_RATE", raw)
    with pytest.raises(ImproperlyConfigured, match="A_RATE"):
        env_rate("A_RATE", "1/min")
