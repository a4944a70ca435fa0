"""Carrying out review decisions in the worker: a bulk job, and single inline decisions."""

from __future__ import annotations

import time
from typing import Any

from django.urls import reverse

from dashboard.intents import MAX_ATTEMPTS, give_up
from dashboard.jobs import Progress
from dashboard.models import Job
from dashboard.mturk_access import account_gateway
from hits.enums import DecisionState
from hits.models import Decision
from hits.services import execute_decision, job_decision_counts
from hits.sync import refresh_worker_counts

# How often the job's counts (its progress bar) are brought up to date from its decisions: a write
# per decision would cost a commit each, as much as the rest of the decision's bookkeeping.
REPORT_EVERY_SECONDS = 0.5


def _report(progress: Progress, job: Job) -> dict[str, int]:
    counts = job_decision_counts(job)
    progress.reset_counts(
        done=counts.get(DecisionState.DONE, 0) + counts.get(DecisionState.ALREADY, 0),
        failed=sum(counts.get(state, 0) for state in DecisionState.failures()),
    )
    return counts


def carry_out_decisions(job: Job, progress: Progress) -> dict[str, Any]:
    """Send every open decision of the job, at the account's rate. Resumable: a job handed to a new
    worker (its old one died) picks up where the counts say, and may reclaim decisions left in
    `sending` at once, since only one worker holds the job."""
    progress.set_total(Decision.objects.filter(job=job).count())
    _report(progress, job)
    reported_at = time.monotonic()
    with account_gateway(job.account) as gateway:
        while True:
            batch = list(
                Decision.objects.filter(job=job, state__in=DecisionState.open())
                .order_by("pk")
                .values_list("pk", "attempts")[:200]
            )
            if not batch:
                break
            touched_workers: set[int] = set()
            for decision_id, attempts in batch:
                if attempts >= MAX_ATTEMPTS:
                    # Ends it (gave up), with its audit event, unless it has just been finished.
                    give_up(
                        Decision.objects.select_related(
                            "assignment__hit", "assignment__worker", "account", "requested_by"
                        ).get(pk=decision_id)
                    )
                    continue
                decision = execute_decision(
                    decision_id=decision_id,
                    gateway=gateway,
                    reclaim_sending=True,
                    refresh_counts=False,
                )
                if decision is None:
                    continue
                touched_workers.add(decision.assignment.worker_id)
                if time.monotonic() - reported_at >= REPORT_EVERY_SECONDS:
                    _report(progress, job)
                    reported_at = time.monotonic()
                if decision.state in DecisionState.open():
                    # Back to pending after a retryable error: breathe before the next try.
                    progress.note(f"MTurk asked us to slow down; retrying ({decision.error[:120]})")
                    time.sleep(min(2.0 * decision.attempts, 10.0))
            # The workers' denormalised counts, once per batch rather than once per decision.
            refresh_worker_counts(worker_pks=touched_workers)
    counts = _report(progress, job)
    return {
        "done": counts.get(DecisionState.DONE, 0),
        "already": counts.get(DecisionState.ALREADY, 0),
        "failed": sum(counts.get(state, 0) for state in DecisionState.failures()),
        "url": reverse("decision-results", kwargs={"slug": job.account.slug, "pk": job.pk}),
    }
