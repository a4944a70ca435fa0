"""Thin Celery wrapper: sending one message on its own (a message to a single worker)."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.intent_jobs import send_single_intent
from people.models import Message
from people.services.messaging import execute_message


@shared_task(bind=True, name=Message.execute_task, max_retries=5)
def task_send_message(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one message (dashboard.intent_jobs.send_single_intent). A message found interrupted
    mid-call is not resent (execute_message)."""
    return send_single_intent(
        self,
        model=Message,
        intent_id=intent_id,
        send=lambda pk, gateway: execute_message(message_id=pk, gateway=gateway),
    )
