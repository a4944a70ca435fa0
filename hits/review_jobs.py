"""Carrying out review decisions in the worker: a bulk job, and single inline decisions."""

from __future__ import annotations

import time
from typing import Any

from django.urls import reverse

from dashboard.jobs import Progress, job_handler
from dashboard.models import Job
from dashboard.mturk_access import CallStatsRecorder, gateway_for
from hits.enums import DecisionState
from hits.models import Decision
from hits.services import MAX_ATTEMPTS, execute_decision, job_decision_counts


def _report(progress: Progress, job: Job) -> dict[str, int]:
    counts = job_decision_counts(job)
    progress.reset_counts(
        done=counts.get(DecisionState.DONE, 0) + counts.get(DecisionState.ALREADY, 0),
        failed=counts.get(DecisionState.FAILED, 0),
    )
    return counts


@job_handler("review.decide")
def carry_out_decisions(job: Job, progress: Progress) -> dict[str, Any]:
    """Send every open decision of the job, at the account's rate. Resumable: a job handed to a new
    worker (its old one died) picks up where the counts say, and may reclaim decisions left in
    `sending` at once, since only one worker holds the job."""
    progress.set_total(Decision.objects.filter(job=job).count())
    _report(progress, job)
    recorder = CallStatsRecorder(job.account)
    gateway = gateway_for(job.account, recorder=recorder)
    try:
        while True:
            batch = list(
                Decision.objects.filter(job=job, state__in=DecisionState.open())
                .order_by("pk")
                .values_list("pk", "attempts")[:200]
            )
            if not batch:
                break
            for decision_id, attempts in batch:
                if attempts >= MAX_ATTEMPTS:
                    Decision.objects.filter(pk=decision_id, state__in=DecisionState.open()).update(
                        state=DecisionState.FAILED,
                        error="Gave up after repeated throttling or service errors.",
                    )
                    progress.advance(0, failed=1)
                    continue
                decision = execute_decision(
                    decision_id=decision_id, gateway=gateway, reclaim_sending=True
                )
                if decision is None:
                    continue
                if decision.state in (DecisionState.DONE, DecisionState.ALREADY):
                    progress.advance(1)
                elif decision.state == DecisionState.FAILED:
                    progress.advance(0, failed=1)
                else:  # back to pending after a retryable error: breathe before the next try
                    progress.note(f"MTurk asked us to slow down; retrying ({decision.error[:120]})")
                    time.sleep(min(2.0 * decision.attempts, 10.0))
    finally:
        recorder.flush()
    counts = _report(progress, job)
    return {
        "done": counts.get(DecisionState.DONE, 0),
        "already": counts.get(DecisionState.ALREADY, 0),
        "failed": counts.get(DecisionState.FAILED, 0),
        "url": reverse("decision-results", kwargs={"slug": job.account.slug, "pk": job.pk}),
    }
