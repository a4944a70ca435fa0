"""Changes to live HITs: add assignments, extend or shorten expiry, expire now, delete, change HIT
type, set review status. Each change of each HIT is a HITChange intent (dashboard.intents): one HIT
is recorded and then sent by a task once committed; many are recorded under one job that sends them
at the account's rate. Either way a crash leaves rows a retry finishes without doing anything twice
(CreateAdditionalAssignmentsForHIT carries the row's UniqueRequestToken).

Before anything is recorded, `plan_change` checks each HIT against the mirror and MTurk's rules
(the 10-assignment rule, delete only when reviewable and decided...) and prices it, so the
confirmation page shows what will be refused and why, and what it costs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from dashboard import intents
from dashboard.enums import IntentState, JobKind
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount
from hits import review
from hits.enums import AssignmentStatus, HITStatus
from hits.models import HIT, HITType
from hits.sync import sync_one_hit
from mturk import fees
from mturk.errors import MTurkError
from mturk.gateway import MTurkGateway
from publishing.enums import HITChangeAction
from publishing.models import HITChange

# MTurk: "HITs created with fewer than 10 assignments cannot be extended to have 10 or more
# assignments" (CreateAdditionalAssignmentsForHIT).
LARGE_HIT = fees.LARGE_HIT_THRESHOLD
MAX_ADDITIONAL = 1_000_000_000
# UpdateExpirationForHIT: "To expire a HIT immediately, set ExpireAt to a time in the past".
# A fixed past time (not "now") keeps a resend of the same change the same request.
EXPIRE_NOW_AT = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
MAX_HITS = 5_000
CONFIRMATION = "publishing.hit_change"


class ChangeRefused(ValueError):
    """The request as a whole cannot be carried out; the message says why."""


@dataclass
class HITPlan:
    hit: HIT
    cost: Decimal = Decimal("0.00")
    refusal: str = ""


@dataclass
class ChangePlan:
    action: HITChangeAction
    parameters: dict[str, Any]
    rows: list[HITPlan] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> list[HITPlan]:
        return [row for row in self.rows if not row.refusal]

    @property
    def refused(self) -> list[HITPlan]:
        return [row for row in self.rows if row.refusal]

    @property
    def total_cost(self) -> Decimal:
        return sum((row.cost for row in self.allowed), Decimal("0.00"))

    @property
    def hit_ids(self) -> list[str]:
        return [row.hit.hit_id for row in self.allowed]


def clean_parameters(
    *, account: RequesterAccount, action: HITChangeAction | str, parameters: dict[str, Any]
) -> dict[str, Any]:
    """The parameters an action needs, checked and in JSON form (what the intent row keeps)."""
    action = HITChangeAction(action)
    if action == HITChangeAction.ADD_ASSIGNMENTS:
        count = parameters.get("count")
        if not isinstance(count, int) or not 1 <= count <= MAX_ADDITIONAL:
            raise ChangeRefused("Say how many assignments to add (at least 1).")
        return {"count": count}
    if action == HITChangeAction.UPDATE_EXPIRATION:
        expire_at = parameters.get("expire_at")
        if isinstance(expire_at, str):
            expire_at = dt.datetime.fromisoformat(expire_at)
        if not isinstance(expire_at, dt.datetime) or timezone.is_naive(expire_at):
            raise ChangeRefused("Give the new expiry as a date and time.")
        if expire_at <= timezone.now():
            raise ChangeRefused("The new expiry is in the past: use “Expire now” instead.")
        if expire_at > timezone.now() + dt.timedelta(days=365):
            raise ChangeRefused("A HIT expires at most a year from now.")
        return {"expire_at": expire_at.astimezone(dt.UTC).isoformat(timespec="seconds")}
    if action == HITChangeAction.CHANGE_TYPE:
        hit_type_id = str(parameters.get("hit_type_id") or "")
        if not HITType.objects.filter(account=account, hit_type_id=hit_type_id).exists():
            raise ChangeRefused("Choose one of this account's HIT types.")
        return {"hit_type_id": hit_type_id}
    if action == HITChangeAction.REVIEW_STATUS:
        return {"revert": bool(parameters.get("revert"))}
    return {}


def _undecided(hits: Sequence[HIT]) -> dict[int, int]:
    rows = (
        HIT.objects.filter(pk__in=[hit.pk for hit in hits])
        .annotate(n=Count("assignments", filter=Q(assignments__status=AssignmentStatus.SUBMITTED)))
        .values_list("pk", "n")
    )
    return dict(rows)


def _refusal(
    hit: HIT, action: HITChangeAction, parameters: dict[str, Any], undecided: dict[int, int]
) -> str:
    if hit.status == HITStatus.DISPOSED:
        return "The HIT has been deleted at MTurk."
    if action == HITChangeAction.ADD_ASSIGNMENTS:
        total = hit.max_assignments + parameters["count"]
        if hit.max_assignments < LARGE_HIT <= total:
            return (
                f"It was created with {hit.max_assignments} assignments: MTurk cannot extend a HIT "
                f"created with fewer than {LARGE_HIT} to {LARGE_HIT} or more (it would have "
                f"{total}). Publish a new HIT for the extra work instead."
            )
    elif action == HITChangeAction.DELETE:
        # Reviewing is a sub-state of Reviewable (the requester is looking at it).
        if hit.status not in (HITStatus.REVIEWABLE, HITStatus.REVIEWING):
            return (
                f"It is {hit.status}: MTurk deletes only Reviewable HITs (expired or with every "
                "assignment submitted): expire it first."
            )
        if undecided.get(hit.pk, 0) or hit.assignments_pending:
            return (
                f"{undecided.get(hit.pk, 0)} submitted assignment(s) are not approved or "
                "rejected yet: decide them first."
            )
    elif action == HITChangeAction.CHANGE_TYPE:
        if hit.hit_type.hit_type_id == parameters["hit_type_id"]:
            return "It already has that HIT type."
    elif action == HITChangeAction.REVIEW_STATUS:
        wanted = HITStatus.REVIEWING if parameters["revert"] else HITStatus.REVIEWABLE
        if hit.status != wanted:
            return f"It is {hit.status}: only a {wanted} HIT can be set to " + (
                "Reviewable." if parameters["revert"] else "Reviewing."
            )
    return ""


def _cost(hit: HIT, action: HITChangeAction, parameters: dict[str, Any]) -> Decimal:
    if action != HITChangeAction.ADD_ASSIGNMENTS:
        return Decimal("0.00")
    count = parameters["count"]
    return fees.assignment_cost(hit.reward, hit.max_assignments + count) * count


def plan_change(
    *,
    account: RequesterAccount,
    hit_ids: Sequence[str],
    action: HITChangeAction | str,
    parameters: dict[str, Any],
) -> ChangePlan:
    """What the change would do to each HIT (by the mirror): refused with the reason, or allowed
    with its cost. Raises ChangeRefused for bad parameters."""
    action = HITChangeAction(action)
    parameters = clean_parameters(account=account, action=action, parameters=parameters)
    wanted = list(dict.fromkeys(hit_ids))
    if len(wanted) > MAX_HITS:
        raise ChangeRefused(f"Change at most {MAX_HITS:,} HITs at a time.")
    hits = {
        hit.hit_id: hit
        for hit in HIT.objects.filter(account=account, hit_id__in=wanted).select_related("hit_type")
    }
    undecided = _undecided(list(hits.values())) if action == HITChangeAction.DELETE else {}
    busy = set(
        HITChange.objects.filter(
            account=account, hit_id__in=list(hits), state__in=IntentState.open()
        ).values_list("hit_id", flat=True)
    )
    plan = ChangePlan(action=action, parameters=parameters)
    for hit_id in wanted:
        hit = hits.get(hit_id)
        if hit is None:
            plan.missing.append(hit_id)
            continue
        refusal = (
            "Another change to it is in progress."
            if hit_id in busy
            else _refusal(hit, action, parameters, undecided)
        )
        plan.rows.append(
            HITPlan(
                hit=hit,
                refusal=refusal,
                cost=_cost(hit, action, parameters) if not refusal else Decimal("0.00"),
            )
        )
    return plan


def binding(*, hit_ids: Sequence[str], action: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """What a confirmation page showed: the HITs, the action and its parameters."""
    return {"hits": sorted(hit_ids), "action": str(action), "parameters": parameters}


def request_changes(
    *,
    account: RequesterAccount,
    plan: ChangePlan,
    requested_by: Any = None,
) -> tuple[list[HITChange], Job | None]:
    """Record a HITChange for every allowed HIT of the plan: one on its own (sent by a task once
    committed), several under one job. Raises ChangeRefused when none is allowed."""
    allowed = plan.hit_ids
    if not allowed:
        raise ChangeRefused("None of these HITs can be changed that way.")
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    with transaction.atomic():
        job = None
        if len(allowed) > 1:
            job = start_job(
                account=account,
                kind=JobKind.HIT_CHANGE,
                title=f"{plan.action.label}: {len(allowed)} HITs",
                parameters={"action": str(plan.action), **plan.parameters},
                created_by=requested_by,
                total=len(allowed),
            )
        changes = intents.save_new(
            [
                HITChange(
                    account=account,
                    hit_id=hit_id,
                    action=plan.action,
                    parameters=plan.parameters,
                    requested_by=user,
                    job=job,
                )
                for hit_id in allowed
            ],
            refused=lambda _change: None,
        )
        if job is None:
            intents.send_after_commit(changes)
        else:
            Job.objects.filter(pk=job.pk).update(total=len(changes))
    return changes, job


@dataclass(frozen=True)
class ChangeResult:
    """What `audited_call` needs (dashboard.intents.CallResult) for calls whose gateway method
    returns nothing."""

    request_id: str | None = None
    already: bool = False


def _send(change: HITChange, gateway: MTurkGateway) -> ChangeResult:
    action, params = HITChangeAction(change.action), change.parameters
    if action == HITChangeAction.ADD_ASSIGNMENTS:
        result = gateway.create_additional_assignments(
            hit_id=change.hit_id, count=int(params["count"]), token=change.unique_request_token
        )
        return ChangeResult(result.request_id, result.outcome == "already_extended")
    if action == HITChangeAction.UPDATE_EXPIRATION:
        gateway.update_expiration(
            hit_id=change.hit_id, expire_at=dt.datetime.fromisoformat(params["expire_at"])
        )
    elif action == HITChangeAction.EXPIRE:
        gateway.update_expiration(hit_id=change.hit_id, expire_at=EXPIRE_NOW_AT)
    elif action == HITChangeAction.DELETE:
        gateway.delete_hit(hit_id=change.hit_id)
    elif action == HITChangeAction.CHANGE_TYPE:
        gateway.update_hit_type_of_hit(hit_id=change.hit_id, hit_type_id=params["hit_type_id"])
    elif action == HITChangeAction.REVIEW_STATUS:
        gateway.update_hit_review_status(hit_id=change.hit_id, revert=bool(params["revert"]))
    return ChangeResult()


def execute_change(
    *, change_id: int, gateway: MTurkGateway, reclaim_sending: bool = False
) -> HITChange | None:
    """Send one change if nobody else has it; returns the row as it ended (None when it was not
    claimable). On success the HIT is read back from MTurk into the mirror."""
    claimed = intents.claim(HITChange, change_id, reclaim_sending=reclaim_sending)
    if claimed is None:
        return None
    change = intents.audited_call(claimed, lambda: _send(claimed, gateway))
    if change.state in (IntentState.DONE, IntentState.ALREADY):
        try:
            sync_one_hit(account=change.account, gateway=gateway, hit_id=change.hit_id)
        except MTurkError:
            # The change is made; the next scheduled sync brings the mirror up to date.
            pass
    return change


# --- Add assignments where workers disagree -------------------------------------------------------


@dataclass
class Disagreement:
    hit: HIT
    agreement: float  # the lowest share agreeing with the majority over the HIT's fields
    cost: Decimal


def hit_agreement(per_field: dict[str, Any]) -> float | None:
    """The weakest field's agreement with the majority (a tie has no majority: 0), or None when
    no field was answered by two workers or more."""
    shares = [fa.share for fa in per_field.values() if fa.answered >= 2]
    return min(shares) if shares else None


def disagreements(
    *, hit_type: HITType, threshold: float, count: int
) -> tuple[ChangePlan, list[Disagreement]]:
    """The HITs of the study whose agreement is below `threshold`, and the plan for adding `count`
    assignments to each (with its refusals, e.g. the 10-assignment rule, and the cost)."""
    analysis = review.analyse(hit_type)
    low: dict[int, float] = {}
    for hit_pk, per_field in analysis.per_hit.items():
        share = hit_agreement(per_field)
        if share is not None and share < threshold:
            low[hit_pk] = share
    hits = HIT.objects.filter(pk__in=list(low), account=hit_type.account).order_by("hit_id")
    plan = plan_change(
        account=hit_type.account,
        hit_ids=[hit.hit_id for hit in hits],
        action=HITChangeAction.ADD_ASSIGNMENTS,
        parameters={"count": count},
    )
    rows = [
        Disagreement(hit=row.hit, agreement=low[row.hit.pk], cost=row.cost) for row in plan.rows
    ]
    return plan, rows
