"""Sync services for worker blocks and bonus payments (see hits.sync for the general contract;
mirror.sync runs them)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal

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


# The mirror row the dashboard writes the moment its own SendBonus succeeds (people's ledger), so
# spend figures count the bonus before the next bonus sync. MTurk's own record of the payment
# (with its grant time) later takes the row over instead of adding a second one.
PROVISIONAL_PREFIX = "sent-"


def record_sent_bonus(
    *,
    account: RequesterAccount,
    ledger_id: int,
    worker_id: str,
    assignment_id: str,
    amount: Decimal,
    reason: str,
) -> None:
    """Mirror a bonus the dashboard has just paid (one row per ledger row, whatever the retries)."""
    BonusPayment.objects.get_or_create(
        account=account,
        mturk_key=f"{PROVISIONAL_PREFIX}{ledger_id}",
        defaults={
            "worker_id": worker_id,
            "assignment_id": assignment_id,
            "amount": amount,
            "reason": reason,
        },
    )


def upsert_bonuses(*, account: RequesterAccount, bonuses: list[records.BonusPayment]) -> int:
    """Add the payments MTurk lists that the mirror lacks; a payment the dashboard recorded as it
    sent it (a provisional row with no grant time) is completed rather than added again."""
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
    provisional = _provisional_rows(account, new)
    added = []
    for row in new:
        match = provisional.get((row.worker_id, row.assignment_id, row.amount, row.reason))
        if match:
            taken = match.pop()
            BonusPayment.objects.filter(pk=taken).update(
                mturk_key=row.mturk_key, grant_time=row.grant_time, synced_at=now
            )
        else:
            added.append(row)
    BonusPayment.objects.bulk_create(added, ignore_conflicts=True)
    return len(new)


def _provisional_rows(
    account: RequesterAccount, payments: list[BonusPayment]
) -> dict[tuple[str, str, Decimal, str], list[int]]:
    """The provisional rows for these payments' assignments, by what identifies a payment."""
    if not payments:
        return {}
    found: dict[tuple[str, str, Decimal, str], list[int]] = {}
    for pk, worker_id, assignment_id, amount, reason in BonusPayment.objects.filter(
        account=account,
        mturk_key__startswith=PROVISIONAL_PREFIX,
        grant_time__isnull=True,
        assignment_id__in={p.assignment_id for p in payments},
    ).values_list("pk", "worker_id", "assignment_id", "amount", "reason"):
        found.setdefault((worker_id, assignment_id, amount, reason), []).append(pk)
    return found


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
