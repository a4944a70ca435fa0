"""HIT types and HITs: creation, listing, expiry, extension, review status, disposal."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypedDict

from emulator import pagination, review_policies
from emulator import requirements as reqs
from emulator.operations import checks as ck
from emulator.operations.registry import Context, operation
from emulator.protocol import (
    RequestError,
    invalid_param,
    parse_money,
    parse_timestamp,
    wrong_status,
)
from emulator.state import DISPOSED, HIT, REVIEWABLE, REVIEWING, SUBMITTED, HITType

if TYPE_CHECKING:
    from emulator.engine import Emulator

HIT_ALREADY_EXISTS = "AWS.MechanicalTurk.HitAlreadyExists"


class _HITTypeFields(TypedDict):
    """What makes two CreateHITType calls the same HIT type (HITType's own fields)."""

    title: str
    description: str
    keywords: str | None
    reward_cents: int
    assignment_duration: int
    auto_approval_delay: int
    qualification_requirements: list[dict[str, Any]]


def _type_key(fields: _HITTypeFields) -> str:
    return json.dumps(fields, sort_keys=True)


def find_or_create_hit_type(emu: Emulator, params: dict[str, Any]) -> HITType:
    """CreateHITType semantics: identical properties give back the existing HIT type."""
    title = ck.text(params, "Title", 128, required=True)
    description = ck.text(params, "Description", 2000, required=True)
    keywords = ck.text(params, "Keywords", 1000)
    reward = parse_money(params["Reward"], "Reward")
    duration = ck.integer(params, "AssignmentDurationInSeconds", 30, ck.YEAR, required=True)
    # Omitted: 30 days, the legacy API's documented default (unverified for the 2017 API).
    delay = ck.integer(params, "AutoApprovalDelayInSeconds", 0, ck.MONTH, ck.MONTH)
    requirements = params.get("QualificationRequirements") or []
    reqs.validate_requirements(requirements, lambda q: _qualification_type_usable(emu, q))
    fields: _HITTypeFields = {
        "title": title,
        "description": description,
        "keywords": keywords,
        "reward_cents": reward,
        "assignment_duration": duration,
        "auto_approval_delay": delay,
        "qualification_requirements": requirements,
    }
    key = _type_key(fields)
    index = emu.hit_type_index
    if len(index) != len(emu.state.hit_types):
        index.clear()
        for ht in emu.state.hit_types.values():
            index[_type_key(_fields_of(ht))] = ht.hit_type_id
    existing = index.get(key)
    if existing and existing in emu.state.hit_types:
        return emu.state.hit_types[existing]
    hit_type = HITType(
        hit_type_id=emu.ids.entity(),
        creation_time=emu.now,
        seq=emu.state.next_seq(),
        **fields,
    )
    emu.state.hit_types[hit_type.hit_type_id] = hit_type
    index[key] = hit_type.hit_type_id
    return hit_type


def _fields_of(ht: HITType) -> _HITTypeFields:
    return {
        "title": ht.title,
        "description": ht.description,
        "keywords": ht.keywords,
        "reward_cents": ht.reward_cents,
        "assignment_duration": ht.assignment_duration,
        "auto_approval_delay": ht.auto_approval_delay,
        "qualification_requirements": ht.qualification_requirements,
    }


def _qualification_type_usable(emu: Emulator, qtid: str) -> bool:
    qt = emu.state.qualification_types.get(qtid)
    return qt is not None


def group_id(hit_type_id: str) -> str:
    digest = hashlib.sha1(hit_type_id.encode()).hexdigest().upper()
    return "3" + "".join(c if c.isalnum() else "X" for c in digest)[:29]


@operation("CreateHITType")
def create_hit_type(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"HITTypeId": find_or_create_hit_type(emu, params).hit_type_id}


def _create(emu: Emulator, hit_type: HITType, params: dict[str, Any], op: str) -> dict[str, Any]:
    token = params.get("UniqueRequestToken")
    seen = emu.check_token("hit", token)
    if seen:
        raise RequestError(
            f"The HIT with unique request token {token!r} already exists: HITId {seen['id']}.",
            HIT_ALREADY_EXISTS,
        )
    lifetime = ck.integer(params, "LifetimeInSeconds", 30, ck.YEAR, required=True)
    max_assignments = ck.integer(params, "MaxAssignments", 1, 1_000_000_000, 1)
    annotation = ck.text(params, "RequesterAnnotation", 255)
    question = params.get("Question")
    layout_id = params.get("HITLayoutId")
    layout_parameters = params.get("HITLayoutParameters")
    if (question is None) == (layout_id is None):
        raise invalid_param(
            "Either a Question parameter or a HITLayoutId parameter must be provided."
        )
    if layout_parameters and not layout_id:
        raise invalid_param("HITLayoutParameters can only be used with a HITLayoutId.")
    if layout_id:
        question = emu.render_layout(layout_id, layout_parameters)
    elif question is not None:
        ck.question(question)
    else:  # an empty HITLayoutId (the model's pattern refuses it before we get here)
        raise invalid_param(
            "Either a Question parameter or a HITLayoutId parameter must be provided."
        )
    review_policies.validate_policy(params.get("AssignmentReviewPolicy"), "Assignment")
    review_policies.validate_policy(params.get("HITReviewPolicy"), "HIT")
    hit = HIT(
        hit_id=emu.ids.entity(),
        hit_type_id=hit_type.hit_type_id,
        hit_group_id=group_id(hit_type.hit_type_id),
        seq=emu.state.next_seq(),
        creation_time=emu.now,
        expiration=emu.now + lifetime,
        max_assignments=max_assignments,
        question=question,
        requester_annotation=annotation,
        layout_id=layout_id,
        layout_parameters=layout_parameters,
        assignment_review_policy=params.get("AssignmentReviewPolicy"),
        hit_review_policy=params.get("HITReviewPolicy"),
    )
    emu.state.add_hit(hit)
    emu.schedule_expiry(hit)
    emu.remember_token("hit", token, id=hit.hit_id)
    emu.emit("HITCreated", hit)
    emu.refresh(hit)
    return {"HIT": emu.render_hit(hit)}


@operation("CreateHIT")
def create_hit(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    hit_type = find_or_create_hit_type(emu, params)
    return _create(emu, hit_type, params, "CreateHIT")


@operation("CreateHITWithHITType")
def create_hit_with_hit_type(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    hit_type = emu.get_hit_type(params["HITTypeId"])
    return _create(emu, hit_type, params, "CreateHITWithHITType")


@operation("GetHIT")
def get_hit(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"HIT": emu.render_hit(emu.get_hit(params["HITId"]))}


@operation("ListHITs")
def list_hits(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    def items_after(after: int) -> Iterator[HIT]:
        return (h for h in emu.state.hits_after(after) if h.status != DISPOSED)

    return pagination.page(params, "ListHITs", items_after, lambda h: h.seq, emu.render_hit, "HITs")


@operation("ListReviewableHITs")
def list_reviewable_hits(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    status = params.get("Status") or REVIEWABLE
    hit_type_id = params.get("HITTypeId")

    def items_after(after: int) -> Iterator[HIT]:
        return (
            h
            for h in emu.state.hits_after(after)
            if h.status == status and (hit_type_id is None or h.hit_type_id == hit_type_id)
        )

    scope = f"{status}|{hit_type_id or ''}"
    return pagination.page(
        params, "ListReviewableHITs", items_after, lambda h: h.seq, emu.render_hit, "HITs", scope
    )


@operation("ListHITsForQualificationType")
def list_hits_for_qualification_type(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    qtid = params["QualificationTypeId"]
    if qtid not in emu.state.qualification_types and qtid not in reqs.SYSTEM_TYPES:
        raise RequestError(
            f"QualificationType {qtid} does not exist.", "AWS.MechanicalTurk.ResourceNotFound"
        )
    types = {
        ht.hit_type_id
        for ht in emu.state.hit_types.values()
        if any(r["QualificationTypeId"] == qtid for r in ht.qualification_requirements)
    }

    def items_after(after: int) -> Iterator[HIT]:
        return (
            h
            for h in emu.state.hits_after(after)
            if h.hit_type_id in types and h.status != DISPOSED
        )

    return pagination.page(
        params,
        "ListHITsForQualificationType",
        items_after,
        lambda h: h.seq,
        emu.render_hit,
        "HITs",
        qtid,
    )


@operation("UpdateExpirationForHIT")
def update_expiration_for_hit(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    hit = emu.get_hit(params["HITId"])
    expire_at = parse_timestamp(params["ExpireAt"], "ExpireAt")
    # MTurk derives an idempotency token from the HIT and the requested time (seen in the wild:
    # 'The idempotency token "<HITId><time>" has already been processed.').
    token = f"{hit.hit_id}{expire_at}"
    if emu.check_token("expire", token):
        raise RequestError(
            f'The idempotency token "{token}" has already been processed.',
            "AWS.MechanicalTurk.DuplicateRequest",
        )
    emu.set_expiration(hit, expire_at)
    emu.remember_token("expire", token, id=hit.hit_id)
    return {}


@operation("UpdateHITReviewStatus")
def update_hit_review_status(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    hit = emu.get_hit(params["HITId"])
    revert = bool(params.get("Revert", False))
    wanted, target = (REVIEWING, REVIEWABLE) if revert else (REVIEWABLE, REVIEWING)
    if hit.status != wanted:
        # Revert=False moves Reviewable -> Reviewing only; Revert=True the way back only.
        raise wrong_status(wanted, "AWS.MechanicalTurk.InvalidHITState")
    hit.reviewing = target == REVIEWING
    hit.status = target
    return {}


@operation("UpdateHITTypeOfHIT")
def update_hit_type_of_hit(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    hit = emu.get_hit(params["HITId"])
    hit_type = emu.get_hit_type(params["HITTypeId"])
    if hit.status == DISPOSED:
        raise RequestError(
            f"HIT {hit.hit_id} has been deleted.", "AWS.MechanicalTurk.InvalidHITState"
        )
    hit.hit_type_id = hit_type.hit_type_id
    hit.hit_group_id = group_id(hit_type.hit_type_id)
    emu.refresh(hit)
    return {}


@operation("DeleteHIT")
def delete_hit(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    hit = emu.get_hit(params["HITId"])
    if hit.status == DISPOSED:
        return {}  # the model marks DeleteHIT idempotent
    # Reviewing is a sub-state of Reviewable (the requester is looking at it), so it may be deleted.
    if hit.status not in (REVIEWABLE, REVIEWING):
        # An Assignable or Unassignable HIT must be expired, and its assignments finished, first.
        raise wrong_status(f"{REVIEWABLE},{REVIEWING}", "AWS.MechanicalTurk.InvalidHITState")
    if any(emu.state.assignments[a].status == SUBMITTED for a in hit.assignment_ids):
        raise RequestError(
            f"HIT {hit.hit_id} has submitted assignments that are not yet approved or rejected.",
            "AWS.MechanicalTurk.InvalidHITState",
        )
    emu.dispose(hit)
    return {}


@operation("CreateAdditionalAssignmentsForHIT")
def create_additional_assignments_for_hit(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    hit = emu.get_hit(params["HITId"])
    count = params["NumberOfAdditionalAssignments"]
    if count < 1 or count > 1_000_000_000:
        raise invalid_param("NumberOfAdditionalAssignments must be at least 1.")
    token = params.get("UniqueRequestToken")
    seen = emu.check_token("extend", token)
    if seen:
        raise RequestError(
            f'The idempotency token "{token}" has already been processed for HIT {seen["id"]}. '
            f"Request ID: {seen['request_id']}",
            "AWS.MechanicalTurk.DuplicateRequest",
        )
    emu.add_assignments(hit, count)
    emu.remember_token("extend", token, id=hit.hit_id, request_id=ctx.request_id)
    return {}


@operation("ListReviewPolicyResultsForHIT")
def list_review_policy_results_for_hit(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    """Pages through the reports' lists together: page k shows items [k*size, (k+1)*size) of each
    list asked for. The lists only grow (policies append), so an offset is a stable resume point.
    Like every MTurk listing, a page that shows anything carries a NextToken and the listing ends
    with a page that shows nothing and has none."""
    hit = emu.get_hit(params["HITId"])
    levels = params.get("PolicyLevels") or ["Assignment", "HIT"]
    actions = bool(params.get("RetrieveActions", False))
    results = bool(params.get("RetrieveResults", False))
    size = pagination.page_size(params)
    scope = f"{hit.hit_id}|{','.join(sorted(levels))}|{int(actions)}{int(results)}"
    after = pagination.decode_token(params.get("NextToken"), "ListReviewPolicyResultsForHIT", scope)
    start = max(after, 0)
    end = start + size
    shown = 0
    response: dict[str, Any] = {"HITId": hit.hit_id}
    for level, policy, review_results, review_actions in (
        (
            "Assignment",
            hit.assignment_review_policy,
            hit.assignment_review_results,
            hit.assignment_review_actions,
        ),
        ("HIT", hit.hit_review_policy, hit.hit_review_results, hit.hit_review_actions),
    ):
        if level not in levels:
            continue
        if policy:
            response[f"{level}ReviewPolicy"] = policy
        report: dict[str, Any] = {}
        if results:
            report["ReviewResults"] = review_results[start:end]
            shown += len(report["ReviewResults"])
        if actions:
            report["ReviewActions"] = review_actions[start:end]
            shown += len(report["ReviewActions"])
        response[f"{level}ReviewReport"] = report
    if shown:
        response["NextToken"] = pagination.encode_token("ListReviewPolicyResultsForHIT", end, scope)
    return response
