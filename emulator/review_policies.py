"""MTurk review policies: ScoreMyKnownAnswers (per assignment) and SimplePlurality (per HIT)."""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, overload

from emulator.answer_xml import parse_answers
from emulator.protocol import RequestError, epoch, invalid_param
from emulator.state import APPROVED, HIT, REJECTED, SUBMITTED, Assignment

if TYPE_CHECKING:
    from emulator.engine import Emulator

KNOWN_ANSWERS = "ScoreMyKnownAnswers/2011-09-01"
PLURALITY = "SimplePlurality/2011-09-01"

_ALLOWED = {
    KNOWN_ANSWERS: {
        "AnswerKey",
        "ApproveIfKnownAnswerScoreIsAtLeast",
        "ApproveReason",
        "RejectIfKnownAnswerScoreIsLessThan",
        "RejectReason",
        "ExtendIfKnownAnswerScoreIsLessThan",
        "ExtendMaximumAssignments",
        "ExtendMinimumTimeInSeconds",
    },
    PLURALITY: {
        "QuestionIds",
        "QuestionAgreementThreshold",
        "DisregardAssignmentIfRejected",
        "DisregardAssignmentIfKnownAnswerScoreIsLessThan",
        "ExtendIfHITAgreementScoreIsLessThan",
        "ExtendMaximumAssignments",
        "ExtendMinimumTimeInSeconds",
        "ApproveIfWorkerAgreementScoreIsAtLeast",
        "RejectIfWorkerAgreementScoreIsLessThan",
        "RejectReason",
    },
}


def _params(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["Key"]: p for p in policy.get("Parameters") or []}


def _value(params: dict[str, dict[str, Any]], key: str, default: Any = None) -> Any:
    values = (params.get(key) or {}).get("Values") or []
    return values[0] if values else default


@overload
def _int(params: dict[str, dict[str, Any]], key: str, default: int) -> int: ...
@overload
def _int(params: dict[str, dict[str, Any]], key: str, default: None = None) -> int | None: ...
def _int(params: dict[str, dict[str, Any]], key: str, default: int | None = None) -> int | None:
    raw = _value(params, key)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_param(f"Review policy parameter {key} must be an integer.") from None


def validate_policy(policy: dict[str, Any] | None, level: str) -> None:
    if not policy:
        return
    name = policy["PolicyName"]
    expected = KNOWN_ANSWERS if level == "Assignment" else PLURALITY
    if name != expected:
        raise invalid_param(f"{level}ReviewPolicy PolicyName must be {expected}; got {name!r}.")
    params = _params(policy)
    unknown = sorted(set(params) - _ALLOWED[name])
    if unknown:
        raise invalid_param(f"Unknown parameters for {name}: {', '.join(unknown)}.")
    for key in params:
        if key not in (
            "AnswerKey",
            "ApproveReason",
            "RejectReason",
            "QuestionIds",
            "DisregardAssignmentIfRejected",
        ):
            _int(params, key)
    if name == KNOWN_ANSWERS:
        if "AnswerKey" not in params or not params["AnswerKey"].get("MapEntries"):
            raise invalid_param(f"{name} needs an AnswerKey parameter with MapEntries.")
        maximum = _int(params, "ExtendMaximumAssignments", 5)
        if not 2 <= maximum <= 25:
            raise invalid_param("ExtendMaximumAssignments must be between 2 and 25.")
    else:
        if "QuestionIds" not in params or "QuestionAgreementThreshold" not in params:
            raise invalid_param(f"{name} needs QuestionIds and QuestionAgreementThreshold.")
        if "ExtendIfHITAgreementScoreIsLessThan" in params and (
            "ExtendMaximumAssignments" not in params or "ExtendMinimumTimeInSeconds" not in params
        ):
            raise invalid_param(
                "ExtendMaximumAssignments and ExtendMinimumTimeInSeconds are required with "
                "ExtendIfHITAgreementScoreIsLessThan."
            )


