"""Thin Celery wrappers over the publishing services."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.intent_jobs import send_single_intent
from publishing.hit_changes import execute_change
from publishing.models import HITChange, HITRequest
from publishing.publish import advance_all_micro_batches, execute_hit_request


@shared_task(bind=True, name=HITRequest.execute_task, max_retries=5)
def task_create_hit(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Create one HIT (dashboard.intent_jobs.send_single_intent): a later part of a micro-batched
    item, or a row the janitor found left behind."""
    return send_single_intent(
        self,
        model=HITRequest,
        intent_id=intent_id,
        send=lambda pk, gateway: execute_hit_request(request_id=pk, gateway=gateway),
    )


@shared_task(name="publishing.advance_micro_batches")
def task_advance_micro_batches() -> dict[int, int]:
    """Beat: publish the next parts of micro-batched items whose current part is answered."""
    return advance_all_micro_batches()


@shared_task(bind=True, name=HITChange.execute_task, max_retries=5)
def task_change_hit(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one change to a live HIT (dashboard.intent_jobs.send_single_intent)."""
    return send_single_intent(
        self,
        model=HITChange,
        intent_id=intent_id,
        send=lambda pk, gateway: execute_change(change_id=pk, gateway=gateway),
    )
