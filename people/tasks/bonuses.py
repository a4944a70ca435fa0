"""The Celery task that sends one bonus recorded on its own (the one-bonus page)."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.enums import IntentState
from dashboard.mturk_access import account_gateway
from people.models import Bonus
from people.services.bonuses import execute_bonus


@shared_task(bind=True, name=Bonus.execute_task, max_retries=5)
def task_send_bonus(self: Task, *, intent_id: int) -> str | None:
    """Send one bonus; retried with backoff while MTurk throttles or fails. (Bonuses nobody is
    sending are found again by beat: dashboard.intents.requeue_stale.)"""
    bonus = Bonus.objects.select_related("account").filter(pk=intent_id).first()
    if bonus is None:
        return None
    with account_gateway(bonus.account) as gateway:
        result = execute_bonus(bonus_id=intent_id, gateway=gateway)
    if result is not None and result.state == IntentState.PENDING:
        raise self.retry(countdown=5 * 2**self.request.retries)
    return result.state if result else None
