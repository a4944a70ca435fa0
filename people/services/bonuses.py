"""The bonus ledger: recording bonuses (one, or a run's rows) and sending each exactly once.

A bonus is an intent (dashboard.intents): recorded `pending`, claimed by one worker, sent with the
UniqueRequestToken of its row, recorded done / already / failed with an audit event. What makes a
second payment impossible:
- the database: one bonus per worker and assignment unless it is an explicit "pay again", and one
  bonus per assignment in flight (people.models.Bonus constraints), so a double click, a re-uploaded
  file or a retried request records nothing new;
- the claim: one worker sends a row at a time;
- MTurk's token within 24 hours, and past them (or whenever an earlier attempt's outcome is
  unknown) a look at ListBonusPayments before sending again (`_paid_before`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum

from dashboard import intents
from dashboard.enums import IntentState
from dashboard.models import Job, RequesterAccount
from hits.enums import AssignmentStatus
from hits.models import Assignment
from mturk.fees import bonus_cost, bonus_fee
from mturk.gateway import BonusResult, MTurkGateway
from people.models import FAILED_STATES, MAX_REASON, Bonus, BonusRun
from workers.sync import record_sent_bonus

__all__ = [
    "BONUSABLE_STATUSES",
    "BonusRefused",
    "LedgerTotals",
    "clean_amount",
    "clean_reason",
    "execute_bonus",
    "ledger_totals",
    "record_run_bonuses",
    "request_bonus",
]

# SendBonus refuses assignments still being worked on (Accepted); any decided or submitted one works.
BONUSABLE_STATUSES = (
    AssignmentStatus.SUBMITTED,
    AssignmentStatus.APPROVED,
    AssignmentStatus.REJECTED,
)
MINIMUM_AMOUNT = Decimal("0.01")
# Digits with at most two decimals, an optional leading "$" (as people type money).
_AMOUNT = re.compile(r"\$?(\d{1,8})(\.\d{1,2})?")


class BonusRefused(ValueError):
    """The bonus cannot be recorded as asked; the message says why, for the user."""


def clean_amount(value: object) -> Decimal:
    """A bonus amount as MTurk takes it: at least $0.01, at most two decimals."""
    text = str(value).strip()
    if text.startswith("-"):
        raise BonusRefused(f"The amount {text} is negative.")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        try:
            number = Decimal(text.lstrip("$"))
        except InvalidOperation:
            raise BonusRefused(f"The amount “{text}” is not a number.") from None
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise BonusRefused(
                f"The amount {text} has more than two decimals (MTurk pays whole cents)."
            )
        raise BonusRefused(f"The amount “{text}” is not a valid amount; write it like 1.50.")
    amount = Decimal(match.group(1) + (match.group(2) or ""))
    if amount < MINIMUM_AMOUNT:
        raise BonusRefused(f"The amount {text} is below $0.01.")
    return amount.quantize(MINIMUM_AMOUNT)


def clean_reason(reason: str) -> str:
    """MTurk shows the reason to the worker and requires one, at most 1024 characters."""
    reason = (reason or "").strip()
    if not reason:
        raise BonusRefused("A bonus needs a reason (MTurk shows it to the worker).")
    if len(reason) > MAX_REASON:
        raise BonusRefused(
            f"The reason is {len(reason)} characters; MTurk takes at most {MAX_REASON}."
        )
    return reason


def check_run_cap(account: RequesterAccount, total_cost: Decimal) -> None:
    """The account's per-run cap (fee included) refuses a run that costs more."""
    cap = account.bonus_run_cap
    if cap is not None and total_cost > cap:
        raise BonusRefused(
            f"This costs ${total_cost} with MTurk's fee, over the account's cap of ${cap} per run."
        )


