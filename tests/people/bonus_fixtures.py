"""What the bonus tests share: an emulator account with submitted assignments mirrored by a sync,
bonus files built from them, and the emulator's truth about bonuses."""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal

from hits.models import Assignment
from mirror.sync import run_sync


def populate_and_sync(emulator, account, n: int) -> list[Assignment]:
    """n HITs with one submitted assignment each at the emulator, mirrored by a full sync."""
    emulator.control.post("populate", {"HITs": n, "AssignmentsPerHIT": 1})
    assert run_sync(account=account, kind="full").ok
    assignments = list(
        Assignment.objects.filter(account=account, status="Submitted")
        .select_related("worker", "hit")
        .order_by("assignment_id")
    )
    assert len(assignments) == n
    return assignments


def bonus_csv(
    rows, header=("WorkerId", "AssignmentId", "BonusAmount", "Reason"), encoding="utf-8"
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def rows_for(assignments, amount="0.50", reason="Thanks for the careful work") -> list[tuple]:
    return [(a.worker.worker_id, a.assignment_id, amount, reason) for a in assignments]


def truth_bonuses(control) -> list[dict]:
    return control.truth("bonuses")["bonuses"]


def payments_per_row(control) -> Counter:
    """(worker, assignment, amount, reason) -> how many times the emulator paid it."""
    return Counter(
        (b["WorkerId"], b["AssignmentId"], Decimal(b["BonusAmount"]), b["Reason"])
        for b in truth_bonuses(control)
    )
