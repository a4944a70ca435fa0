"""The request our views receive, typed: what the middleware adds (`htmx`, `user`) and what
`dashboard.permissions.account_for_user` attaches for the templates (`account`, `account_actions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from dashboard.models import RequesterAccount


class DashboardRequest(HttpRequest):
    htmx: HtmxDetails
    # Every view that takes this request is behind login_required.
    user: User
    # Set by account_for_user once the user may see the account; read by the base template.
    account: RequesterAccount
    account_actions: frozenset[str]


def client_address(request: HttpRequest) -> str | None:
    """The address a request came from, as login throttling counts it (AXES_CLIENT_IP_CALLABLE).

    REMOTE_ADDR; behind our reverse proxy (CLIENT_ADDRESS_FROM_X_FORWARDED_FOR), the last
    X-Forwarded-For entry: the one the proxy appended. Entries before it are whatever the client
    sent, so they are never used."""
    if settings.CLIENT_ADDRESS_FROM_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    address = request.META.get("REMOTE_ADDR")
    return str(address) if address else None
