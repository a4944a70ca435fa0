"""Publishing a batch: the draft (a snapshot of the template, the HIT settings and the inputs),
its dry run and estimate, and the job that creates the HIT type and the HITs, each HIT once.

Exactly once: every HIT is a HITRequest row (an intent) recorded before anything is sent, claimed
by a conditional UPDATE and sent with a UniqueRequestToken from its row id; a repeated token is
resolved to the HIT the first attempt created ("already"). The batch's job is claimed with a
conditional UPDATE, so a double-submitted confirmation starts one job.

Micro-batching and "no worker answers an item twice". MTurk keeps a worker from taking two
assignments of one HIT, but nothing keeps them from two HITs of one item (neither does the
emulator's crowd: it takes any HIT it is eligible for). So a micro-batched batch gets its own
exclusion qualification type ("did a part of batch X"), required to be absent on the batch's HIT
type, and an item's parts are published one after the other: part k+1 is created only once part
k is finished at MTurk (nothing available, nothing in progress), after every worker who submitted
part k has been granted the exclusion. Whoever answered any part of the item so is kept out of
its later parts, with no race (granting as workers accept would leave a window between the
accept and the grant). It excludes a little more than needed (a worker of item 1 also misses the
later parts of item 2), and the parts take longer to fill: that is the price of the fee saving,
and CloudResearch's micro-batches run one after the other for the same reason.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Max

from dashboard.enums import IntentState, JobKind, JobState
from dashboard.intents import audited_call, claim, fail, finish, send_after_commit
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount, SyncState
from dashboard.mturk_access import account_gateway
from hits.models import HIT, HITType
from hits.notifications import configure_hit_type, destination_for
from hits.sync import upsert_hits
from mturk import records, review_policies
from mturk.batches import annotation_for
from mturk.errors import MTurkError
from mturk.gateway import CreateHitResult, MTurkGateway
from people.models import StudyGroup
from people.services.blocks import exclusion_requirements
from publishing.enums import BatchState
from publishing.estimate import Estimate, estimate_batch, split_assignments
from publishing.inputs import InputsReport, LineProblem, read_inputs
from publishing.models import HITRequest, PublishBatch, QuestionTemplate, RequirementPreset
from publishing.questions import QuestionProblem, render_question, template_variables
from qualifications.enums import LabPurpose
from qualifications.models import QualificationType

__all__ = [
    "MAX_REQUIREMENTS",
    "MIN_REWARD",
    "PUBLISH_CONFIRMATION",
    "PublishPlan",
    "PublishRefused",
    "advance_all_micro_batches",
    "advance_micro_batches",
    "batch_binding",
    "create_draft",
    "ensure_hit_type",
    "execute_hit_request",
    "fail_open_requests",
    "mirror_created_hits",
    "mirror_missing_hits",
    "notification_choice",
    "notification_problem",
    "plan_batch",
    "policy_problems",
    "question_inputs",
    "requirements_for",
    "review_grid_query",
    "start_publish",
]

# MTurk's minimum reward per assignment.
MIN_REWARD = Decimal("0.01")
# MTurk takes at most 10 QualificationRequirements on a HIT type.
MAX_REQUIREMENTS = 10
# What a batch's confirmation token is issued for (dashboard.confirmations).
PUBLISH_CONFIRMATION = "publishing.publish_batch"
# Where in hit_settings the batch's micro-batching exclusion type is kept, once created.
EXCLUSION_KEY = "exclusion_qualification_type_id"
# Statuses of an assignment whose worker answered the item.
ANSWERED = ("Submitted", "Approved", "Rejected")
T = TypeVar("T")


class PublishRefused(ValueError):
    """The batch cannot be published as it is; the message says why."""


@dataclass
class PublishPlan:
    """The dry run: the inputs read and every question rendered, the settings checked, the
    estimate. `errors` and `problems` (bad lines) refuse the batch, and so do the estimate's
    refusals (over the budget cap or the balance)."""

    inputs: InputsReport
    estimate: Estimate | None
    errors: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[LineProblem]:
        return self.inputs.problems

    @property
    def refusals(self) -> list[str]:
        return self.estimate.refusals if self.estimate else []

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and self.inputs.ok
            and self.estimate is not None
            and not self.estimate.refusals
        )


def _reward(batch: PublishBatch) -> Decimal:
    try:
        return Decimal(str(batch.hit_settings.get("reward", "")))
    except InvalidOperation:
        return Decimal("-1")


def _assignments_per_item(batch: PublishBatch) -> int:
    return int(batch.hit_settings.get("max_assignments") or 1)


def _needs_exclusion(batch: PublishBatch) -> bool:
    return (
        len(split_assignments(_assignments_per_item(batch), micro_batching=batch.micro_batching))
        > 1
    )


def settings_problems(batch: PublishBatch) -> list[str]:
    """What MTurk would refuse in the HIT settings and requirements."""
    problems = []
    reward = _reward(batch)
    if reward < MIN_REWARD or reward != reward.quantize(Decimal("0.01")):
        problems.append(f"The reward must be at least ${MIN_REWARD}, in whole cents.")
    for name in ("title", "description"):
        if not str(batch.hit_settings.get(name) or "").strip():
            problems.append(f"The HIT type needs a {name}.")
    if not 1 <= _assignments_per_item(batch) <= 1_000_000_000:
        problems.append("Assignments per item must be at least 1.")
    problem = notification_problem(batch)
    if problem:
        problems.append(problem)
    count = len(batch.requirements) + (1 if _needs_exclusion(batch) else 0)
    if count > MAX_REQUIREMENTS:
        problems.append(
            f"{count} qualification requirements"
            f"{' (with the micro-batching exclusion)' if _needs_exclusion(batch) else ''}; "
            f"MTurk allows at most {MAX_REQUIREMENTS}."
        )
    return problems


def _answer_columns(batch: PublishBatch) -> list[str]:
    """The inputs columns holding known answers (ScoreMyKnownAnswers): never shown to workers."""
    known = (batch.review_policies or {}).get("known_answers") or {}
    return [known["column"]] if known.get("column") else []


def question_inputs(batch: PublishBatch, inputs: dict[str, str]) -> dict[str, str]:
    """The row's values the question is made from: without the known answers (a layout without
    named parameters would otherwise send every value, the answer too, to the workers)."""
    hidden = _answer_columns(batch)
    return {k: v for k, v in inputs.items() if k not in hidden} if hidden else inputs


def policy_problems(batch: PublishBatch, variables: list[str]) -> list[str]:
    """What is wrong with the batch's review policies (mturk.review_policies checks them)."""
    policies = batch.review_policies or {}
    problems = []
    if policies.get("known_answers"):
        problems += review_policies.known_answers_problems(
            policies["known_answers"], variables=variables
        )
    if policies.get("plurality"):
        problems += review_policies.plurality_problems(
            policies["plurality"],
            assignments_per_hit=split_assignments(
                _assignments_per_item(batch), micro_batching=batch.micro_batching
            ),
        )
    return problems


