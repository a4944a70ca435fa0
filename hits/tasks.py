"""Thin Celery wrappers over hits services."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.intent_jobs import send_single_intent
from hits.models import Decision
from hits.services import execute_decision


@shared_task(bind=True, name=Decision.execute_task, max_retries=5)
def task_execute_decision(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one inline decision (dashboard.intent_jobs.send_single_intent)."""
    return send_single_intent(
        self,
        model=Decision,
        intent_id=intent_id,
        send=lambda pk, gateway: execute_decision(decision_id=pk, gateway=gateway),
    )
