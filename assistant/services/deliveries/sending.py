"""Sending one delivery (the body of the `assistant.deliver_notes` job).

The job claims its delivery with a conditional UPDATE (pending -> sending, under the job's id,
until the claim runs out), so two runs of the job never send at once, and a run that finds it
sent or failed sends nothing. A worker that dies while sending leaves its claim: the job,
delivered again under the same id, takes it back and sends again with the same delivery id
(the header receivers dedupe on); another job takes it once the claim has run out.
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.utils import timezone

from assistant.models import Delivery, DeliveryTarget
from assistant.services import outbound_http
from assistant.services.deliveries import attempts, content, mail, signing, slack, targets
from assistant.services.deliveries.attempts import Attempt, Result
from assistant.services.sealing import SealingError

log = logging.getLogger(__name__)

# A run stops trying new attempts after this long; the job's time limits sit above it, and a
# claim outlives the job (so only a job that died loses it).
RUN_BUDGET_S = 240.0
CLAIM_S = 330.0
State = Delivery.State
Kind = DeliveryTarget.Kind


def deliver(delivery_pk: int, job_id: str | None = None) -> str:
    """Send one delivery unless it is sent, failed or being sent; the state it is left in."""
    token = job_id or uuid.uuid4().hex
    if not _claim(delivery_pk, token):
        state = Delivery.objects.filter(pk=delivery_pk).values_list("state", flat=True).first()
        log.info("delivery %s not sent by this job: it is %s", delivery_pk, state or "gone")
        return state or "gone"
    delivery = Delivery.objects.select_related("target", "meeting").get(pk=delivery_pk)
    target = delivery.target
    deadline = time.monotonic() + RUN_BUDGET_S
    try:
        attempt = _attempt_for(delivery)
    except (SealingError, targets.TargetError) as exc:
        result = Result(False, error=str(exc))
    else:
        result = attempts.run(
            delivery, attempt, deadline=deadline, extend_claim=lambda: _extend(delivery, token)
        )
    state = _finish(delivery, token, result)
    log.info(
        "delivery %s of meeting %s to %s %s (%s) after %d attempt(s)%s",
        delivery.pk,
        delivery.meeting_id,
        target.kind,
        targets.where(target) if target.kind != Kind.EMAIL else "email",
        state,
        delivery.attempts,
        f": {result.error}" if result.error and not result.sent else "",
    )
    return state


def _claim(delivery_pk: int, token: str) -> bool:
    """Take the delivery for this job: pending, or sending under a claim that is ours or over."""
    now = timezone.now()
    free = Q(state=State.PENDING) | Q(state=State.SENDING) & (
        Q(claim_token=token) | Q(claimed_until__lt=now)
    )
    taken = (
        Delivery.objects.filter(pk=delivery_pk)
        .filter(free)
        .update(state=State.SENDING, claim_token=token, claimed_until=attempts.claim_until(CLAIM_S))
    )
    return bool(taken)


def _extend(delivery: Delivery, token: str) -> None:
    Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(
        claimed_until=attempts.claim_until(CLAIM_S)
    )


def _finish(delivery: Delivery, token: str, result: Result) -> str:
    """Record the outcome, if the claim is still ours (else another run owns it now)."""
    state = State.SENT if result.sent else State.FAILED
    Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(
        state=state,
        error="" if result.sent else result.error[:300],
        sent_at=timezone.now() if result.sent else None,
        notes_version=delivery.notes_version,
        claimed_until=None,
    )
    return str(state)


def _attempt_for(delivery: Delivery) -> Attempt:
    """One attempt of this delivery, its body built once (every attempt sends the same bytes)."""
    target = delivery.target
    if not target.enabled:
        raise targets.TargetError("the target was turned off")
    notes = content.notes_content(delivery.meeting_id)
    delivery.notes_version = notes.notes_version
    if target.kind == Kind.WEBHOOK:
        return _webhook(delivery, content.export_body(delivery.meeting_id))
    if target.kind == Kind.SLACK:
        url = targets.check_url(Kind.SLACK, targets.url_of(target))
        return _http_post(url, slack.payload(notes), {})
    to = mail.recipients(target, delivery.meeting)
    if not to:
        raise targets.TargetError("no recipient has an email address")
    return _email(mail.message(notes, to))


def _webhook(delivery: Delivery, body: bytes) -> Attempt:
    url, secret = targets.url_of(delivery.target), targets.secret_of(delivery.target)
    fixed = {
        signing.DELIVERY_HEADER: str(delivery.delivery_id),
        signing.EVENT_HEADER: signing.EVENT,
    }

    def attempt() -> Result:
        # Signed at each attempt, so a receiver's replay window holds for retries too.
        signed = {signing.SIGNATURE_HEADER: signing.signature(secret, body, int(time.time()))}
        return _post(url, body, {**fixed, **signed})

    return attempt


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> Attempt:
    return lambda: _post(url, body, headers)


def _post(url: str, body: bytes, headers: dict[str, str]) -> Result:
    try:
        answer = outbound_http.post(
            url,
            body,
            {
                "Content-Type": "application/json",
                "User-Agent": "MeetingAssistant-Deliveries/1",
                **headers,
            },
            timeout_s=settings.DELIVERY_TIMEOUT_S,
        )
    except outbound_http.Refused as exc:
        return Result(False, error=f"refused: {exc}")
    except outbound_http.Unreachable as exc:
        return Result(False, retry=True, error=str(exc))
    return Result.from_answer(answer)


def _email(message: EmailMultiAlternatives) -> Attempt:
    def attempt() -> Result:
        try:
            message.send(fail_silently=False)
        except smtplib.SMTPResponseException as exc:
            # 4xx is the server's "try again later"; 5xx is for good.
            code = exc.smtp_code
            return Result(False, retry=400 <= code < 500, status_code=code, error=f"SMTP {code}")
        except smtplib.SMTPRecipientsRefused:
            return Result(False, error="every recipient was refused")
        except (smtplib.SMTPException, OSError) as exc:
            return Result(False, retry=True, error=f"{type(exc).__name__}: {exc}"[:200])
        return Result(True)

    return attempt
