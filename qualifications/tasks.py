"""Thin Celery wrappers over the qualifications services."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.intent_jobs import send_single_intent
from qualifications.models import QualificationGrant, RequestDecision
from qualifications.requests import execute_request_decision
from qualifications.services import execute_grant


@shared_task(bind=True, name=QualificationGrant.execute_task, max_retries=5)
def task_execute_grant(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one grant or revocation (dashboard.intent_jobs.send_single_intent)."""
    return send_single_intent(
        self,
        model=QualificationGrant,
        intent_id=intent_id,
        send=lambda pk, gateway: execute_grant(grant_id=pk, gateway=gateway),
    )


@shared_task(bind=True, name=RequestDecision.execute_task, max_retries=5)
def task_execute_request_decision(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one accept or reject from the queue (dashboard.intent_jobs.send_single_intent)."""
    return send_single_intent(
        self,
        model=RequestDecision,
        intent_id=intent_id,
        send=lambda pk, gateway: execute_request_decision(decision_id=pk, gateway=gateway),
    )
