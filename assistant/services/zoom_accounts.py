"""Zoom sign-in: installing the app links a Zoom user to a site user and keeps their tokens.

Tokens and the account id (PII, says Zoom) are sealed at rest (assistant/zoomapp/sealing.py).
An access token is refreshed ahead of its expiry, under a row lock so two requests do not
both spend the (single-use, rotating) refresh token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assistant.models import ZoomToken, ZoomUserLink
from assistant.zoomapp import client, sealing
from assistant.zoomapp.client import TokenSet

Refresher = Callable[[str], TokenSet]


class NotInstalled(LookupError):
    """The user has no Zoom grant (never installed, or uninstalled)."""


def _username_for(zoom_user_id: str) -> str:
    return f"zoom-{zoom_user_id}"[:150]


@transaction.atomic
def install(tokens: TokenSet, me: dict[str, Any], signed_in: User | None = None) -> User:
    """Link the Zoom user of `me` to a site user and store the tokens; returns that user.

    An already linked Zoom user keeps their site user. Otherwise the site user who started
    the install (the OAuth state is bound to their session) gets the link, if they have none
    yet; failing both, a site user is made for them.
    """
    zoom_user_id = str(me["id"])
    link = ZoomUserLink.objects.select_related("user").filter(zoom_user_id=zoom_user_id).first()
    if link is not None:
        user = link.user
    elif signed_in is not None and not ZoomUserLink.objects.filter(user=signed_in).exists():
        user = signed_in
        ZoomUserLink.objects.create(user=user, zoom_user_id=zoom_user_id)
    else:
        user = User.objects.create_user(
            username=_username_for(zoom_user_id),
            first_name=str(me.get("first_name", ""))[:150],
            last_name=str(me.get("last_name", ""))[:150],
        )
        ZoomUserLink.objects.create(user=user, zoom_user_id=zoom_user_id)
    ZoomToken.objects.update_or_create(
        user=user,
        defaults={
            "zoom_user_id": zoom_user_id,
            "account_id_sealed": sealing.seal(str(me.get("account_id", ""))),
            **_token_fields(tokens),
        },
    )
    return user


def _token_fields(tokens: TokenSet) -> dict[str, Any]:
    return {
        "access_token_sealed": sealing.seal(tokens.access_token),
        "refresh_token_sealed": sealing.seal(tokens.refresh_token),
        "expires_at": timezone.now() + timedelta(seconds=tokens.expires_in),
        "scopes": list(tokens.scopes),
    }


def access_token_for(user_id: int, *, refresher: Refresher = client.refresh) -> str:
    """A usable access token for the user, refreshed first when it expires soon."""
    margin = timedelta(seconds=settings.ZOOM_TOKEN_REFRESH_MARGIN_S)
    row = ZoomToken.objects.filter(user_id=user_id).first()
    if row is None:
        raise NotInstalled(f"user {user_id} has not installed the Zoom app")
    if row.expires_at - margin > timezone.now():
        return sealing.unseal(row.access_token_sealed)
    with transaction.atomic():
        row = ZoomToken.objects.select_for_update().get(pk=row.pk)
        if row.expires_at - margin > timezone.now():  # another request refreshed it meanwhile
            return sealing.unseal(row.access_token_sealed)
        tokens = refresher(sealing.unseal(row.refresh_token_sealed))
        for name, value in _token_fields(tokens).items():
            setattr(row, name, value)
        row.save()
    return tokens.access_token


def account_id_of(user_id: int) -> str:
    """The user's Zoom account id, unsealed only when a caller needs it."""
    row = ZoomToken.objects.filter(user_id=user_id).first()
    if row is None:
        raise NotInstalled(f"user {user_id} has not installed the Zoom app")
    return sealing.unseal(row.account_id_sealed)


@transaction.atomic
def reseal_all() -> int:
    """Re-encrypt every stored token with the newest key (after prepending a new one)."""
    count = 0
    for row in ZoomToken.objects.select_for_update().iterator():
        row.account_id_sealed = sealing.reseal(row.account_id_sealed)
        row.access_token_sealed = sealing.reseal(row.access_token_sealed)
        row.refresh_token_sealed = sealing.reseal(row.refresh_token_sealed)
        row.save(update_fields=["account_id_sealed", "access_token_sealed", "refresh_token_sealed"])
        count += 1
    return count
