"""Carrying out a bonus run's job in the worker: every ledger row of the job, once."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import Progress
from dashboard.models import Job
from mturk.gateway import MTurkGateway
from people.models import Bonus, BonusRun
from people.services.bonuses import execute_bonus


def _send(bonus_id: int, gateway: MTurkGateway) -> Bonus | None:
    # reclaim_sending: only one worker holds the job, so a `sending` row is one its dead
    # predecessor left; execute_bonus looks for it at MTurk before sending it again.
    return execute_bonus(bonus_id=bonus_id, gateway=gateway, reclaim_sending=True)


def carry_out_bonuses(job: Job, progress: Progress) -> dict[str, Any]:
    """Send every open bonus of the job, at the account's rate (dashboard.intent_jobs)."""
    counts = carry_out_intents(job, progress, model=Bonus, send=_send)
    run = BonusRun.objects.filter(job=job).only("pk").first()
    result: dict[str, Any] = dict(counts)
    if run is not None:
        result["url"] = reverse("bonus-run", kwargs={"slug": job.account.slug, "pk": run.pk})
    return result
