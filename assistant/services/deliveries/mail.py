"""The email of a meeting's notes: plain text plus an HTML alternative, through Django's backends.

Recipients: the host, the participants whose addresses are known, and the target's extra
addresses. RTMS gives no participant's address today (docs/rtms-protocol.md: a participant is a
user id and a name), so until another source fills `Participant.email` it is the host and the
extra addresses. The HTML comes from a template with autoescaping: meeting text is never markup.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from assistant.models import DeliveryTarget, Meeting, Participant
from assistant.services.deliveries import targets
from assistant.services.deliveries.content import NotesContent


def recipients(target: DeliveryTarget, meeting: Meeting) -> list[str]:
    """Who gets the email: host, participants with an address, extra addresses (no repeats)."""
    host = targets.meeting_host(meeting)
    found = [host.email] if host is not None and host.email else []
    found += (
        Participant.objects.filter(meeting_id=meeting.pk)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    found += target.recipients.split()
    unique: dict[str, str] = {}
    for address in found:
        unique.setdefault(address.strip().lower(), address.strip())
    return list(unique.values())


def message(content: NotesContent, to: list[str]) -> EmailMultiAlternatives:
    """The email, ready to send (its connection from the EMAIL_* settings)."""
    title = " ".join(content.title.split())
    html = render_to_string(
        "deliveries/notes_email.html",
        {"notes": content, "when": _when(content)},
    )
    email = EmailMultiAlternatives(
        subject=f"Meeting notes: {title}"[:200],
        body=plain_text(content),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    email.attach_alternative(html, "text/html")
    return email


def plain_text(content: NotesContent) -> str:
    """The notes as plain text."""
    lines = [content.title]
    when = _when(content)
    if when:
        lines.append(when)
    if content.summary.strip():
        lines += ["", content.summary.strip()]
    if content.decisions:
        lines += ["", "Decisions", *(f"- {d}" for d in content.decisions)]
    if content.actions:
        lines += ["", "Action items"]
        for item in content.actions:
            who = [item.owner] if item.owner else []
            if item.due:
                who.append(f"due {item.due}")
            lines.append(f"- {item.text}" + (f" ({', '.join(who)})" if who else ""))
    if content.sections:
        lines += ["", content.template_name]
        for section in content.sections:
            lines += ["", section.heading, *(f"- {line}" for line in section.lines)]
            if section.note:
                lines.append(section.note)
    lines += ["", f"The meeting's page: {content.link}", ""]
    return "\n".join(lines)


def _when(content: NotesContent) -> str:
    if content.started_at is None:
        return ""
    return timezone.localtime(content.started_at).strftime("%a %d %b %Y, %H:%M")
