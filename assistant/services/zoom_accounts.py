"""Zoom sign-in: installing the app links a Zoom user to a site user.

The access token Zoom grants first asks who the user is (/users/me); then it and its refresh
token are kept sealed (services/zoom_grants.py) so the dashboard can control RTMS as the host;
deauthorization deletes them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from assistant.models import ZoomUserLink


def _username_for(zoom_user_id: str) -> str:
    return f"zoom-{zoom_user_id}"[:150]


@transaction.atomic
def install(me: dict[str, Any], signed_in: User | None = None) -> User:
    """Link the Zoom user of `me` to a site user; returns that user.

    An already linked Zoom user keeps their site user. Otherwise the site user who started
    the install (the OAuth state is bound to their session) gets the link, if they have none
    yet; failing both, a site user is made for them.
    """
    zoom_user_id = str(me["id"])
    link = ZoomUserLink.objects.select_related("user").filter(zoom_user_id=zoom_user_id).first()
    if link is not None:
        return link.user
    if signed_in is not None and not ZoomUserLink.objects.filter(user=signed_in).exists():
        ZoomUserLink.objects.create(user=signed_in, zoom_user_id=zoom_user_id)
        return signed_in
    user = User.objects.create_user(
        username=_username_for(zoom_user_id),
        first_name=str(me.get("first_name", ""))[:150],
        last_name=str(me.get("last_name", ""))[:150],
    )
    ZoomUserLink.objects.create(user=user, zoom_user_id=zoom_user_id)
    return user
