"""Bad input to the webhook is a 4xx, never a 500: seeded property-based fuzzing of the endpoint."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.rtms_ingest.queued_commands import queued_commands
from tests.rtms_ingest.webhooks.edge import post
from tests.rtms_ingest.webhooks.test_receiver import started

pytestmark = [pytest.mark.django_db(transaction=True)]

JsonValue = Any

# Scalars that PostgreSQL or the parser have tripped on: NULs, surrogates, 64-bit edges.
_texts = st.text(alphabet=st.characters(codec=None), max_size=40) | st.sampled_from(
    ["\x00", "a\x00b", "\ud800", "x" * 400, ""]
)
_ints = st.integers() | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1])
_scalars = st.none() | st.booleans() | _ints | st.floats() | _texts
_values: st.SearchStrategy[JsonValue] = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def mutated_bodies(draw: st.DrawFn) -> bytes:
    """A real rtms_started or url_validation body with one to three fields replaced."""
    body: dict[str, Any] = draw(
        st.sampled_from(
            [
                started(),
                {"event": "endpoint.url_validation", "event_ts": 1, "payload": {"plainToken": "t"}},
                {**started(), "event": "meeting.rtms_stopped"},
            ]
        )
    )
    body = json.loads(json.dumps(body))
    fields = ["event", "event_ts", "payload", "extra", *body["payload"]]
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(fields))
        if where in ("event", "event_ts", "payload", "extra"):
            body[where] = draw(_values)
        elif isinstance(body.get("payload"), dict):
            body["payload"][where] = draw(_values)
    # ensure_ascii keeps lone surrogates as \u escapes; allow_nan writes NaN/Infinity as Python
    # does: both are bodies a sender can produce, and both must be refused, not crash.
    return json.dumps(body, allow_nan=True).encode()


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=mutated_bodies())
def test_correctly_signed_mutated_bodies_are_never_a_server_error(
    queue: redis.Redis, body: bytes
) -> None:
    assert post(body).status_code < 500


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b["payload"].update(operator_id="a\x00b"), id="nul-in-payload"),
        pytest.param(lambda b: b.update(event_ts=2**63), id="event-ts-past-bigint"),
        pytest.param(lambda b: b.update(event_ts=2**64), id="event-ts-past-64-bits"),
        pytest.param(lambda b: b.update(event_ts="1700000000000"), id="event-ts-a-string"),
        pytest.param(lambda b: b["payload"].update(rtms_stream_id="s" * 256), id="long-stream-id"),
        pytest.param(lambda b: b.update(event="meeting." + "x" * 100), id="long-event"),
        pytest.param(lambda b: b["payload"].update(x=float("nan")), id="nan"),
    ],
)
def test_envelope_postgresql_would_refuse_is_400_with_a_reason(
    queue: redis.Redis, mutate: Any
) -> None:
    body = started()
    mutate(body)
    response = post(json.dumps(body).encode())
    assert response.status_code == 400
    assert response.json()["error"]
    assert queued_commands(queue) == []
