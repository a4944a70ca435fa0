"""Carrying out a message job (JobKind.WORKER_MESSAGE) in the worker."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import Progress
from dashboard.models import Job
from mturk.gateway import MTurkGateway
from people.models import Message
from people.services.messaging import execute_message, settle_abandoned_recipients


def _send(message_id: int, gateway: MTurkGateway) -> Message | None:
    # Reclaimed `sending` rows are ended as "unknown", never resent (see execute_message).
    return execute_message(message_id=message_id, gateway=gateway, reclaim_sending=True)


def carry_out_messages(job: Job, progress: Progress) -> dict[str, Any]:
    """Send every open message of the job, one NotifyWorkers call each, at the account's rate."""
    counts = carry_out_intents(job, progress, model=Message, send=_send)
    # Messages the loop gave up (repeated throttling) never reached MTurk: say so per worker.
    settle_abandoned_recipients(Message.objects.filter(job=job))
    return {**counts, "url": reverse("message-list", kwargs={"slug": job.account.slug})}
