"""Carrying out a bulk review decision job in the worker."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import Progress
from dashboard.models import Job
from hits.models import Decision
from hits.services import execute_decision
from hits.sync import refresh_worker_counts
from mturk.gateway import MTurkGateway


def _send(decision_id: int, gateway: MTurkGateway) -> Decision | None:
    return execute_decision(
        decision_id=decision_id, gateway=gateway, reclaim_sending=True, refresh_counts=False
    )


def _refresh_counts(decisions: list[Decision]) -> None:
    # The workers' denormalised counts, once per batch rather than once per decision: recounting
    # after every decision was the largest cost of a decision after the MTurk call itself.
    refresh_worker_counts(worker_pks={decision.assignment.worker_id for decision in decisions})


def carry_out_decisions(job: Job, progress: Progress) -> dict[str, Any]:
    """Send every open decision of the job, at the account's rate (dashboard.intent_jobs)."""
    counts = carry_out_intents(
        job,
        progress,
        model=Decision,
        send=_send,
        select_related=("assignment__hit", "assignment__worker"),
        after_batch=_refresh_counts,
    )
    return {
        **counts,
        "url": reverse("decision-results", kwargs={"slug": job.account.slug, "pk": job.pk}),
    }
