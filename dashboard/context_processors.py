from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from dashboard.models import RequesterAccount


def accounts(request: HttpRequest) -> dict[str, Any]:
    """The account switcher's list and the account being viewed (set by permissions.account_for_user)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "switcher_accounts": RequesterAccount.objects.visible_to(user).only(
            "name", "slug", "environment", "is_active"
        ),
        "current_account": getattr(request, "account", None),
        "account_actions": getattr(request, "account_actions", frozenset()),
    }
