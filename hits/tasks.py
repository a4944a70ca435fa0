"""Thin Celery wrappers over hits services."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.mturk_access import account_gateway
from hits.enums import DecisionState
from hits.models import Decision
from hits.services import execute_decision


@shared_task(bind=True, name=Decision.execute_task, max_retries=5)
def task_execute_decision(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one inline decision; retried with backoff while MTurk throttles or fails. (Decisions
    nobody is sending are found again by beat: dashboard.intents.requeue_stale.)"""
    decision = Decision.objects.select_related("account").filter(pk=intent_id).first()
    if decision is None:
        return None
    with account_gateway(decision.account) as gateway:
        result = execute_decision(decision_id=intent_id, gateway=gateway)
    if result is not None and result.state == DecisionState.PENDING:
        raise self.retry(countdown=5 * 2**self.request.retries)
    return result.state if result else None