def notification_choice(
    *, account: RequesterAccount, transport: str, event_types: list[str]
) -> dict[str, Any]:
    """What a batch keeps of its notifications: {} for none, else the transport, the events and
    the account's own destination for it (never one a form sent). ValueError when the account
    has no destination for that transport."""
    if not transport:
        return {}
    return {
        "transport": transport,
        "destination": destination_for(account, transport),
        "event_types": list(event_types),
    }


def notification_problem(batch: PublishBatch) -> str:
    """Why the batch's notifications cannot be set up as its page shows them: the account's queue
    or topic is gone or changed since the draft (the page would show one, MTurk get another)."""
    notification = batch.notification or {}
    transport = str(notification.get("transport") or "")
    if not transport:
        return ""
    what = "SQS queue" if transport == "SQS" else "SNS topic"
    try:
        destination = destination_for(batch.account, transport)
    except ValueError:
        return f"The batch sends events to the account's {what}, but the account has none now."
    if destination != notification.get("destination"):
        return (
            f"The account's {what} changed since this batch was made; copy the batch into a new "
            "one to send events to the new one."
        )
    if not notification.get("event_types"):
        return "The batch's notifications name no event type."
    return ""


def plan_batch(batch: PublishBatch) -> PublishPlan:
    """The batch's dry run. Reads the database, writes nothing, calls nobody."""
    variables = template_variables(
        kind=batch.template_kind,
        content=batch.template_content,
        layout_parameter_names=(batch.template.layout_parameter_names if batch.template else []),
    )
    report = read_inputs(
        data=bytes(batch.inputs), variables=variables, answer_columns=_answer_columns(batch)
    )
    plan = PublishPlan(
        inputs=report,
        estimate=None,
        errors=settings_problems(batch) + policy_problems(batch, variables),
    )
    good = []
    for row in report.rows:
        try:
            render_question(
                kind=batch.template_kind,
                content=batch.template_content,
                frame_height=batch.frame_height,
                layout_id=batch.layout_id,
                inputs=question_inputs(batch, row.values),
            )
        except QuestionProblem as exc:
            report.problems.append(LineProblem(row.line, str(exc)))
            continue
        good.append(row)
    report.rows = good
    if plan.errors or not report.ok:
        return plan
    state = SyncState.objects.filter(account=batch.account).first()
    plan.estimate = estimate_batch(
        items=len(report.rows),
        assignments_per_item=_assignments_per_item(batch),
        reward=_reward(batch),
        micro_batching=batch.micro_batching,
        balance=state.available_balance if state else None,
        cap=batch.account.budget_cap,
    )
    return plan


