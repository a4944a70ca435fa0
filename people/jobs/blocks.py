"""Carrying out a bulk hard-block job in the worker (soft blocks run as qualification grant jobs)."""

from __future__ import annotations

from typing import Any

from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import Progress
from dashboard.models import Job
from mturk.gateway import MTurkGateway
from people.models import BlockChange
from people.services.blocks import execute_block_change


def _send(change_id: int, gateway: MTurkGateway) -> BlockChange | None:
    return execute_block_change(change_id=change_id, gateway=gateway, reclaim_sending=True)


def carry_out_block_changes(job: Job, progress: Progress) -> dict[str, Any]:
    """Send every open block change of the job, at the account's rate (dashboard.intent_jobs)."""
    return carry_out_intents(job, progress, model=BlockChange, send=_send)