def bonusable_assignment(account: RequesterAccount, assignment_id: str) -> Assignment:
    """The account's assignment that a bonus may be paid for (submitted, approved or rejected)."""
    assignment = (
        Assignment.objects.select_related("worker", "hit")
        .filter(account=account, assignment_id=assignment_id)
        .first()
    )
    if assignment is None:
        raise BonusRefused(f"Assignment {assignment_id} is not known on this account.")
    if assignment.status not in BONUSABLE_STATUSES:
        raise BonusRefused(
            f"Assignment {assignment_id} is {assignment.status}: only a submitted, approved or "
            "rejected assignment can get a bonus."
        )
    return assignment


def request_bonus(
    *,
    account: RequesterAccount,
    assignment: Assignment,
    amount: object,
    reason: str,
    pay_again: bool = False,
    pay_again_reason: str = "",
    requested_by: Any = None,
) -> Bonus:
    """Record one bonus for an assignment's worker and send it once committed.

    A second bonus for the same worker and assignment is refused unless it is an explicit "pay
    again" with its reason; raises BonusRefused with the reason for the user."""
    if assignment.account_id != account.pk:
        raise BonusRefused("That assignment belongs to another account.")
    if assignment.status not in BONUSABLE_STATUSES:
        raise BonusRefused(f"Assignment {assignment.assignment_id} is {assignment.status}.")
    amount = clean_amount(amount)
    reason = clean_reason(reason)
    pay_again_reason = (pay_again_reason or "").strip()
    if pay_again and not pay_again_reason:
        raise BonusRefused("Paying again needs a reason for paying this worker a second time.")
    check_run_cap(account, bonus_cost(amount))
    worker_id = assignment.worker.worker_id
    earlier = Bonus.objects.filter(
        account=account, worker_id=worker_id, assignment_id=assignment.assignment_id
    ).exclude(state__in=FAILED_STATES)
    if earlier.filter(state__in=IntentState.open()).exists():
        raise BonusRefused("A bonus for this assignment is already requested and being sent.")
    if not pay_again and earlier.exists():
        raise BonusRefused(
            "This worker already has a bonus for this assignment. To pay them again, tick "
            "“pay again” and say why."
        )
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    bonus = Bonus(
        account=account,
        worker_id=worker_id,
        assignment_id=assignment.assignment_id,
        hit_id=assignment.hit.hit_id,
        amount=amount,
        reason=reason,
        pay_again=pay_again,
        pay_again_reason=pay_again_reason if pay_again else "",
        requested_by=user,
    )
    try:
        with transaction.atomic():
            bonus.save()
            intents.send_after_commit([bonus])
    except IntegrityError:
        # A concurrent request (a double click) recorded it first: the constraints refuse this one.
        raise BonusRefused("A bonus for this assignment is already requested.") from None
    return bonus


@dataclass(frozen=True)
class RunRow:
    """One planned row of a bonus run (people.services.bonus_upload.PlannedBonus has these)."""

    worker_id: str
    assignment_id: str
    hit_id: str
    amount: Decimal
    reason: str


def record_run_bonuses(
    *,
    account: RequesterAccount,
    run: BonusRun,
    rows: Iterable[RunRow],
    job: Job,
    requested_by: Any = None,
) -> int:
    """Record a run's rows as ledger rows under its job (call inside the job's transaction). The
    constraints refuse a row already in the ledger, and with it the whole run: the caller planned
    the file again just before, so that means a concurrent request; nothing is half recorded."""
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    bonuses = [
        Bonus(
            account=account,
            run=run,
            job=job,
            worker_id=row.worker_id,
            assignment_id=row.assignment_id,
            hit_id=row.hit_id,
            amount=row.amount,
            reason=row.reason,
            requested_by=user,
        )
        for row in rows
    ]
    Bonus.objects.bulk_create(bonuses, batch_size=500)
    return len(bonuses)


# --- Sending -------------------------------------------------------------------------------------


