"""Business actions of the cross-cutting app: accounts and the audit log."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from dashboard.enums import LAB_ADMIN_GROUP, RESEARCH_STAFF_GROUP, AuditOutcome
from dashboard.models import AuditEvent, RequesterAccount

logger = logging.getLogger(__name__)


def record_audit_event(
    *,
    action: str,
    outcome: AuditOutcome | str,
    actor: Any = None,
    actor_name: str = "",
    account: RequesterAccount | None = None,
    target_ids: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
    error: str = "",
    mturk_request_id: str = "",
) -> AuditEvent:
    """Append one event to the audit log: the only way audit events are written.

    `actor` is the user who asked (None for system processes, which pass `actor_name`, e.g.
    "celery:sync"). Never pass secrets in `parameters`: the log is shown to account members.
    """
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_name = actor_name or actor.get_username()
    else:
        actor = None
    event = AuditEvent.objects.create(
        actor=actor,
        actor_name=actor_name or "system",
        account=account,
        action=action,
        target_ids=dict(target_ids or {}),
        parameters=dict(parameters or {}),
        outcome=AuditOutcome(outcome),
        error=error,
        mturk_request_id=mturk_request_id,
    )
    logger.info(
        "audit action=%s outcome=%s actor=%s account=%s targets=%s",
        action,
        event.outcome,
        event.actor_name,
        account.slug if account else "-",
        event.target_ids,
    )
    return event


@dataclass
class AuditedCall:
    """What an audited MTurk call learns while it runs: the ids it created and MTurk's request id
    (the block fills them in), and what was asked."""

    target_ids: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    request_id: str = ""


@contextmanager
def audited_mturk_call(
    *,
    action: str,
    account: RequesterAccount,
    actor: Any = None,
    actor_name: str = "",
    target_ids: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Iterator[AuditedCall]:
    """Audit the MTurk-changing call made inside the block, whoever makes it (a view, a job, a
    command): a succeeded event when the block ends, a failed one (with the error and MTurk's
    request id) when it raises, and the exception goes on. Intents have their own audited call
    (dashboard.intents); this is for the changes that are not intents, e.g. publishing the demo.

        with audited_mturk_call(action="hit.create", account=account, actor=user) as call:
            result = gateway.create_hit_with_hit_type(...)
            call.target_ids["hit"] = result.hit.hit_id
    """
    call = AuditedCall(dict(target_ids or {}), dict(parameters or {}))
    try:
        yield call
    except Exception as exc:
        record_audit_event(
            action=action,
            outcome=AuditOutcome.FAILED,
            actor=actor,
            actor_name=actor_name,
            account=account,
            target_ids=call.target_ids,
            parameters=call.parameters,
            error=str(exc)[:2000],
            mturk_request_id=getattr(exc, "request_id", None) or call.request_id,
        )
        raise
    record_audit_event(
        action=action,
        outcome=AuditOutcome.SUCCEEDED,
        actor=actor,
        actor_name=actor_name,
        account=account,
        target_ids=call.target_ids,
        parameters=call.parameters,
        mturk_request_id=call.request_id,
    )


# The secret is an argument, and so a local of every frame below this one (transaction.atomic's
# wrapper passes it on in `kwds`): error pages and reports show none of their values.
@sensitive_variables()
@transaction.atomic
def save_account(
    *,
    account: RequesterAccount,
    secret_access_key: str | None,
    saved_by: Any = None,
    actor_name: str = "",
) -> RequesterAccount:
    """Create or update a requester account. A None or empty secret keeps the stored one.

    The creator becomes a member, so a lab admin can open the account they just made.
    """
    creating = account.pk is None
    if secret_access_key:
        account.set_secret_access_key(secret_access_key)
    account.full_clean()
    account.save()
    if creating and saved_by is not None and getattr(saved_by, "is_authenticated", False):
        account.members.add(saved_by)
    record_audit_event(
        action="account.create" if creating else "account.update",
        outcome=AuditOutcome.SUCCEEDED,
        actor=saved_by,
        actor_name=actor_name,
        account=account,
        target_ids={"account": account.slug},
        # Which fields, never their secret values.
        parameters={
            "environment": account.environment,
            "endpoint_url": account.effective_endpoint_url,
            "secret_changed": bool(secret_access_key),
        },
    )
    return account


def set_membership(*, account: RequesterAccount, user: Any, member: bool, changed_by: Any) -> None:
    """Add or remove a user from an account's members, with an audit event."""
    if member:
        account.members.add(user)
    else:
        account.members.remove(user)
    record_audit_event(
        action="account.member_add" if member else "account.member_remove",
        outcome=AuditOutcome.SUCCEEDED,
        actor=changed_by,
        account=account,
        target_ids={"account": account.slug, "user": user.get_username()},
    )


def ensure_demo_users(*, admin_password: str, staff_password: str) -> list[tuple[str, str, bool]]:
    """Create the demo admin and staff users if absent; returns (username, role, created) rows."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    rows = []
    for username, group_name, password, superuser in (
        ("admin", LAB_ADMIN_GROUP, admin_password, True),
        ("staff", RESEARCH_STAFF_GROUP, staff_password, False),
    ):
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"is_staff": superuser, "is_superuser": superuser}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=group_name))
        rows.append((username, group_name, created))
    return rows
