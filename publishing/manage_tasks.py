"""Thin Celery wrapper sending one change to a live HIT."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.intent_jobs import send_single_intent
from publishing.hit_changes import execute_change
from publishing.models import HITChange


@shared_task(bind=True, name=HITChange.execute_task, max_retries=5)
def task_change_hit(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one HIT change (dashboard.intent_jobs.send_single_intent)."""
    return send_single_intent(
        self,
        model=HITChange,
        intent_id=intent_id,
        send=lambda pk, gateway: execute_change(change_id=pk, gateway=gateway),
    )
