"""Thin Celery wrapper sending one hard block change."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.enums import IntentState
from dashboard.mturk_access import account_gateway
from people.models import BlockChange
from people.services.blocks import execute_block_change


@shared_task(bind=True, name=BlockChange.execute_task, max_retries=5)
def task_send_block_change(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one block or unblock; retried with backoff while MTurk throttles or fails. (Changes
    nobody is sending are found again by beat: dashboard.intents.requeue_stale.)"""
    change = BlockChange.objects.select_related("account").filter(pk=intent_id).first()
    if change is None:
        return None
    with account_gateway(change.account) as gateway:
        result = execute_block_change(change_id=intent_id, gateway=gateway)
    if result is not None and result.state == IntentState.PENDING:
        raise self.retry(countdown=5 * 2**self.request.retries)
    return result.state if result else None