def create_draft(
    *,
    account: RequesterAccount,
    label: str,
    template: QuestionTemplate,
    hit_settings: dict[str, Any],
    requirements: list[dict[str, Any]],
    micro_batching: bool,
    inputs_filename: str,
    inputs: bytes,
    requested_by: Any,
    notification: dict[str, Any] | None = None,
    policies: dict[str, Any] | None = None,
) -> tuple[PublishBatch, PublishPlan]:
    """Keep the batch as it is asked for (the template snapshotted: editing the template later
    changes nothing published), with its dry run's estimate."""
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    batch = PublishBatch(
        account=account,
        label=label,
        template=template,
        template_kind=template.kind,
        template_content=template.content,
        frame_height=template.frame_height,
        layout_id=template.layout_id,
        hit_settings=hit_settings,
        requirements=requirements,
        notification=notification or {},
        review_policies=policies or {},
        micro_batching=micro_batching,
        inputs_filename=inputs_filename[:255],
        inputs=inputs,
        created_by=user,
    )
    plan = plan_batch(batch)
    batch.estimate = plan.estimate.as_json() if plan.estimate else {}
    if plan.ok:  # a refused batch is only reported: fixing and uploading again is cheap
        batch.save()
    return batch, plan


def requirements_for(
    *,
    account: RequesterAccount,
    preset: RequirementPreset | None,
    exclude_soft_blocked: bool,
    study_groups: list[StudyGroup],
) -> list[dict[str, Any]]:
    """The batch's QualificationRequirements: the preset's, then the lab's exclusions (the
    soft-blocked workers when asked, and the study groups' former workers)."""
    requirements = [dict(r) for r in (preset.requirements if preset else [])]
    soft_block = set(
        QualificationType.objects.filter(
            account=account, lab_purpose=LabPurpose.SOFT_BLOCK
        ).values_list("qualification_type_id", flat=True)
    )
    for requirement in exclusion_requirements(account, study_groups=study_groups):
        if requirement["QualificationTypeId"] in soft_block and not exclude_soft_blocked:
            continue
        if requirement not in requirements:
            requirements.append(requirement)
    return requirements


def batch_binding(batch: PublishBatch) -> dict[str, object]:
    """What the confirmation page showed: this batch, with exactly these inputs and settings."""
    digest = hashlib.sha256(bytes(batch.inputs))
    digest.update(repr(sorted(batch.hit_settings.items())).encode())
    return {"batch": batch.pk, "sha256": digest.hexdigest()}


