"""The job kinds of the cross-cutting app (see dashboard.jobs): sync now, notification wiring."""

from __future__ import annotations

from typing import Any

from dashboard import notification_setup
from dashboard.jobs import JobFailed, Progress, job_handler
from dashboard.models import Job
from dashboard.mturk_access import CallStatsRecorder, gateway_for
from dashboard.sync import AccountBusy, run_sync
from mturk.errors import MTurkError


@job_handler("sync")
def sync_now(job: Job, progress: Progress) -> dict[str, Any]:
    kind = job.parameters.get("kind", "reviewable")

    def on_page(counts: Any) -> None:
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


@job_handler("notifications.configure")
def configure_notifications(job: Job, progress: Progress) -> dict[str, Any]:
    from hits.models import HITType

    params = job.parameters
    hit_types = list(
        HITType.objects.filter(account=job.account, hit_type_id__in=params["hit_type_ids"])
    )
    progress.set_total(len(hit_types))
    recorder = CallStatsRecorder(job.account)
    gateway = gateway_for(job.account, recorder=recorder)
    failures = []
    try:
        for hit_type in hit_types:
            try:
                notification_setup.configure_hit_type(
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
    finally:
        recorder.flush()
    return {"failures": failures, "url": f"{job.account.get_absolute_url()}notifications/"}


@job_handler("notifications.test")
def test_notification(job: Job, progress: Progress) -> dict[str, Any]:
    progress.set_total(1)
    recorder = CallStatsRecorder(job.account)
    try:
        notification_setup.send_test_event(
            account=job.account,
            gateway=gateway_for(job.account, recorder=recorder),
            transport=job.parameters["transport"],
            event_type=job.parameters["event_type"],
            actor=job.created_by,
        )
    except (MTurkError, ValueError) as exc:
        raise JobFailed(str(exc)) from None
    finally:
        recorder.flush()
    progress.advance(
        message="MTurk accepted the test event; watch the events counter on the overview."
    )
    return {"url": job.account.get_absolute_url()}