def _action(
    emu: Emulator, name: str, target_id: str, target_type: str, run: Callable[[], str]
) -> dict[str, Any]:
    action = {
        "ActionId": emu.ids.entity(),
        "ActionName": name,
        "TargetId": target_id,
        "TargetType": target_type,
        "CompleteTime": epoch(emu.now),
    }
    try:
        action["Result"] = run()
        action["Status"] = "Succeeded"
    except RequestError as exc:
        action["Status"] = "Failed"
        action["Result"] = exc.message
        action["ErrorCode"] = exc.turk_error_code or "RequestError"
    return action


def _extend(emu: Emulator, hit: HIT, maximum: int, min_seconds: int) -> str:
    if hit.max_assignments >= maximum:
        raise RequestError(
            f"HIT already has {hit.max_assignments} assignments (maximum {maximum})."
        )
    if min_seconds and hit.expiration - emu.now < min_seconds:
        hit.expiration = emu.now + min_seconds
        hit.expired_notified = False
        emu.schedule_expiry(hit)
    emu.add_assignments(hit, 1)
    return f"Extended HIT {hit.hit_id} to {hit.max_assignments} assignments."


def apply_assignment_policy(emu: Emulator, hit: HIT, a: Assignment) -> None:
    policy = hit.assignment_review_policy
    if not policy:
        return
    params = _params(policy)
    key = {
        e["Key"]: [v.strip() for v in e.get("Values", [])]
        for e in params["AnswerKey"]["MapEntries"]
    }
    answers = parse_answers(a.answer)
    correct = 0
    for qid, wanted in key.items():
        given = answers.get(qid, [])
        # Whitespace is trimmed; empty on either side never matches; sets must be equal.
        ok = bool(wanted) and bool(given) and sorted(wanted) == sorted(given)
        correct += ok
        emu_result(
            hit.assignment_review_results,
            emu,
            a.assignment_id,
            "Assignment",
            qid,
            "KnownAnswerCorrect",
            "true" if ok else "false",
        )
    score = round(100 * correct / len(key)) if key else 0
    a.known_answer_score = score
    emu_result(
        hit.assignment_review_results,
        emu,
        a.assignment_id,
        "Assignment",
        "",
        "KnownAnswerScore",
        str(score),
    )
    actions = hit.assignment_review_actions
    approve_at = _int(params, "ApproveIfKnownAnswerScoreIsAtLeast")
    reject_below = _int(params, "RejectIfKnownAnswerScoreIsLessThan")
    extend_below = _int(params, "ExtendIfKnownAnswerScoreIsLessThan")
    if approve_at is not None and score >= approve_at:
        reason = _value(params, "ApproveReason")
        actions.append(
            _action(emu, "approve", a.assignment_id, "Assignment", lambda: _approve(emu, a, reason))
        )
    elif reject_below is not None and score < reject_below:
        reason = (
            _value(params, "RejectReason") or f"Known answer score {score} is below {reject_below}."
        )
        actions.append(
            _action(emu, "reject", a.assignment_id, "Assignment", lambda: _reject(emu, a, reason))
        )
    if extend_below is not None and score < extend_below:
        maximum = _int(params, "ExtendMaximumAssignments", 5)
        seconds = _int(params, "ExtendMinimumTimeInSeconds", 0)
        actions.append(
            _action(emu, "extend", hit.hit_id, "HIT", lambda: _extend(emu, hit, maximum, seconds))
        )


def emu_result(
    results: list[dict[str, Any]],
    emu: Emulator,
    subject_id: str,
    subject_type: str,
    question_id: str,
    key: str,
    value: str,
) -> None:
    item = {
        "ActionId": emu.ids.entity(),
        "SubjectId": subject_id,
        "SubjectType": subject_type,
        "Key": key,
        "Value": value,
    }
    if question_id:
        item["QuestionId"] = question_id
    results.append(item)


def _approve(emu: Emulator, a: Assignment, reason: str | None) -> str:
    emu.approve(a, reason)
    return f"Approved assignment {a.assignment_id}."


