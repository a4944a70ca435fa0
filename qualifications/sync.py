"""Sync services for qualification types, workers' scores and pending requests."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from dashboard.models import RequesterAccount
from mturk import records
from mturk.gateway import MTurkGateway
from qualifications.models import (
    Qualification,
    QualificationRequest,
    QualificationType,
    RequiringHIT,
)

TYPE_FIELDS = [
    "name",
    "description",
    "keywords",
    "status",
    "is_requestable",
    "auto_granted",
    "auto_granted_value",
    "retry_delay_seconds",
    "test",
    "answer_key",
    "test_duration_seconds",
    "created_at_mturk",
]


def type_values(record: records.QualificationType) -> dict[str, Any]:
    """A type's mirror fields from MTurk's record of it (the sync's and the type pages' one way)."""
    return {
        "name": record.name or "",
        "description": record.description or "",
        "keywords": record.keywords or "",
        "status": record.status or "Active",
        "is_requestable": bool(record.is_requestable),
        "auto_granted": bool(record.auto_granted),
        "auto_granted_value": record.auto_granted_value,
        "retry_delay_seconds": record.retry_delay_seconds,
        "test": record.test or "",
        "answer_key": record.answer_key or "",
        "test_duration_seconds": record.test_duration_seconds,
        "created_at_mturk": record.creation_time,
    }


def _upsert(
    model: Any,
    *,
    account: RequesterAccount,
    key: str,
    rows: dict[str, dict[str, Any]],
    fields: list[str],
    scope: dict[str, Any],
) -> dict[str, int]:
    """Make the rows of `model` in `scope` equal `rows` (key value -> field values): insert the new,
    update the changed, delete those MTurk no longer lists."""
    now = timezone.now()
    existing = {getattr(row, key): row for row in model.objects.filter(account=account, **scope)}
    new, changed = [], []
    for key_value, values in rows.items():
        row = existing.get(key_value)
        if row is None:
            new.append(model(account=account, synced_at=now, **{key: key_value}, **scope, **values))
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.synced_at = now
            changed.append(row)
    model.objects.bulk_create(new, ignore_conflicts=True)
    model.objects.bulk_update(changed, fields + ["synced_at"])
    gone = [pk for key_value, row in existing.items() if key_value not in rows for pk in [row.pk]]
    removed = 0
    for start in range(0, len(gone), 500):
        removed += model.objects.filter(pk__in=gone[start : start + 500]).delete()[0]
    return {"created": len(new), "updated": len(changed), "removed": removed}


def sync_qualifications(*, account: RequesterAccount, gateway: MTurkGateway) -> dict[str, int]:
    """Our qualification types (MustBeOwnedByCaller), every worker's score in each (granted and
    revoked), the HITs that require each, and pending requests. Types MTurk no longer lists (deleted) are removed with their scores."""
    types: dict[str, dict[str, Any]] = {}
    for page in gateway.iter_qualification_type_pages(must_be_owned_by_caller=True):
        for record in page:
            types[record.qualification_type_id] = type_values(record)
    with transaction.atomic():
        type_counts = _upsert(
            QualificationType,
            account=account,
            key="qualification_type_id",
            rows=types,
            fields=TYPE_FIELDS,
            scope={},
        )
    totals = {"types": len(types), "scores": 0, "requests": 0, "requiring_hits": 0}
    for qtype in QualificationType.objects.filter(account=account):
        scores: dict[str, dict[str, Any]] = {}
        # Revoked scores are listed too (and first, so a worker MTurk lists both ways reads as
        # granted): a revoked qualification reads as revoked, not as never held.
        for status in ("Revoked", "Granted"):
            for score_page in gateway.iter_workers_with_qualification_pages(
                qualification_type_id=qtype.qualification_type_id, status=status
            ):
                for q in score_page:
                    scores[q.worker_id] = {
                        "integer_value": q.integer_value,
                        "locale": dict(q.locale or {}),
                        "status": q.status or status,
                        "grant_time": q.grant_time,
                    }
        requiring: dict[str, dict[str, Any]] = {}
        for hit_page in gateway.iter_hits_for_qualification_type_pages(
            qualification_type_id=qtype.qualification_type_id
        ):
            for hit in hit_page:
                requiring[hit.hit_id] = {
                    "hit_type_id": hit.hit_type_id or "",
                    "title": (hit.title or "")[:300],
                    "status": hit.status or "",
                }
        requests: dict[str, dict[str, Any]] = {}
        for request_page in gateway.iter_qualification_request_pages(
            qualification_type_id=qtype.qualification_type_id
        ):
            for r in request_page:
                requests[r.qualification_request_id] = {
                    "worker_id": r.worker_id,
                    "test": r.test or "",
                    "answer": r.answer or "",
                    "submit_time": r.submit_time,
                }
        with transaction.atomic():
            _upsert(
                Qualification,
                account=account,
                key="worker_id",
                rows=scores,
                fields=["integer_value", "locale", "status", "grant_time"],
                scope={"qualification_type": qtype},
            )
            _upsert(
                RequiringHIT,
                account=account,
                key="hit_id",
                rows=requiring,
                fields=["hit_type_id", "title", "status"],
                scope={"qualification_type": qtype},
            )
            _upsert(
                QualificationRequest,
                account=account,
                key="qualification_request_id",
                rows=requests,
                fields=["worker_id", "test", "answer", "submit_time"],
                scope={"qualification_type": qtype},
            )
        totals["scores"] += len(scores)
        totals["requests"] += len(requests)
        totals["requiring_hits"] += len(requiring)
    return totals | {f"types_{k}": v for k, v in type_counts.items()}
