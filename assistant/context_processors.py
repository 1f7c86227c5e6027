"""Template context every page needs."""

from __future__ import annotations

from django.http import HttpRequest


def csp_nonce(request: HttpRequest) -> dict[str, str]:
    """`csp_nonce`: this response's CSP nonce, for the page's <script nonce="..."> tags."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


def admin_link(request: HttpRequest) -> dict[str, bool]:
    """`can_open_admin`: staff with something to see there (the admin is empty without perms)."""
    user = getattr(request, "user", None)
    can_open = bool(
        user is not None
        and user.is_active
        and user.is_staff
        and (user.is_superuser or user.get_all_permissions())
    )
    return {"can_open_admin": can_open}