def _reject(emu: Emulator, a: Assignment, reason: str) -> str:
    emu.reject(a, reason)
    return f"Rejected assignment {a.assignment_id}."


def apply_hit_policy(emu: Emulator, hit: HIT) -> None:
    policy = hit.hit_review_policy
    if not policy:
        return
    params = _params(policy)
    qids: list[str] = []
    for raw in params["QuestionIds"].get("Values") or []:
        qids.extend(q.strip() for q in raw.split(",") if q.strip())
    threshold = _int(params, "QuestionAgreementThreshold", 0)
    disregard_rejected = str(_value(params, "DisregardAssignmentIfRejected", "false")).lower() in (
        "true",
        "t",
        "1",
    )
    min_known = _int(params, "DisregardAssignmentIfKnownAnswerScoreIsLessThan")
    considered: list[Assignment] = []
    for a in emu.state.hit_assignments(hit):
        if a.status not in (SUBMITTED, APPROVED, REJECTED):
            continue
        if disregard_rejected and a.status == REJECTED:
            continue
        if (
            min_known is not None
            and a.known_answer_score is not None
            and a.known_answer_score < min_known
        ):
            continue
        considered.append(a)
    answers = {a.assignment_id: parse_answers(a.answer) for a in considered}
    agreed: dict[str, tuple[str, ...]] = {}
    results = hit.hit_review_results
    for qid in qids:
        votes: collections.Counter[tuple[str, ...]] = collections.Counter()
        for a in considered:
            values = tuple(
                sorted(v for v in answers[a.assignment_id].get(qid, []) if len(v) <= 256)
            )
            if values:
                votes[values] += 1
        if not votes or not considered:
            continue
        best, count = votes.most_common(1)[0]
        tie = sum(1 for c in votes.values() if c == count) > 1
        agreement = round(100 * count / len(considered))
        emu_result(results, emu, hit.hit_id, "HIT", qid, "QuestionAgreementScore", str(agreement))
        if agreement > threshold and not tie:
            agreed[qid] = best
            emu_result(results, emu, hit.hit_id, "HIT", qid, "AgreedAnswer", "|".join(best))
    hit_score = round(100 * len(agreed) / len(qids)) if qids else 0
    emu_result(results, emu, hit.hit_id, "HIT", "", "HITAgreementScore", str(hit_score))
    approve_at = _int(params, "ApproveIfWorkerAgreementScoreIsAtLeast")
    reject_below = _int(params, "RejectIfWorkerAgreementScoreIsLessThan")
    reason = _value(params, "RejectReason") or "Your answers did not agree with other workers."
    actions = hit.hit_review_actions
    for a in considered:
        if not agreed:
            continue
        matched = sum(
            1
            for qid, best in agreed.items()
            if tuple(sorted(answers[a.assignment_id].get(qid, []))) == best
        )
        worker_score = round(100 * matched / len(agreed))
        emu_result(
            results,
            emu,
            a.assignment_id,
            "Assignment",
            "",
            "WorkerAgreementScore",
            str(worker_score),
        )
        if a.status != SUBMITTED:
            continue
        if approve_at is not None and worker_score >= approve_at:
            actions.append(
                _action(
                    emu,
                    "approve",
                    a.assignment_id,
                    "Assignment",
                    functools.partial(_approve, emu, a, None),
                )
            )
        elif reject_below is not None and worker_score < reject_below:
            actions.append(
                _action(
                    emu,
                    "reject",
                    a.assignment_id,
                    "Assignment",
                    functools.partial(_reject, emu, a, reason),
                )
            )
    extend_below = _int(params, "ExtendIfHITAgreementScoreIsLessThan")
    if extend_below is not None and hit_score < extend_below:
        maximum = _int(params, "ExtendMaximumAssignments", hit.max_assignments)
        seconds = _int(params, "ExtendMinimumTimeInSeconds", 0)
        actions.append(
            _action(emu, "extend", hit.hit_id, "HIT", lambda: _extend(emu, hit, maximum, seconds))
        )
