"""Thin Celery wrappers over the mirror's services: syncs, the SQS consumer, SNS events."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.core.cache import cache

from dashboard.models import NotificationEvent, RequesterAccount
from dashboard.mturk_access import account_gateway
from mirror.events import apply_account_events
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
    """Beat: poll each active account's SQS queue, and apply events not applied yet."""
    account_ids = list(RequesterAccount.objects.active().values_list("pk", flat=True))
    for account_id in account_ids:
        task_consume_notifications.delay(account_id=account_id)
    return len(account_ids)


CONSUME_BATCHES = 50


@shared_task(name="mirror.consume_notifications")
def task_consume_notifications(*, account_id: int, **_legacy: object) -> dict[str, int] | None:
    """Drain the account's queue into the database; hand what waits to be applied to
    mirror.apply_pending_events (another worker process, so the queue keeps draining while MTurk
    is asked); go on at once while a backlog remains rather than wait for the next beat."""
    account = RequesterAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return None
    result = consume_account(account=account, max_batches=CONSUME_BATCHES)
    if result["pending"]:
        request_apply(account_id)
    if result.get("received", 0) >= CONSUME_BATCHES * 10:
        task_consume_notifications.delay(account_id=account_id)
    return result


@shared_task(name="mirror.apply_pending_events")
def task_apply_pending_events(*, account_id: int, **_legacy: object) -> dict[str, int] | None:
    """Apply the account's recorded events (from either door), each HIT they name re-read once."""
    account = RequesterAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return None
    with account_gateway(account) as gateway:
        counts = apply_account_events(account=account, gateway=gateway)
    return asdict(counts)


@shared_task(name="mirror.apply_event")
def task_apply_event(*, event_id: int, **_legacy: object) -> dict[str, int] | None:
    """What an earlier version queued per SNS event, still accepted after an upgrade: applies the
    pending events of that event's account."""
    account_id = (
        NotificationEvent.objects.filter(pk=event_id).values_list("account_id", flat=True).first()
    )
    return None if account_id is None else task_apply_pending_events(account_id=account_id)


def request_apply(account_id: int) -> None:
    """Queue mirror.apply_pending_events for the account, at most once per
    NOTIFICATIONS_APPLY_DELAY_SECONDS from this process: at 200 webhook posts a second, one task
    applies what a whole window brought (each HIT re-read once) instead of one task per post.

    The task runs when the window has closed, so every event recorded before a suppressed request
    (that is, within the window) is committed by the time it looks; an event after the window
    opens a new one. 0 queues a task per call (the tests, which run tasks inline)."""
    delay = settings.NOTIFICATIONS_APPLY_DELAY_SECONDS
    if delay <= 0:
        task_apply_pending_events.delay(account_id=account_id)
    elif cache.add(f"mirror:apply-requested:{account_id}", True, timeout=delay):
        task_apply_pending_events.apply_async(kwargs={"account_id": account_id}, countdown=delay)


@shared_task(name="mirror.confirm_subscription")
def task_confirm_subscription(*, account_id: int, subscribe_url: str, **_legacy: object) -> bool:
    account = RequesterAccount.objects.get(pk=account_id)
    return confirm_subscription(account=account, subscribe_url=subscribe_url)