def start_publish(*, batch: PublishBatch, requested_by: Any) -> Job:
    """Publish the batch, once: planned again now, a HITRequest per HIT recorded under one job.
    A second call (a double submit) returns the first call's job. Raises PublishRefused when the
    batch can no longer be published (e.g. the balance or the cap moved)."""
    if batch.job_id is not None:
        return Job.objects.get(pk=batch.job_id)
    plan = plan_batch(batch)
    if not plan.ok or plan.estimate is None:
        reasons = (
            plan.errors + plan.refusals + [f"line {p.line}: {p.message}" for p in plan.problems]
        )
        raise PublishRefused("The batch cannot be published: " + " ".join(reasons[:5]))
    estimate = plan.estimate
    with transaction.atomic():
        job = start_job(
            account=batch.account,
            kind=JobKind.PUBLISH_BATCH,
            title=f"Publish {batch.label} ({estimate.hits} HITs, ${estimate.total} with fees)",
            parameters={"batch": batch.pk},
            created_by=requested_by,
            total=estimate.items,
        )
        # Claim the batch so a double-submitted confirmation publishes it once.
        if (
            PublishBatch.objects.filter(pk=batch.pk, job__isnull=True).update(
                job=job, state=BatchState.PUBLISHING, estimate=estimate.as_json()
            )
            != 1
        ):
            transaction.set_rollback(True)
            first = PublishBatch.objects.get(pk=batch.pk).job_id
            if first is None:
                raise PublishRefused("This batch is being published already; see the jobs page.")
            return Job.objects.get(pk=first)
        user = requested_by if getattr(requested_by, "is_authenticated", False) else None
        parts = estimate.parts_per_item
        # Only each item's first part now: later parts wait for it (see the module docstring).
        HITRequest.objects.bulk_create(
            [
                HITRequest(
                    account=batch.account,
                    job=job,
                    requested_by=user,
                    batch=batch,
                    row_number=row.line,
                    part=0,
                    inputs=row.values,
                    max_assignments=parts[0],
                )
                for row in plan.inputs.rows
            ],
            batch_size=500,
        )
    batch.job, batch.state = job, BatchState.PUBLISHING
    return job


def _retrying(call: Callable[[], T], attempts: int = 6) -> T:
    """A call made once per batch (not an intent row): tried again while MTurk throttles."""
    for attempt in range(attempts):
        try:
            return call()
        except MTurkError as exc:
            if not exc.retryable or attempt == attempts - 1:
                raise
            time.sleep(min(2.0 * (attempt + 1), 10.0))
    raise AssertionError("unreachable")


def _exclusion_requirement(qualification_type_id: str) -> dict[str, Any]:
    return {
        "QualificationTypeId": qualification_type_id,
        "Comparator": "DoesNotExist",
        "ActionsGuarded": "DiscoverPreviewAndAccept",
    }


def _ensure_exclusion_type(batch: PublishBatch, gateway: MTurkGateway) -> str:
    existing = str(batch.hit_settings.get(EXCLUSION_KEY) or "")
    if existing:
        return existing
    name = f"Did a part of batch {batch.label} (#{batch.pk})"[:200]
    try:
        qtype_id = _retrying(
            lambda: (
                gateway.create_qualification_type(
                    name=name,
                    description=f"Workers who answered an item of the batch {batch.label}: kept out "
                    "of its other parts.",
                ).qualification_type_id
            )
        )
    except MTurkError:
        # Created by an attempt that died before recording it: MTurk refuses the same name.
        found = [
            qtype.qualification_type_id
            for page in gateway.iter_qualification_type_pages(
                query=name, must_be_owned_by_caller=True
            )
            for qtype in page
            if qtype.name == name
        ]
        if not found:
            raise
        qtype_id = found[0]
    batch.hit_settings = {**batch.hit_settings, EXCLUSION_KEY: qtype_id}
    PublishBatch.objects.filter(pk=batch.pk).update(hit_settings=batch.hit_settings)
    return qtype_id


def ensure_hit_type(batch: PublishBatch, gateway: MTurkGateway, *, actor: Any = None) -> str:
    """The batch's HIT type, registered once (CreateHITType returns the same id for the same
    values, so a retry after a crash before it was recorded finds the same type), with the
    notifications the batch asks for set up once too."""
    if not batch.hit_type_id:
        _create_hit_type(batch, gateway)
    _ensure_notifications(batch, gateway, actor=actor)
    return batch.hit_type_id


