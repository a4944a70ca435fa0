"""Carrying out intents in a worker: the one loop of a bulk job's rows (bonuses, decisions,
blocks, grants...), and the one task body for a row sent on its own (`send_single_intent`).

Every bulk action records its intent rows under a Job, then its job handler calls
`carry_out_intents` with the function that sends one row. The loop sends the job's open rows in
id order through one gateway (so at the account's rate), gives up rows that keep meeting
retryable errors, breathes after one, and keeps the job's progress bar in step. It is resumable:
a job handed to a new worker (its old one died) reclaims rows left in `sending` at once, since only
one worker holds the job; the sender decides what a reclaimed row needs (e.g. a bonus is first
looked for at MTurk).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from celery import Task
from django.db.models import Count

from dashboard.enums import IntentState
from dashboard.intents import MAX_ATTEMPTS, give_up
from dashboard.jobs import Progress
from dashboard.models import Intent, Job
from dashboard.mturk_access import account_gateway
from mturk.gateway import MTurkGateway

IntentT = TypeVar("IntentT", bound=Intent)

# How often the job's counts (its progress bar) are brought up to date from its rows: a write per
# row would cost a commit each, as much as the rest of the row's bookkeeping.
REPORT_EVERY_SECONDS = 0.5
BATCH_SIZE = 200


def job_intent_counts(job: Job, model: type[Intent]) -> dict[str, int]:
    """How many of the job's rows of `model` are in each state."""
    rows = model._default_manager.filter(job=job).values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


def report_progress(progress: Progress, job: Job, model: type[Intent]) -> dict[str, int]:
    """Set the job's counts from its rows (done includes "already"); returns the per-state counts."""
    counts = job_intent_counts(job, model)
    progress.reset_counts(
        done=counts.get(IntentState.DONE, 0) + counts.get(IntentState.ALREADY, 0),
        failed=sum(counts.get(state, 0) for state in IntentState.failures()),
    )
    return counts


def carry_out_intents(
    job: Job,
    progress: Progress,
    *,
    model: type[IntentT],
    send: Callable[[int, MTurkGateway], IntentT | None],
    select_related: Sequence[str] = (),
    after_batch: Callable[[list[IntentT]], None] | None = None,
) -> dict[str, int]:
    """Send every open row of `model` under `job`, at the account's rate.

    `send(intent_id, gateway)` claims one row (with `reclaim_sending=True`), makes its call and
    returns the row as it ended (None when it was not claimable). `after_batch` gets the rows sent
    in each batch, for bookkeeping cheaper once per batch than once per row. Returns the
    job's counts: done, already, failed (failed and given up)."""
    progress.set_total(model._default_manager.filter(job=job).count())
    report_progress(progress, job, model)
    reported_at = time.monotonic()
    with account_gateway(job.account) as gateway:
        while True:
            batch = list(
                model._default_manager.filter(job=job, state__in=IntentState.open())
                .order_by("pk")
                .values_list("pk", "attempts")[:BATCH_SIZE]
            )
            if not batch:
                break
            sent: list[IntentT] = []
            for intent_id, attempts in batch:
                if attempts >= MAX_ATTEMPTS:
                    # Ends it (gave up), with its audit event, unless it has just been finished.
                    give_up(
                        model._default_manager.select_related(
                            "account", "requested_by", *select_related
                        ).get(pk=intent_id)
                    )
                    continue
                intent = send(intent_id, gateway)
                if intent is None:
                    continue
                sent.append(intent)
                if time.monotonic() - reported_at >= REPORT_EVERY_SECONDS:
                    report_progress(progress, job, model)
                    reported_at = time.monotonic()
                if intent.state in IntentState.open():
                    # Back to pending after a retryable error: breathe before the next try.
                    progress.note(f"MTurk asked us to slow down; retrying ({intent.error[:120]})")
                    time.sleep(min(2.0 * intent.attempts, 10.0))
            if after_batch is not None and sent:
                after_batch(sent)
    counts = report_progress(progress, job, model)
    return {
        "done": counts.get(IntentState.DONE, 0),
        "already": counts.get(IntentState.ALREADY, 0),
        "failed": sum(counts.get(state, 0) for state in IntentState.failures()),
    }


def send_single_intent(
    task: Task,
    *,
    model: type[IntentT],
    intent_id: int,
    send: Callable[[int, MTurkGateway], IntentT | None],
) -> str | None:
    """The body of each kind's single-intent Celery task: send the row through the account's
    gateway, and retry the task with backoff while MTurk throttles or fails (the row is back to
    pending). Rows nobody is sending are found again by beat (dashboard.intents.requeue_stale).
    Returns the row's final state, or None when it is gone or not claimable."""
    intent = model._default_manager.select_related("account").filter(pk=intent_id).first()
    if intent is None:
        return None
    with account_gateway(intent.account) as gateway:
        result = send(intent_id, gateway)
    if result is not None and result.state == IntentState.PENDING:
        raise task.retry(countdown=5 * 2**task.request.retries)
    return result.state if result else None
