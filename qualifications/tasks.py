"""Thin Celery wrappers over the qualifications services."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.enums import IntentState
from dashboard.mturk_access import account_gateway
from qualifications.models import QualificationGrant
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
