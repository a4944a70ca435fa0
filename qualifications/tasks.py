"""Thin Celery wrappers over the qualifications services."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.enums import IntentState
from dashboard.mturk_access import account_gateway
from qualifications.models import QualificationGrant, RequestDecision
from qualifications.requests import execute_request_decision
from qualifications.services import execute_grant


@shared_task(bind=True, name=QualificationGrant.execute_task, max_retries=5)
def task_execute_grant(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one grant or revocation; retried with backoff while MTurk throttles or fails. (Grants
    nobody is sending are found again by beat: dashboard.intents.requeue_stale.)"""
    grant = QualificationGrant.objects.select_related("account").filter(pk=intent_id).first()
    if grant is None:
        return None
    with account_gateway(grant.account) as gateway:
        result = execute_grant(grant_id=intent_id, gateway=gateway)
    if result is not None and result.state == IntentState.PENDING:
        raise self.retry(countdown=5 * 2**self.request.retries)
    return result.state if result else None


@shared_task(bind=True, name=RequestDecision.execute_task, max_retries=5)
def task_execute_request_decision(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one accept or reject from the queue; retried with backoff while MTurk throttles or
    fails (and found again by beat if lost: dashboard.intents.requeue_stale)."""
    decision = RequestDecision.objects.select_related("account").filter(pk=intent_id).first()
    if decision is None:
        return None
    with account_gateway(decision.account) as gateway:
        result = execute_request_decision(decision_id=intent_id, gateway=gateway)
    if result is not None and result.state == IntentState.PENDING:
        raise self.retry(countdown=5 * 2**self.request.retries)
    return result.state if result else None
