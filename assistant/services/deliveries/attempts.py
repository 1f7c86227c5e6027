"""Trying a delivery until it is sent, it fails for good, or its attempts or time run out.

An attempt that met a network error, a timeout, 429 or 5xx is tried again after
DELIVERY_BACKOFF_S, then twice that, and so on (each wait at most MAX_WAIT_S; a longer
Retry-After is honoured up to that); any other answer ends the delivery. Every attempt is
logged (DeliveryAttempt: when, status or error, how long): the admin's delivery log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from assistant.models import Delivery, DeliveryAttempt
from assistant.services import outbound_http

MAX_WAIT_S = 60.0


@dataclass(frozen=True)
class Result:
    """How one attempt went."""

    sent: bool
    retry: bool = False
    status_code: int | None = None
    error: str = ""
    wait_s: float | None = None

    @classmethod
    def from_answer(cls, answer: outbound_http.Answer) -> Result:
        """A receiver's HTTP answer: 2xx sent; 429 and 5xx retried; anything else final."""
        status = answer.status
        if answer.ok:
            return cls(sent=True, status_code=status)
        if 300 <= status < 400:
            where = outbound_http.host_of(answer.location) or "a relative URL"
            return cls(
                False, status_code=status, error=f"HTTP {status}: redirect to {where} not followed"
            )
        excerpt = " ".join(answer.excerpt.split())[:120]
        error = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
        retry = status == 429 or status >= 500
        return cls(False, retry=retry, status_code=status, error=error, wait_s=answer.retry_after_s)


Attempt = Callable[[], Result]


def run(
    delivery: Delivery,
    attempt: Attempt,
    *,
    deadline: float,
    extend_claim: Callable[[], None],
    sleep: Callable[[float], None] = time.sleep,
) -> Result:
    """Attempt until sent or final; the last result. Attempts count on from those logged."""
    number = delivery.attempts
    result = Result(False, error="no attempts left")
    while number < settings.DELIVERY_MAX_ATTEMPTS:
        number += 1
        started = time.monotonic()
        at = timezone.now()
        result = attempt()
        _log(delivery, number, at, started, result)
        if result.sent or not result.retry or number >= settings.DELIVERY_MAX_ATTEMPTS:
            return result
        wait = backoff_s(number, result.wait_s)
        if time.monotonic() + wait > deadline:
            return Result(
                False, status_code=result.status_code, error=f"{result.error} (out of time)"
            )
        extend_claim()
        sleep(wait)
    return result


def backoff_s(attempts_made: int, retry_after_s: float | None) -> float:
    """The wait before the next attempt: exponential, or the receiver's Retry-After if longer."""
    wait = settings.DELIVERY_BACKOFF_S * 2 ** (attempts_made - 1)
    if retry_after_s is not None:
        wait = max(wait, retry_after_s)
    return min(wait, MAX_WAIT_S)


def _log(delivery: Delivery, number: int, at: datetime, started: float, result: Result) -> None:
    duration_ms = round((time.monotonic() - started) * 1000)
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=number,
        at=at,
        status_code=result.status_code,
        error="" if result.sent else result.error[:300],
        duration_ms=duration_ms,
    )
    Delivery.objects.filter(pk=delivery.pk).update(attempts=number)
    delivery.attempts = number


def claim_until(seconds: float) -> datetime:
    """When a claim taken now for this many seconds runs out."""
    return timezone.now() + timedelta(seconds=seconds)
