"""Who may see which meeting: one rule, used by pages, the API and the live socket."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from assistant.models import Meeting

# The project keeps Django's own user model (no AUTH_USER_MODEL), so request.user is one of these.
AnyUser = User | AnonymousUser


def visible_meetings(user: AnyUser) -> QuerySet[Meeting]:
    """Meetings the user may open: staff see all, a host sees the meetings they own."""
    if not user.is_authenticated or not user.is_active:
        return Meeting.objects.none()
    if user.is_staff:
        return Meeting.objects.all()
    return Meeting.objects.filter(owner_id=user.pk)


def can_view_meeting(user: AnyUser, meeting_id: int) -> bool:
    """Whether the user may see this meeting's captions, participants and chat."""
    return visible_meetings(user).filter(pk=meeting_id).exists()
