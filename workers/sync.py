"""Sync services for worker blocks and bonus payments (see hits.sync for the general contract;
mirror.sync runs them)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from dashboard.models import RequesterAccount
from mturk import records
from mturk.gateway import MTurkGateway
from workers.models import BonusPayment, WorkerBlock


def sync_blocks(*, account: RequesterAccount, gateway: MTurkGateway) -> dict[str, int]:
    """ListWorkerBlocks in full; rows for blocks MTurk no longer has are removed."""
    listed: dict[str, str] = {}
    for page in gateway.iter_worker_block_pages():
        for block in page:
            listed[block.worker_id] = block.reason or ""
    now = timezone.now()
    with transaction.atomic():
        existing = {b.worker_id: b for b in WorkerBlock.objects.filter(account=account)}
        new = [
            WorkerBlock(account=account, worker_id=wid, reason=reason, synced_at=now)
            for wid, reason in listed.items()
            if wid not in existing
        ]
        changed = []
        for wid, reason in listed.items():
            row = existing.get(wid)
            if row is not None and row.reason != reason:
                row.reason, row.synced_at = reason, now
                changed.append(row)
        WorkerBlock.objects.bulk_create(new, ignore_conflicts=True)
        WorkerBlock.objects.bulk_update(changed, ["reason", "synced_at"])
        gone = [row.pk for wid, row in existing.items() if wid not in listed]
        removed = WorkerBlock.objects.filter(pk__in=gone).delete()[0] if gone else 0
    return {"blocks": len(listed), "created": len(new), "updated": len(changed), "removed": removed}


def bonus_key(bonus: records.BonusPayment) -> str:
    """MTurk gives bonuses no id: a digest of what identifies one payment."""
    grant = bonus.grant_time.isoformat() if bonus.grant_time else ""
    raw = "|".join(
        [bonus.worker_id, bonus.assignment_id, f"{bonus.amount:.2f}", grant, bonus.reason or ""]
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def upsert_bonuses(*, account: RequesterAccount, bonuses: list[records.BonusPayment]) -> int:
    now = timezone.now()
    rows = {
        bonus_key(b): BonusPayment(
            account=account,
            mturk_key=bonus_key(b),
            worker_id=b.worker_id,
            assignment_id=b.assignment_id,
            amount=b.amount,
            reason=b.reason or "",
            grant_time=b.grant_time,
            synced_at=now,
        )
        for b in bonuses
    }
    existing = set(
        BonusPayment.objects.filter(account=account, mturk_key__in=list(rows)).values_list(
            "mturk_key", flat=True
        )
    )
    new = [row for key, row in rows.items() if key not in existing]
    BonusPayment.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def sync_bonuses(
    *, account: RequesterAccount, gateway: MTurkGateway, hit_ids: Sequence[str]
) -> dict[str, int]:
    """ListBonusPayments for each of these HITs (MTurk lists bonuses per HIT only; the caller
    names the HITs that have submitted work, see hits.queries.hit_ids_with_submitted_work)."""
    created = seen = 0
    for hit_id in hit_ids:
        for page in gateway.iter_bonus_pages(hit_id=hit_id):
            seen += len(page)
            with transaction.atomic():
                created += upsert_bonuses(account=account, bonuses=page)
    return {"hits": len(hit_ids), "bonuses": seen, "created": created}
