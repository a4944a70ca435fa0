"""The mirror's job kinds (see dashboard.jobs): sync now, and notification wiring. Registered by
mirror.apps."""

from __future__ import annotations

from typing import Any

from dashboard.jobs import JobFailed, Progress
from dashboard.models import Job
from dashboard.mturk_access import account_gateway
from hits import notifications
from hits.models import HITType
from hits.sync import SyncCounts
from mirror import notification_setup
from mirror.sync import AccountBusy, run_sync
from mturk.errors import MTurkError


def sync_now(job: Job, progress: Progress) -> dict[str, Any]:
    kind = job.parameters.get("kind", "reviewable")

    def on_page(counts: SyncCounts) -> None:
        progress.note(
            f"{counts.hits_seen} HITs and {counts.assignments_seen} assignments read so far"
        )

    try:
        outcome = run_sync(account=job.account, kind=kind, on_page=on_page)
    except AccountBusy:
        raise JobFailed(
            "Another sync of this account is running; try again when it has finished."
        ) from None
    if not outcome.ok:
        raise JobFailed(outcome.error)
    progress.set_total(1)
    progress.advance(message=f"Done in {outcome.seconds:.1f} s")
    return {"details": outcome.details, "url": job.account.get_absolute_url()}


def configure_notifications(job: Job, progress: Progress) -> dict[str, Any]:
    params = job.parameters
    hit_types = list(
        HITType.objects.filter(account=job.account, hit_type_id__in=params["hit_type_ids"])
    )
    progress.set_total(len(hit_types))
    failures = []
    with account_gateway(job.account) as gateway:
        for hit_type in hit_types:
            try:
                notifications.configure_hit_type(
                    account=job.account,
                    gateway=gateway,
                    hit_type=hit_type,
                    transport=params["transport"],
                    event_types=params["event_types"],
                    active=params.get("active", True),
                    actor=job.created_by,
                )
                progress.advance(message=f"{hit_type.hit_type_id} configured")
            except MTurkError as exc:
                failures.append({"hit_type": hit_type.hit_type_id, "error": str(exc)})
                progress.advance(0, failed=1, message=f"{hit_type.hit_type_id} failed")
    return {"failures": failures, "url": f"{job.account.get_absolute_url()}notifications/"}


def test_notification(job: Job, progress: Progress) -> dict[str, Any]:
    progress.set_total(1)
    try:
        with account_gateway(job.account) as gateway:
            notification_setup.send_test_event(
                account=job.account,
                gateway=gateway,
                transport=job.parameters["transport"],
                event_type=job.parameters["event_type"],
                actor=job.created_by,
            )
    except (MTurkError, ValueError) as exc:
        raise JobFailed(str(exc)) from None
    progress.advance(
        message="MTurk accepted the test event; watch the events counter on the overview."
    )
    return {"url": job.account.get_absolute_url()}