def _create_hit_type(batch: PublishBatch, gateway: MTurkGateway) -> None:
    requirements = list(batch.requirements)
    if _needs_exclusion(batch):
        requirements.append(_exclusion_requirement(_ensure_exclusion_type(batch, gateway)))
    s = batch.hit_settings
    hit_type_id = _retrying(
        lambda: gateway.create_hit_type(
            title=s["title"],
            description=s["description"],
            reward=Decimal(str(s["reward"])),
            assignment_duration_seconds=int(s.get("assignment_duration_seconds") or 3600),
            auto_approval_delay_seconds=int(s.get("auto_approval_delay_seconds") or 259200),
            keywords=s.get("keywords") or None,
            qualification_requirements=requirements,
        )
    )
    PublishBatch.objects.filter(pk=batch.pk).update(hit_type_id=hit_type_id)
    batch.hit_type_id = hit_type_id


def _ensure_notifications(batch: PublishBatch, gateway: MTurkGateway, *, actor: Any) -> None:
    """UpdateNotificationSettings on the batch's new HIT type, as the notifications page does it
    (hits.notifications: audited, remembered on the mirror's HITType row). The row is made here
    from the batch's settings when the HIT type has no HIT mirrored yet (the sync refreshes its
    values from the first HIT and never touches the notification fields). Marked done on the
    batch, so a retried job sets it up once; setting the same values again is harmless."""
    notification = batch.notification or {}
    if not notification.get("transport") or notification.get("configured"):
        return
    problem = notification_problem(batch)
    if problem:
        raise PublishRefused(problem)
    s = batch.hit_settings
    hit_type, _ = HITType.objects.get_or_create(
        account=batch.account,
        hit_type_id=batch.hit_type_id,
        defaults={
            "title": s.get("title") or "",
            "description": s.get("description") or "",
            "keywords": s.get("keywords") or "",
            "reward": Decimal(str(s.get("reward") or 0)),
            "assignment_duration_seconds": int(s.get("assignment_duration_seconds") or 0),
            "auto_approval_delay_seconds": int(s.get("auto_approval_delay_seconds") or 0),
            "qualification_requirements": list(batch.requirements),
        },
    )
    _retrying(
        lambda: configure_hit_type(
            account=batch.account,
            gateway=gateway,
            hit_type=hit_type,
            transport=notification["transport"],
            event_types=list(notification["event_types"]),
            active=True,
            actor=actor,
            actor_name="" if actor else "publishing",
        )
    )
    batch.notification = {**notification, "configured": True}
    PublishBatch.objects.filter(pk=batch.pk).update(notification=batch.notification)


@dataclass(frozen=True)
class _Created:
    """CreateHitResult as dashboard.intents.audited_call reads it."""

    result: CreateHitResult

    @property
    def request_id(self) -> str | None:
        return self.result.request_id

    @property
    def already(self) -> bool:
        return not self.result.created


def mirror_created_hits(
    *, account: RequesterAccount, created: list[tuple[records.HIT, dict[str, str]]]
) -> None:
    """Write HITs we created into the mirror, with the inputs each was made from (the sync never
    writes `inputs`: they exist only here). A few queries per call, whatever the number of HITs."""
    if not created:
        return
    rows, _counts, _changed = upsert_hits(account=account, hit_records=[hit for hit, _ in created])
    # HITs created with review policies get results ({} until the sync reads them): the sync
    # asks MTurk for the results of those HITs only.
    ids, with_policies = [hit.hit_id for hit, _ in created], set[str]()
    for start in range(0, len(ids), 900):
        with_policies.update(
            HITRequest.objects.filter(account=account, hit_id__in=ids[start : start + 900])
            .exclude(batch__review_policies={})
            .values_list("hit_id", flat=True)
        )
    changed = []
    for hit, inputs in created:
        row = rows.get(hit.hit_id)
        if row is None:
            continue
        marked = hit.hit_id in with_policies and row.review_policy_results is None
        if marked:
            row.review_policy_results = {}
        if row.inputs != inputs or marked:
            row.inputs = inputs
            changed.append(row)
    HIT.objects.bulk_update(changed, ["inputs", "review_policy_results"], batch_size=500)


def review_grid_query(batch: PublishBatch) -> tuple[str, int | None] | None:
    """Where the batch's answers are reviewed: its HIT type's grid, and the review workspace's
    batch its HITs were mirrored into (for the grid's batch filter), once a HIT is created."""
    if not batch.hit_type_id:
        return None
    hit_id = (
        HITRequest.objects.filter(batch=batch).exclude(hit_id="").values_list("hit_id", flat=True)
    ).first()
    if hit_id is None:
        return None
    mirrored = (
        HIT.objects.filter(account=batch.account, hit_id=hit_id)
        .values_list("hit_type__hit_type_id", "batch_id")
        .first()
    )
    return (mirrored[0], mirrored[1]) if mirrored else None


