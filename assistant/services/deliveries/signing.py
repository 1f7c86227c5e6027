"""The webhook signature: `X-Meeting-Notes-Signature: t=<unix seconds>,v1=<hex>`.

v1 is HMAC-SHA256, keyed with the target's secret, over `<t>.` followed by the exact body
bytes (the scheme Stripe and Slack use). A receiver recomputes it over the body as received,
compares in constant time and refuses a `t` far from its clock (replays). Each attempt is signed
afresh; the body and `X-Meeting-Notes-Delivery` (the delivery's id, for deduplication) stay the
same across attempts.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Meeting-Notes-Signature"
DELIVERY_HEADER = "X-Meeting-Notes-Delivery"
EVENT_HEADER = "X-Meeting-Notes-Event"
EVENT = "meeting.notes"
# What `verify` accepts by default: the receiver's clock against the signing time.
TOLERANCE_S = 300


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The header's value for this body signed at this time."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(
    secret: str, body: bytes, header: str, now: float, tolerance_s: int = TOLERANCE_S
) -> bool:
    """Whether a header signs this body with this secret within the tolerance (receivers' side)."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(secret, body, timestamp).partition(",v1=")[2]
    # Any v1 may match: a sender rolling its secret may sign with both for a while.
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
