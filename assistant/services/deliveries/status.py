"""Where a meeting's notes went: each target's latest delivery, for the meeting page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from assistant.models import Delivery, DeliveryTarget, Meeting
from assistant.services.deliveries import targets


@dataclass(frozen=True)
class TargetStatus:
    """One target of a meeting and how its latest delivery went (state None: never sent)."""

    name: str
    kind: str
    kind_label: str
    where: str
    site_wide: bool
    state: str | None
    sent_at: datetime | None
    error: str
    attempts: int


def meeting_deliveries(meeting: Meeting) -> list[TargetStatus]:
    """The meeting's targets (and any it was delivered to before), each with its latest state."""
    latest: dict[int, Delivery] = {}
    for delivery in Delivery.objects.filter(meeting=meeting).select_related("target"):
        latest.setdefault(delivery.target_id, delivery)  # newest first
    shown: dict[int, DeliveryTarget] = {t.pk: t for t in targets.targets_for(meeting)}
    for delivery in latest.values():
        shown.setdefault(delivery.target_id, delivery.target)
    rows = []
    for target in shown.values():
        last = latest.get(target.pk)
        rows.append(
            TargetStatus(
                name=target.name,
                kind=target.kind,
                kind_label=target.get_kind_display(),
                where=targets.where(target),
                site_wide=target.owner_id is None,
                state=last.state if last else None,
                sent_at=last.sent_at if last else None,
                error=last.error if last else "",
                attempts=last.attempts if last else 0,
            )
        )
    return rows
