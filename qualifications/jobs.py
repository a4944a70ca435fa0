"""Carrying out a bulk qualification grant job in the worker."""

from __future__ import annotations

from typing import Any

from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import Progress
from dashboard.models import Job
from mturk.gateway import MTurkGateway
from qualifications.models import QualificationGrant
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
