"""Thin Celery wrapper sending one hard block change."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.intent_jobs import send_single_intent
from people.models import BlockChange
from people.services.blocks import execute_block_change


@shared_task(bind=True, name=BlockChange.execute_task, max_retries=5)
def task_send_block_change(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one block or unblock (dashboard.intent_jobs.send_single_intent)."""
    return send_single_intent(
        self,
        model=BlockChange,
        intent_id=intent_id,
        send=lambda pk, gateway: execute_block_change(change_id=pk, gateway=gateway),
    )
