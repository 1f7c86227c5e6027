"""Delivery targets: checked before they are stored, their URL and secret sealed, owned by a host.

A host sees and changes only their own targets; the site's (no owner) are staff's, in the admin.
A meeting's notes go to the site's targets and to its host's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q, QuerySet

from assistant.models import DeliveryTarget, Meeting, ZoomUserLink
from assistant.services import outbound_http, sealing

Kind = DeliveryTarget.Kind
SECRET_MIN_CHARS = 16
SECRET_MAX_CHARS = 200
URL_MAX_CHARS = 2000
MAX_RECIPIENTS = 20
_ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


class TargetError(ValueError):
    """A target that may not be stored; the message says why, for the form."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TargetInput:
    """A target as a form gives it (the URL and secret in clear, before sealing)."""

    kind: str
    name: str
    url: str = ""
    secret: str = ""
    recipients: str = ""


def check(data: TargetInput) -> TargetInput:
    """The input cleaned, or TargetError naming the field that is wrong."""
    name = data.name.strip()
    if not name:
        raise TargetError("Give the target a name.", "name")
    if data.kind not in Kind.values:
        raise TargetError("Choose a kind of target.", "kind")
    if data.kind == Kind.EMAIL:
        return TargetInput(data.kind, name, recipients="\n".join(recipients_of(data.recipients)))
    url = check_url(data.kind, data.url)
    secret = data.secret.strip()
    if data.kind == Kind.WEBHOOK:
        check_secret(secret)
    return TargetInput(data.kind, name, url=url, secret=secret if data.kind == Kind.WEBHOOK else "")


def check_url(kind: str, url: str) -> str:
    """A webhook or Slack URL that may be stored (its addresses are checked when it is called)."""
    url = url.strip()
    if not url:
        raise TargetError("Give the URL to send to.", "url")
    if len(url) > URL_MAX_CHARS:
        raise TargetError(f"The URL is longer than {URL_MAX_CHARS} characters.", "url")
    try:
        parts = outbound_http.check_url(url)
    except outbound_http.Refused as exc:
        raise TargetError(f"This URL cannot be used: {exc}.", "url") from None
    if kind == Kind.SLACK and (parts.hostname or "").lower() not in settings.SLACK_WEBHOOK_HOSTS:
        hosts = ", ".join(settings.SLACK_WEBHOOK_HOSTS)
        raise TargetError(f"A Slack incoming-webhook URL is on {hosts}.", "url")
    return url


def check_secret(secret: str) -> None:
    """A webhook signing secret long enough to resist guessing."""
    if not SECRET_MIN_CHARS <= len(secret) <= SECRET_MAX_CHARS:
        raise TargetError(
            f"The signing secret must be {SECRET_MIN_CHARS} to {SECRET_MAX_CHARS} characters "
            "(e.g. `openssl rand -hex 32`).",
            "secret",
        )


def recipients_of(text: str) -> list[str]:
    """Email addresses written one per line or separated by commas; TargetError for a bad one."""
    addresses = list(dict.fromkeys(a for a in _ADDRESS_SEPARATORS.split(text.strip()) if a))
    if len(addresses) > MAX_RECIPIENTS:
        raise TargetError(f"At most {MAX_RECIPIENTS} addresses.", "recipients")
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError:
            raise TargetError(f"“{address}” is not an email address.", "recipients") from None
    return addresses


def create(owner: User | None, data: TargetInput) -> DeliveryTarget:
    """Store a checked target for a host (or the site, owner None), its URL and secret sealed."""
    clean = check(data)
    target = DeliveryTarget(owner=owner, kind=clean.kind, name=clean.name[:100])
    set_url(target, clean.url)
    set_secret(target, clean.secret)
    target.recipients = clean.recipients
    target.save()
    return target


def set_url(target: DeliveryTarget, url: str) -> None:
    """Seal a (checked) URL into the target and keep its host in clear for display."""
    target.url_sealed = sealing.seal(url) if url else ""
    target.url_host = outbound_http.host_of(url) if url else ""


def set_secret(target: DeliveryTarget, secret: str) -> None:
    """Seal a (checked) signing secret into the target."""
    target.secret_sealed = sealing.seal(secret) if secret else ""


def url_of(target: DeliveryTarget) -> str:
    """The target's URL in clear (SealingError if no key opens it)."""
    return sealing.unseal(target.url_sealed) if target.url_sealed else ""


def secret_of(target: DeliveryTarget) -> str:
    """The target's signing secret in clear (SealingError if no key opens it)."""
    return sealing.unseal(target.secret_sealed) if target.secret_sealed else ""


def own_targets(user: User) -> QuerySet[DeliveryTarget]:
    """The targets a host configured for their own meetings (never anyone else's)."""
    return DeliveryTarget.objects.filter(owner_id=user.pk)


def delete_own(user: User, target_id: int) -> bool:
    """Delete one of the user's own targets (its deliveries go with it); False if not theirs."""
    deleted, _ = own_targets(user).filter(pk=target_id).delete()
    return bool(deleted)


def meeting_host(meeting: Meeting) -> User | None:
    """The site user who hosts the meeting: its owner, else the user linked to its operator."""
    if meeting.owner_id is not None:
        return meeting.owner
    if not meeting.operator_id:
        return None
    link = (
        ZoomUserLink.objects.filter(zoom_user_id=meeting.operator_id).select_related("user").first()
    )
    return link.user if link else None


def targets_for(meeting: Meeting) -> list[DeliveryTarget]:
    """The enabled targets a meeting's notes go to: the site's and its host's."""
    host = meeting_host(meeting)
    mine = Q(owner__isnull=True) | (Q(owner_id=host.pk) if host is not None else Q(pk__in=[]))
    return list(DeliveryTarget.objects.filter(mine, enabled=True).order_by("owner_id", "name"))


def where(target: DeliveryTarget) -> str:
    """What a page shows of where a target sends: a host name, or how many extra addresses."""
    if target.kind == Kind.EMAIL:
        extra = len(target.recipients.split())
        return "the host and participants" + (f", and {extra} more" if extra else "")
    return target.url_host
