"""Thin Celery wrapper: sending one message on its own (a message to a single worker)."""

from __future__ import annotations

from celery import Task, shared_task

from dashboard.enums import IntentState
from dashboard.mturk_access import account_gateway
from people.models import Message
from people.services.messaging import execute_message


@shared_task(bind=True, name=Message.execute_task, max_retries=5)
def task_send_message(self: Task, *, intent_id: int, **_legacy: object) -> str | None:
    """Send one message; retried with backoff while MTurk throttles or fails. A message found
    interrupted mid-call is not resent (execute_message). Beat finds lost ones again
    (dashboard.intents.requeue_stale)."""
    message = Message.objects.select_related("account").filter(pk=intent_id).first()
    if message is None:
        return None
    with account_gateway(message.account) as gateway:
        result = execute_message(message_id=intent_id, gateway=gateway)
    if result is not None and result.state == IntentState.PENDING:
        raise self.retry(countdown=5 * 2**self.request.retries)
    return result.state if result else None
