"""Carrying out bulk qualification jobs in the worker: grants, and decisions of requests."""

from __future__ import annotations

from typing import Any

from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import Progress
from dashboard.models import Job
from mturk.gateway import MTurkGateway
from qualifications.models import QualificationGrant, RequestDecision
from qualifications.requests import execute_request_decision
from qualifications.services import execute_grant


def send_grant(grant_id: int, gateway: MTurkGateway) -> QualificationGrant | None:
    """One row of a job: the job's worker owns its rows, so a `sending` one is reclaimed at once."""
    return execute_grant(grant_id=grant_id, gateway=gateway, reclaim_sending=True)


def carry_out_grants(job: Job, progress: Progress) -> dict[str, Any]:
    """Send every open grant of the job, at the account's rate (dashboard.intent_jobs)."""
    return carry_out_intents(
        job,
        progress,
        model=QualificationGrant,
        send=send_grant,
        select_related=("qualification_type",),
    )


def send_decision(decision_id: int, gateway: MTurkGateway) -> RequestDecision | None:
    """One row of a job: the job's worker owns its rows, so a `sending` one is reclaimed at once
    (execute_request_decision confirms at MTurk what a resend finds already decided)."""
    return execute_request_decision(decision_id=decision_id, gateway=gateway, reclaim_sending=True)


def carry_out_request_decisions(job: Job, progress: Progress) -> dict[str, Any]:
    """Send every open request decision of the job, at the account's rate."""
    return carry_out_intents(
        job,
        progress,
        model=RequestDecision,
        send=send_decision,
        select_related=("qualification_type",),
    )
