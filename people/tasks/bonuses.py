"""The Celery task that sends one bonus recorded on its own (the one-bonus page)."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.intent_jobs import send_single_intent
from people.models import Bonus
from people.services.bonuses import execute_bonus


@shared_task(bind=True, name=Bonus.execute_task, max_retries=5)
def task_send_bonus(self: Task, *, intent_id: int) -> str | None:
    """Send one bonus (dashboard.intent_jobs.send_single_intent)."""
    return send_single_intent(
        self,
        model=Bonus,
        intent_id=intent_id,
        send=lambda pk, gateway: execute_bonus(bonus_id=pk, gateway=gateway),
    )
