"""Thin Celery wrappers over dashboard services."""

from __future__ import annotations

from celery import shared_task

from dashboard import jobs


@shared_task(name="dashboard.run_job")
def task_run_job(*, job_id: int, **_legacy: object) -> str | None:
    """Run a Job row to its end (see dashboard.jobs); a no-op if another worker has it."""
    state = jobs.run_job(job_id=job_id)
    return str(state) if state else None


@shared_task(name="dashboard.requeue_stale_jobs")
def task_requeue_stale_jobs() -> list[int]:
    """Beat: hand out again jobs whose message was lost or whose worker died."""
    return jobs.requeue_stale_jobs()


# --- Sync and notifications ----------------------------------------------------------------------


@shared_task(bind=True, name="dashboard.sync_account", max_retries=3)
def task_sync_account(self, *, account_id: int, kind: str, **_legacy: object) -> dict | None:
    """One sync of one account; skipped if another sync holds the account; retried with backoff
    only for retryable MTurk errors (throttling, 5xx, timeouts)."""
    from dashboard.models import RequesterAccount
    from dashboard.sync import AccountBusy, run_sync

    account = RequesterAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return None
    try:
        outcome = run_sync(account=account, kind=kind)
    except AccountBusy:
        return {"skipped": "busy"}
    if not outcome.ok and outcome.retryable:
        raise self.retry(countdown=30 * 2**self.request.retries)
    return {"ok": outcome.ok, "seconds": round(outcome.seconds, 2), **outcome.details}


@shared_task(name="dashboard.sync_all_accounts")
def task_sync_all_accounts(*, kind: str, **_legacy: object) -> int:
    """Beat: enqueue one sync of `kind` per active account."""
    from dashboard.models import RequesterAccount

    account_ids = list(RequesterAccount.objects.active().values_list("pk", flat=True))
    for account_id in account_ids:
        task_sync_account.delay(account_id=account_id, kind=kind)
    return len(account_ids)


@shared_task(name="dashboard.consume_all_notifications")
def task_consume_all_notifications(**_legacy: object) -> int:
    """Beat: poll each active account's SQS queue, and retry events that could not be applied."""
    from dashboard.models import RequesterAccount

    account_ids = list(RequesterAccount.objects.active().values_list("pk", flat=True))
    for account_id in account_ids:
        task_consume_notifications.delay(account_id=account_id)
    return len(account_ids)


@shared_task(name="dashboard.consume_notifications")
def task_consume_notifications(*, account_id: int, **_legacy: object) -> dict | None:
    from dashboard.models import RequesterAccount
    from dashboard.mturk_access import CallStatsRecorder, gateway_for
    from dashboard.notifications import apply_pending_events, consume_queue, sqs_queue_for

    account = RequesterAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return None
    recorder = CallStatsRecorder(account)
    try:
        gateway = gateway_for(account, recorder=recorder)
        result: dict = {}
        if account.sqs_queue_url:
            result = consume_queue(
                account=account, queue=sqs_queue_for(account), gateway=gateway, max_batches=50
            ).__dict__
        result["retried"] = apply_pending_events(account=account, gateway=gateway, limit=100)
        return result
    finally:
        recorder.flush()


@shared_task(bind=True, name="dashboard.apply_event", max_retries=5)
def task_apply_event(self, *, event_id: int, **_legacy: object) -> bool | None:
    """Apply one recorded event document (from the SNS webhook)."""
    from dashboard.models import NotificationEvent
    from dashboard.mturk_access import CallStatsRecorder, gateway_for
    from dashboard.notifications import apply_event

    event = (
        NotificationEvent.objects.select_related("account")
        .filter(pk=event_id, applied_at__isnull=True)
        .first()
    )
    if event is None:
        return None
    recorder = CallStatsRecorder(event.account)
    try:
        applied = apply_event(event=event, gateway=gateway_for(event.account, recorder=recorder))
    finally:
        recorder.flush()
    if not applied:
        raise self.retry(countdown=10 * 2**self.request.retries)
    return True


@shared_task(name="dashboard.confirm_subscription")
def task_confirm_subscription(*, account_id: int, subscribe_url: str, **_legacy: object) -> bool:
    from dashboard.models import RequesterAccount
    from dashboard.notifications import confirm_subscription

    account = RequesterAccount.objects.get(pk=account_id)
    return confirm_subscription(account=account, subscribe_url=subscribe_url)