def _paid_before(bonus: Bonus, gateway: MTurkGateway) -> bool:
    """Whether MTurk already paid this row, judged from ListBonusPayments for its assignment.

    Only needed when an earlier attempt's outcome is unknown: the row was sent before (a worker
    died while it was `sending`, or the call ended in an error that may have come after MTurk paid).
    Within 24 hours MTurk would refuse the repeated token, but tokens expire, so the ledger cannot
    rely on them. MTurk gives bonuses no id: a payment is recognised by worker, amount and reason.
    The ledger's own finished rows with those same values account for that many matching
    payments; one more payment at MTurk than those is this row's."""
    paid = 0
    for page in gateway.iter_bonus_pages(assignment_id=bonus.assignment_id):
        paid += sum(
            1
            for payment in page
            if payment.worker_id == bonus.worker_id
            and payment.amount == bonus.amount
            and (payment.reason or "") == bonus.reason
        )
    accounted_for = (
        Bonus.objects.filter(
            account_id=bonus.account_id,
            worker_id=bonus.worker_id,
            assignment_id=bonus.assignment_id,
            amount=bonus.amount,
            reason=bonus.reason,
            state__in=[IntentState.DONE, IntentState.ALREADY],
        )
        .exclude(pk=bonus.pk)
        .count()
    )
    return paid > accounted_for


def execute_bonus(
    *, bonus_id: int, gateway: MTurkGateway, reclaim_sending: bool = False
) -> Bonus | None:
    """Send one ledger row if nobody else has it; returns the row as it ended (None if it was not
    claimable: someone else has it, or it is finished)."""
    bonus = intents.claim(Bonus, bonus_id, reclaim_sending=reclaim_sending)
    if bonus is None:
        return None

    def send() -> BonusResult:
        # attempts counts this claim: more than one means an earlier attempt may have paid.
        if bonus.attempts > 1 and _paid_before(bonus, gateway):
            return BonusResult("already_sent", None)
        return gateway.send_bonus(
            worker_id=bonus.worker_id,
            assignment_id=bonus.assignment_id,
            amount=bonus.amount,
            reason=bonus.reason,
            token=bonus.unique_request_token,
        )

    def mirror(result: BonusResult) -> None:
        # Into the mirror at once, so every spend figure counts it before the next bonus sync. A
        # payment found already made was made by an earlier attempt: the sync may have mirrored it
        # already, and will if not.
        if result.already:
            return
        record_sent_bonus(
            account=bonus.account,
            ledger_id=bonus.pk,
            worker_id=bonus.worker_id,
            assignment_id=bonus.assignment_id,
            amount=bonus.amount,
            reason=bonus.reason,
        )

    return intents.audited_call(bonus, send, on_success=mirror)


# --- Figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spend:
    count: int = 0
    amount: Decimal = Decimal("0.00")
    fee: Decimal = Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.amount + self.fee


@dataclass(frozen=True)
class LedgerTotals:
    sent: Spend
    pending: Spend
    failed: Spend


def _spend(queryset: Any) -> Spend:
    # MTurk rounds the fee per bonus (with a $0.01 minimum), so fees are summed per distinct amount
    # rather than taken as 20% of the total; there are few distinct amounts even in a big ledger.
    count, amount, fee = 0, Decimal("0.00"), Decimal("0.00")
    for row in queryset.values("amount").annotate(n=Count("pk"), s=Sum("amount")).order_by():
        count += row["n"]
        amount += row["s"]
        fee += bonus_fee(row["amount"]) * row["n"]
    return Spend(count=count, amount=amount, fee=fee)


def ledger_totals(queryset: Any) -> LedgerTotals:
    """Sent (done or already at MTurk), still to send, and failed: count, amount and fees."""
    return LedgerTotals(
        sent=_spend(queryset.filter(state__in=[IntentState.DONE, IntentState.ALREADY])),
        pending=_spend(queryset.filter(state__in=IntentState.open())),
        failed=_spend(queryset.filter(state__in=IntentState.failures())),
    )
