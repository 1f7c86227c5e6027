"""A host's Zoom tokens: kept sealed at sign-in, refreshed when Zoom says they expired, forgotten.

The access token is used as it is until Zoom answers 401; then `refreshed_access_token` trades
the refresh token once for a new pair. The row is locked while it does, so two requests that
find the same expired token refresh it once: the second waits and takes the pair the first
stored (Zoom's refresh tokens rotate, so a second refresh with the old one would fail and lose
the grant). Zoom refusing the refresh token (revoked, expired, the app removed) marks the grant
as needing a new sign-in. Tokens are never logged.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assistant.models import ZoomGrant
from assistant.services import sealing
from assistant.zoomapp import client
from assistant.zoomapp.client import TokenSet, ZoomError

log = logging.getLogger(__name__)


class SignInNeeded(Exception):
    """The user has no usable Zoom grant: they must sign in with Zoom (again)."""

    def __init__(self, message: str, had_grant: bool) -> None:
        super().__init__(message)
        self.had_grant = had_grant


def store(user: User, zoom_user_id: str, tokens: TokenSet) -> ZoomGrant:
    """Keep the tokens of a Zoom sign-in, sealed; replaces the user's earlier grant."""
    fields = {
        "zoom_user_id": zoom_user_id,
        **_sealed(tokens),
        "needs_sign_in": False,
    }
    with transaction.atomic():
        # The Zoom user is one site user's: a grant of theirs under another user goes.
        ZoomGrant.objects.filter(zoom_user_id=zoom_user_id).exclude(user=user).delete()
        grant, _ = ZoomGrant.objects.update_or_create(user=user, defaults=fields)
    return grant


def forget(zoom_user_id: str) -> bool:
    """Delete the Zoom user's tokens (deauthorization); whether there were any."""
    deleted, _ = ZoomGrant.objects.filter(zoom_user_id=zoom_user_id).delete()
    return bool(deleted)


def usable_grant(user: User) -> ZoomGrant | None:
    """The user's grant unless they have none or it needs a new sign-in."""
    return ZoomGrant.objects.filter(user=user, needs_sign_in=False).first()


def access_token(user: User) -> str:
    """The user's current access token; SignInNeeded without a usable grant."""
    grant = ZoomGrant.objects.filter(user=user).first()
    if grant is None:
        raise SignInNeeded("No Zoom sign-in is kept for you.", had_grant=False)
    if grant.needs_sign_in:
        raise SignInNeeded("Zoom no longer accepts your sign-in.", had_grant=True)
    return sealing.unseal(grant.access_token_sealed)


def refreshed_access_token(user: User, stale: str) -> str:
    """A fresh access token in place of `stale`, which Zoom refused as expired.

    If another request refreshed it meanwhile, theirs is returned without a second refresh.
    SignInNeeded when Zoom refuses the refresh token; ZoomError when Zoom cannot be reached.
    """
    refused: ZoomError | None = None
    with transaction.atomic():
        grant = ZoomGrant.objects.select_for_update().filter(user=user).first()
        if grant is None:
            raise SignInNeeded("No Zoom sign-in is kept for you.", had_grant=False)
        if grant.needs_sign_in:
            raise SignInNeeded("Zoom no longer accepts your sign-in.", had_grant=True)
        current = sealing.unseal(grant.access_token_sealed)
        if current != stale:
            return current
        try:
            tokens = client.refresh_tokens(sealing.unseal(grant.refresh_token_sealed))
        except ZoomError as exc:
            if exc.status not in (400, 401):
                raise  # Zoom is away or busy: the grant may still be good
            refused = exc
            grant.needs_sign_in = True
            grant.save(update_fields=["needs_sign_in", "updated_at"])
        else:
            for name, value in _sealed(tokens).items():
                setattr(grant, name, value)
            grant.save()
            log.info("zoom grant of user %s refreshed", user.pk)
            return tokens.access_token
    # Outside the transaction, so that the mark is kept.
    log.warning("zoom refused the refresh token of user %s: %s", user.pk, refused)
    raise SignInNeeded("Zoom no longer accepts your sign-in.", had_grant=True)


def mark_needs_sign_in(user: User) -> None:
    """Zoom refused even a fresh access token: the grant is no good (the app was removed)."""
    ZoomGrant.objects.filter(user=user).update(needs_sign_in=True, updated_at=timezone.now())


def _sealed(tokens: TokenSet) -> dict[str, object]:
    return {
        "access_token_sealed": sealing.seal(tokens.access_token),
        "refresh_token_sealed": sealing.seal(tokens.refresh_token),
        "expires_at": timezone.now() + timedelta(seconds=tokens.expires_in),
        "scopes": list(tokens.scopes),
    }
