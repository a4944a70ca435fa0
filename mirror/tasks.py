"""Thin Celery wrappers over the mirror's services: syncs, the SQS consumer, SNS events."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from dashboard.models import NotificationEvent, RequesterAccount
from dashboard.mturk_access import account_gateway
from mirror.events import apply_event
from mirror.sns_receiver import confirm_subscription
from mirror.sqs_consumer import consume_account
from mirror.sync import AccountBusy, run_sync

BUSY_RETRIES = 2
BUSY_RETRY_SECONDS = 20


@shared_task(bind=True, name="mirror.sync_account", max_retries=3)
def task_sync_account(
    self: Task, *, account_id: int, kind: str, **_legacy: object
) -> dict[str, Any] | None:
    """One sync of one account; retried a little later if another sync holds the account (then
    skipped), and with backoff for retryable MTurk errors (throttling, 5xx, timeouts)."""
    account = RequesterAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return None
    try:
        outcome = run_sync(account=account, kind=kind)
    except AccountBusy:
        # Beats of different kinds fall due together (every 120 s the active pass meets the 60 s
        # reviewable pass): wait for the other sync rather than drop this one every time.
        if self.request.retries < BUSY_RETRIES:
            raise self.retry(countdown=BUSY_RETRY_SECONDS) from None
        return {"skipped": "busy"}
    if not outcome.ok and outcome.retryable:
        raise self.retry(countdown=30 * 2**self.request.retries)
    return {"ok": outcome.ok, "seconds": round(outcome.seconds, 2), **outcome.details}


@shared_task(name="mirror.sync_all_accounts")
def task_sync_all_accounts(*, kind: str, **_legacy: object) -> int:
    """Beat: enqueue one sync of `kind` per active account."""
    account_ids = list(RequesterAccount.objects.active().values_list("pk", flat=True))
    for account_id in account_ids:
        task_sync_account.delay(account_id=account_id, kind=kind)
    return len(account_ids)


@shared_task(name="mirror.consume_all_notifications")
def task_consume_all_notifications(**_legacy: object) -> int:
    """Beat: poll each active account's SQS queue, and retry events that could not be applied."""
    account_ids = list(RequesterAccount.objects.active().values_list("pk", flat=True))
    for account_id in account_ids:
        task_consume_notifications.delay(account_id=account_id)
    return len(account_ids)


@shared_task(name="mirror.consume_notifications")
def task_consume_notifications(*, account_id: int, **_legacy: object) -> dict[str, int] | None:
    account = RequesterAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return None
    return consume_account(account=account, max_batches=50, retry_limit=100)


@shared_task(bind=True, name="mirror.apply_event", max_retries=5)
def task_apply_event(self: Task, *, event_id: int, **_legacy: object) -> bool | None:
    """Apply one recorded event document (from the SNS webhook)."""
    event = (
        NotificationEvent.objects.select_related("account")
        .filter(pk=event_id, applied_at__isnull=True)
        .first()
    )
    if event is None:
        return None
    with account_gateway(event.account) as gateway:
        applied = apply_event(event=event, gateway=gateway)
    if not applied:
        raise self.retry(countdown=10 * 2**self.request.retries)
    return True


@shared_task(name="mirror.confirm_subscription")
def task_confirm_subscription(*, account_id: int, subscribe_url: str, **_legacy: object) -> bool:
    account = RequesterAccount.objects.get(pk=account_id)
    return confirm_subscription(account=account, subscribe_url=subscribe_url)