def _get_hit(gateway: MTurkGateway, hit_id: str) -> records.HIT:
    return _retrying(lambda: gateway.get_hit(hit_id=hit_id))


def mirror_missing_hits(*, batch: PublishBatch, gateway: MTurkGateway) -> int:
    """Mirror the batch's created HITs that the mirror lacks or has without their inputs (a job
    whose worker died between creating HITs and mirroring them). Returns how many it wrote."""
    done = dict(
        HITRequest.objects.filter(batch=batch, state__in=[IntentState.DONE, IntentState.ALREADY])
        .exclude(hit_id="")
        .values_list("hit_id", "inputs")
    )
    ids, kept = list(done), set[str]()
    # IN (...) lists are split so no backend hits its bound-parameter limit (SQLite's is lowest).
    for start in range(0, len(ids), 900):
        kept.update(
            HIT.objects.filter(account=batch.account, hit_id__in=ids[start : start + 900])
            .exclude(inputs={})
            .values_list("hit_id", flat=True)
        )
    created = []
    for hit_id in done:
        if hit_id not in kept:
            created.append((_get_hit(gateway, hit_id), done[hit_id]))
    mirror_created_hits(account=batch.account, created=created)
    return len(created)


def execute_hit_request(
    *,
    request_id: int,
    gateway: MTurkGateway,
    reclaim_sending: bool = False,
    mirror: bool = True,
) -> HITRequest | None:
    """Create one HIT: claim the row, CreateHITWithHITType with the row's token (a repeated token
    is the HIT the first attempt made: "already"), then mirror the HIT with its inputs. Returns
    the row as it ended, or None when it was not claimable. With `mirror` False (a job, which
    mirrors each batch of rows at once) the HIT is left on the row as `created_hit`."""
    request = claim(
        HITRequest,
        request_id,
        reclaim_sending=reclaim_sending,
        select_related=["batch"],
        # The inputs file may be megabytes; each row carries its own inputs.
        defer=["batch__inputs"],
    )
    if request is None:
        return None
    batch = request.batch
    try:
        hit_type_id = ensure_hit_type(batch, gateway)
        rendered = render_question(
            kind=batch.template_kind,
            content=batch.template_content,
            frame_height=batch.frame_height,
            layout_id=batch.layout_id,
            inputs=question_inputs(batch, request.inputs),
        )
        policies = batch.review_policies or {}
        assignment_policy = review_policies.assignment_policy(policies, request.inputs)
        hit_policy = review_policies.hit_policy(policies)
    except MTurkError as exc:
        if exc.retryable:
            return finish(request, state=IntentState.PENDING, error=str(exc)[:2000])
        # Failed before CreateHIT (the HIT type refused): audited like a refused CreateHIT.
        return fail(request, error=str(exc), request_id=exc.request_id or "", stage="hit_type")
    except (QuestionProblem, review_policies.PolicyProblem) as exc:
        # Checked by the dry run: only a template module changed since would get here.
        return fail(request, error=str(exc), stage="question")
    except PublishRefused as exc:
        # The account's queue or topic went away after the confirmation.
        return fail(request, error=str(exc), stage="notifications")
    annotation = annotation_for(batch.label, item=request.row_number, part=request.part)

    def create() -> _Created:
        return _Created(
            gateway.create_hit_with_hit_type(
                hit_type_id=hit_type_id,
                lifetime_seconds=int(batch.hit_settings.get("lifetime_seconds") or 86400),
                token=request.unique_request_token,
                max_assignments=request.max_assignments,
                question=rendered.question,
                requester_annotation=annotation,
                hit_layout_id=rendered.layout_id,
                hit_layout_parameters=rendered.layout_parameters,
                assignment_review_policy=assignment_policy,
                hit_review_policy=hit_policy,
            )
        )

    def record(created: _Created) -> None:
        hit = created.result.hit
        finish(request, hit_id=hit.hit_id)
        if mirror:
            mirror_created_hits(account=request.account, created=[(hit, request.inputs)])
        else:
            request.created_hit = hit  # type: ignore[attr-defined]

    return audited_call(request, create, on_success=record)


