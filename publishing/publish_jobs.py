"""Carrying out a batch's publish job in the worker: the HIT type once, then every HITRequest of
the job once, at the account's rate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse

from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import JobFailed, Progress
from dashboard.models import Job, RequesterAccount
from dashboard.mturk_access import account_gateway
from mturk.errors import MTurkError
from mturk.gateway import MTurkGateway
from publishing.enums import BatchState
from publishing.models import HITRequest, PublishBatch
from publishing.publish import (
    PublishRefused,
    advance_micro_batches,
    ensure_hit_type,
    execute_hit_request,
    fail_open_requests,
    mirror_created_hits,
    mirror_missing_hits,
)


def _send(request_id: int, gateway: MTurkGateway) -> HITRequest | None:
    # reclaim_sending: only one worker holds the job, so a `sending` row is one its dead
    # predecessor left; its token makes MTurk answer with the HIT it created, if it did.
    return execute_hit_request(
        request_id=request_id, gateway=gateway, reclaim_sending=True, mirror=False
    )


def _mirror(account: RequesterAccount) -> Callable[[list[HITRequest]], None]:
    def mirror(sent: list[HITRequest]) -> None:
        # Once per batch of rows: mirroring one HIT at a time cost more than creating it.
        mirror_created_hits(
            account=account,
            created=[
                (request.created_hit, request.inputs)  # type: ignore[attr-defined]
                for request in sent
                if getattr(request, "created_hit", None) is not None
            ],
        )

    return mirror


def carry_out_publish(job: Job, progress: Progress) -> dict[str, Any]:
    """Create the batch's HIT type (once; reused on a retry), then its HITs (dashboard.intent_jobs)."""
    batch = PublishBatch.objects.select_related("account").filter(job=job).first()
    if batch is None:
        raise JobFailed("The batch of this job is gone.")
    try:
        with account_gateway(job.account) as gateway:
            ensure_hit_type(batch, gateway, actor=job.created_by)
    except MTurkError as exc:
        PublishBatch.objects.filter(pk=batch.pk).update(state=BatchState.FAILED)
        what = "HIT type" if not batch.hit_type_id else "HIT type's notification settings"
        if not exc.retryable:
            # Refused for good: no HIT of the batch can be created; each ends failed and audited.
            fail_open_requests(batch=batch, error=str(exc), request_id=exc.request_id or "")
        raise JobFailed(f"MTurk refused the {what}: {exc}") from exc
    except PublishRefused as exc:
        # The account's queue or topic went away after the confirmation: nothing is created.
        PublishBatch.objects.filter(pk=batch.pk).update(state=BatchState.FAILED)
        fail_open_requests(batch=batch, error=str(exc))
        raise JobFailed(str(exc)) from exc
    progress.note(f"HIT type {batch.hit_type_id}")
    counts = carry_out_intents(
        job,
        progress,
        model=HITRequest,
        send=_send,
        select_related=["batch"],
        after_batch=_mirror(job.account),
    )
    with account_gateway(job.account) as gateway:
        # HITs created by a worker that died before mirroring them (normally none).
        mirror_missing_hits(batch=batch, gateway=gateway)
        advance_micro_batches(batch=batch, gateway=gateway)
    batch.refresh_from_db(fields=["state"])
    # Later parts of micro-batched items wait for the first ones to be answered: beat's
    # publishing.advance_micro_batches publishes them.
    if batch.state == BatchState.PUBLISHING and counts["done"] + counts["already"] == 0:
        PublishBatch.objects.filter(pk=batch.pk).update(state=BatchState.FAILED)
    result: dict[str, Any] = dict(counts)
    result["url"] = reverse("publish-batch", kwargs={"slug": job.account.slug, "pk": batch.pk})
    return result
