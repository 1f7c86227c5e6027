"""One structured LLM call through the official openai client: retries, format fallback, checks.

Any OpenAI-compatible endpoint. Structured output is asked for as OpenAI's
`response_format={"type": "json_schema", ...}`; llama.cpp's server rejects that (HTTP 400 or
500) and takes `{"type": "json_object", "schema": ...}` instead, so on that refusal the call
switches once and remembers the format per endpoint. Every reply is validated with pydantic.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from django.conf import settings
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

JSON_SCHEMA = "json_schema"
JSON_OBJECT = "json_object"
_RETRYABLE = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError)
RETRY_TEMPERATURE = 0.7
_formats: dict[str, str] = {}
_formats_lock = threading.Lock()


class LlmError(Exception):
    """The LLM gave no usable notes; `status` is the MeetingNotes.Status to show."""

    status = "llm_unreachable"


class LlmUnreachable(LlmError):
    """Every attempt failed on the way: connection, timeout, 429 or 5xx."""

    status = "llm_unreachable"


class LlmInvalid(LlmError):
    """The LLM answered, but never with JSON that fits the schema."""

    status = "llm_invalid"


@dataclass(frozen=True)
class LlmConfig:
    """Where and how to call the LLM."""

    base_url: str
    api_key: str
    model: str
    timeout_s: float
    max_attempts: int
    backoff_s: float
    max_output_tokens: int

    @classmethod
    def from_settings(cls) -> LlmConfig:
        """The configuration in Django settings."""
        return cls(
            base_url=settings.LLM_BASE_URL,
            # Local servers take any key; the client refuses an empty one.
            api_key=settings.LLM_API_KEY or "not-needed",
            model=settings.LLM_MODEL,
            timeout_s=settings.LLM_TIMEOUT_S,
            max_attempts=max(1, settings.LLM_MAX_ATTEMPTS),
            backoff_s=settings.LLM_BACKOFF_S,
            max_output_tokens=settings.LLM_MAX_OUTPUT_TOKENS,
        )


@dataclass
class CallStats:
    """What one structured call cost: requests made and input tokens sent (as reported)."""

    requests: int = 0
    prompt_tokens: int = 0


def complete(
    config: LlmConfig,
    messages: Sequence[ChatCompletionMessageParam],
    schema: type[ModelT],
    stats: CallStats | None = None,
) -> ModelT:
    """The reply to `messages` as a validated `schema`; LlmUnreachable or LlmInvalid if none."""
    client = openai.OpenAI(
        base_url=config.base_url, api_key=config.api_key, timeout=config.timeout_s, max_retries=0
    )
    stats = stats if stats is not None else CallStats()
    with _formats_lock:
        fmt = _formats.get(config.base_url, JSON_SCHEMA)
    confirmed = config.base_url in _formats
    last_error: Exception | None = None
    invalid = False
    attempt = 0
    while attempt < config.max_attempts:
        try:
            stats.requests += 1
            # At temperature 0 a retry after an unusable reply would get the same reply: it
            # samples instead, seeded so that the same input gives the same notes.
            sampling = (RETRY_TEMPERATURE, attempt) if invalid else (0.0, 0)
            content = _request(client, config, messages, schema, fmt, stats, sampling)
        except (openai.BadRequestError, openai.InternalServerError) as exc:
            if fmt == JSON_SCHEMA and not confirmed:
                # llama.cpp refuses json_schema; try its dialect at once (not a failed attempt).
                log.info(
                    "LLM at %s refused json_schema (%s); trying json_object", config.base_url, exc
                )
                fmt, confirmed = JSON_OBJECT, True
                continue
            if isinstance(exc, openai.BadRequestError):
                raise LlmInvalid(f"the LLM refused the request: {exc}") from exc
            last_error, invalid = exc, False
        except (*_RETRYABLE, openai.APIConnectionError) as exc:
            last_error, invalid = exc, False
        else:
            try:
                reply = schema.model_validate(_json_of(content))
            except (ValueError, ValidationError) as exc:
                last_error, invalid = exc, True
                log.warning("LLM reply does not fit %s: %s", schema.__name__, str(exc)[:300])
            else:
                with _formats_lock:
                    _formats[config.base_url] = fmt
                return reply
        attempt += 1
        if attempt < config.max_attempts:
            time.sleep(_backoff(config.backoff_s, attempt, last_error))
    if invalid:
        raise LlmInvalid(f"no reply fitting the schema in {config.max_attempts} attempts")
    raise LlmUnreachable(f"LLM unreachable after {config.max_attempts} attempts: {last_error}")


def _request(
    client: openai.OpenAI,
    config: LlmConfig,
    messages: Sequence[ChatCompletionMessageParam],
    schema: type[BaseModel],
    fmt: str,
    stats: CallStats,
    sampling: tuple[float, int],
) -> str:
    """One chat completion in the given structured-output format; the reply's text."""
    json_schema = wire_schema(schema)
    response_format: Any
    if fmt == JSON_SCHEMA:
        response_format = {
            "type": "json_schema",
            # Not strict: OpenAI's strict mode refuses length limits; the reply is validated here.
            "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": False},
        }
    else:
        response_format = {"type": "json_object", "schema": json_schema}
    response = client.chat.completions.create(
        model=config.model,
        messages=list(messages),
        response_format=response_format,
        temperature=sampling[0],
        seed=sampling[1],
        max_tokens=config.max_output_tokens,
    )
    if response.usage is not None:
        stats.prompt_tokens += response.usage.prompt_tokens
    if not response.choices:
        raise ValueError("reply without choices")
    return response.choices[0].message.content or ""


def wire_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema as sent: pydantic's without titles and docstrings (tokens, no meaning)."""
    stripped: dict[str, Any] = _untitled(schema.model_json_schema(), properties=False)
    return stripped


def _untitled(node: Any, *, properties: bool) -> Any:
    """A schema node without "title"/"description" keywords (a property named so stays)."""
    if isinstance(node, list):
        return [_untitled(item, properties=False) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _untitled(value, properties=key == "properties" and not properties)
        for key, value in node.items()
        if properties or not (key in ("title", "description") and isinstance(value, str))
    }


def _json_of(content: str) -> Any:
    """The JSON value of a reply, tolerating a Markdown code fence around it and raw control
    characters (a newline or tab typed inside a string, as small models and some grammars do)."""
    text = content.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.S)
    return json.loads(fenced.group(1) if fenced else text, strict=False)


def _backoff(base_s: float, attempt: int, error: Exception | None) -> float:
    """Seconds to wait before the next attempt: the server's Retry-After, else exponential."""
    if isinstance(error, openai.APIStatusError):
        retry_after = error.response.headers.get("retry-after")
        if retry_after and retry_after.replace(".", "", 1).isdigit():
            return min(float(retry_after), 30.0)
    return base_s * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)  # noqa: S311


def forget_formats() -> None:
    """Forget which structured-output format each endpoint takes (tests start afresh)."""
    with _formats_lock:
        _formats.clear()
