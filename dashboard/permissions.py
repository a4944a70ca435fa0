"""The one place that decides "may this user do X on this requester account".

Every view goes through `account_for_user` (or `user_can`), server-side. An account the user does
not belong to answers 404 (its existence is not revealed); a missing permission answers 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from dashboard.enums import Action
from dashboard.http import DashboardRequest
from dashboard.models import RequesterAccount


def is_member(user: Any, account: RequesterAccount) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return account.members.filter(pk=user.pk).exists()


def user_can(user: Any, action: Action | str, account: RequesterAccount) -> bool:
    """True when the user belongs to the account and holds the permission for the action."""
    return is_member(user, account) and user.has_perm(f"dashboard.{Action(action).value}")


def allowed_actions(user: Any, account: RequesterAccount) -> frozenset[str]:
    """Every action the user may take on the account (for templates: hide what the server refuses)."""
    if not is_member(user, account):
        return frozenset()
    return _granted_actions(user)


def _granted_actions(user: Any) -> frozenset[str]:
    # has_perm reads the user's permissions once and caches them on the user object.
    return frozenset(
        action.value for action in Action if user.has_perm(f"dashboard.{action.value}")
    )


def account_for_user(
    request: DashboardRequest, slug: str, action: Action | str = Action.VIEW
) -> RequesterAccount:
    """The account named by `slug` if the user may do `action` on it: else 404 (not a member) or 403."""
    try:
        account = RequesterAccount.objects.get(slug=slug)
    except RequesterAccount.DoesNotExist:
        raise Http404("No such requester account.") from None
    if not is_member(request.user, account):
        raise Http404("No such requester account.")
    actions = _granted_actions(request.user)
    if Action(action).value not in actions:
        raise PermissionDenied(f"You may not {Action(action).label.lower()} on this account.")
    # The base template reads these to show the switcher, the LIVE banner and the controls.
    request.account = account
    request.account_actions = actions
    return account