def fail_open_requests(*, batch: PublishBatch, error: str, request_id: str = "") -> int:
    """End every open HITRequest of the batch as failed, each with its failed audit event (as a
    refused CreateHIT would have): its HIT type was refused for good, so none of them can ever be
    created, and leaving them open would only have them sent again. Returns how many it ended."""
    ended = 0
    for pk in HITRequest.objects.filter(batch=batch, state__in=IntentState.open()).values_list(
        "pk", flat=True
    ):
        # reclaim_sending: the caller holds the batch's job, so a `sending` row is one its dead
        # predecessor left.
        request = claim(HITRequest, pk, reclaim_sending=True, select_related=["batch"])
        if request is not None:
            fail(request, error=error, request_id=request_id, stage="hit_type")
            ended += 1
    return ended


def _item_finished_at_mturk(gateway: MTurkGateway, hit_id: str) -> bool:
    hit = _retrying(lambda: gateway.get_hit(hit_id=hit_id))
    if hit.status in ("Reviewable", "Reviewing", "Disposed"):
        return True
    return not (hit.assignments_available or 0) and not (hit.assignments_pending or 0)


def _grant_exclusion(gateway: MTurkGateway, qualification_type_id: str, worker_id: str) -> None:
    # Granting again only sets the same value: safe to repeat after a crash.
    _retrying(
        lambda: gateway.associate_qualification_with_worker(
            qualification_type_id=qualification_type_id, worker_id=worker_id, integer_value=1
        )
    )


def advance_micro_batches(*, batch: PublishBatch, gateway: MTurkGateway) -> int:
    """Publish the next part of each micro-batched item whose current part is finished at MTurk,
    after granting the batch's exclusion to every worker who answered that part. Idempotent
    (a part is one row per (item, part): recording it again finds it). Marks the batch published
    once every part of every item is created. Returns how many parts it recorded."""
    if batch.job_id is None:
        return 0
    parts = split_assignments(_assignments_per_item(batch), micro_batching=batch.micro_batching)
    latest = (
        HITRequest.objects.filter(batch=batch)
        .values("row_number")
        .annotate(part=Max("part"))
        .order_by("row_number")
    )
    recorded: list[HITRequest] = []
    unfinished = 0
    for item in latest:
        request = HITRequest.objects.get(
            batch=batch, row_number=item["row_number"], part=item["part"]
        )
        if request.state in IntentState.failures():
            continue
        if request.part + 1 >= len(parts):
            unfinished += request.state in IntentState.open()
            continue
        unfinished += 1
        if request.state in IntentState.open() or not _item_finished_at_mturk(
            gateway, request.hit_id
        ):
            continue
        qtype_id = _ensure_exclusion_type(batch, gateway)
        for page in gateway.iter_assignment_pages(hit_id=request.hit_id, statuses=ANSWERED):
            for assignment in page:
                _grant_exclusion(gateway, qtype_id, assignment.worker_id)
        with transaction.atomic():
            row, created = HITRequest.objects.get_or_create(
                batch=batch,
                row_number=request.row_number,
                part=request.part + 1,
                defaults={
                    "account": batch.account,
                    "job_id": batch.job_id,
                    "requested_by": request.requested_by,
                    "inputs": request.inputs,
                    "max_assignments": parts[request.part + 1],
                },
            )
            if created:
                send_after_commit([row])
                recorded.append(row)
    if not unfinished:
        PublishBatch.objects.filter(pk=batch.pk, state=BatchState.PUBLISHING).update(
            state=BatchState.PUBLISHED
        )
    return len(recorded)


def advance_all_micro_batches() -> dict[int, int]:
    """Beat: advance_micro_batches for every batch still publishing whose job has ended (a
    running job advances its own batch when it ends). Returns parts recorded per batch."""
    recorded = {}
    for batch in PublishBatch.objects.select_related("account").filter(
        state=BatchState.PUBLISHING, job__state__in=JobState.finished()
    ):
        with account_gateway(batch.account) as gateway:
            recorded[batch.pk] = advance_micro_batches(batch=batch, gateway=gateway)
    return recorded
