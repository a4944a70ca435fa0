"""The request our views receive, typed: what the middleware adds (`htmx`, `user`) and what
`dashboard.permissions.account_for_user` attaches for the templates (`account`, `account_actions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
