"""Carrying out a bulk job of changes to live HITs in the worker."""

from __future__ import annotations

from typing import Any

from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import Progress
from dashboard.models import Job
from mturk.gateway import MTurkGateway
from publishing.hit_changes import execute_change
from publishing.models import HITChange


def _send(change_id: int, gateway: MTurkGateway) -> HITChange | None:
    # The job's earlier worker may have died mid-row: its `sending` rows are ours to finish (a
    # resent CreateAdditionalAssignmentsForHIT carries the same token, so it adds nothing twice).
    return execute_change(change_id=change_id, gateway=gateway, reclaim_sending=True)


def carry_out_hit_changes(job: Job, progress: Progress) -> dict[str, Any]:
    """Send every open HIT change of the job, at the account's rate (dashboard.intent_jobs)."""
    return carry_out_intents(job, progress, model=HITChange, send=_send)
