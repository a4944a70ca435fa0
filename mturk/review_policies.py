"""MTurk review policies for publishing: the dashboard's own settings (kept as JSON on a batch),
their checks, the ReviewPolicy structures CreateHIT takes, and what a policy's results say about
one assignment.

Two policies, as MTurk defines them (2011-09-01):
- ScoreMyKnownAnswers, per assignment: each HIT carries the item's known answer (its AnswerKey);
  MTurk scores every submitted assignment (0-100) and may approve or reject it by the score.
- SimplePlurality, per HIT: once the HIT is reviewable MTurk finds the answer most workers gave to
  each question, scores each worker's agreement with it (0-100) and may approve or reject by it.
  Only meaningful with two or more assignments per HIT.

The settings are stored in the dashboard's own shape (below) rather than as MTurk's structure:
the known answer differs per HIT, so the AssignmentReviewPolicy is built per HIT at send time.

    {"known_answers": {"column": "gold", "question_id": "answer", "approve_at": 100,
                       "approve_reason": "", "reject_below": 50, "reject_reason": ""},
     "plurality": {"question_ids": ["answer"], "agreement_threshold": 50, "approve_at": 100,
                   "reject_below": 50, "reject_reason": ""}}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "KNOWN_ANSWERS",
    "MAX_REASON_CHARS",
    "PLURALITY",
    "AssignmentOutcome",
    "PolicyProblem",
    "assignment_outcome",
    "assignment_policy",
    "describe",
    "hit_policy",
    "known_answers_problems",
    "parse_question_ids",
    "plurality_problems",
]

KNOWN_ANSWERS = "ScoreMyKnownAnswers/2011-09-01"
PLURALITY = "SimplePlurality/2011-09-01"
# MTurk's RequesterFeedback (what an approve or reject reason becomes) is at most 1024 characters.
MAX_REASON_CHARS = 1024
# A QuestionId is a form field's name; MTurk allows 255 characters.
MAX_QUESTION_ID_CHARS = 255


class PolicyProblem(ValueError):
    """A policy cannot be built as asked; the message says why."""


def _percent_problems(values: Mapping[str, Any], labels: Mapping[str, str]) -> list[str]:
    problems = []
    for key, label in labels.items():
        value = values.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            problems.append(f"{label} must be a whole percentage from 0 to 100.")
    return problems


def _reason_problems(values: Mapping[str, Any], keys: Iterable[str]) -> list[str]:
    return [
        f"A reason is at most {MAX_REASON_CHARS} characters (workers read it)."
        for key in keys
        if len(str(values.get(key) or "")) > MAX_REASON_CHARS
    ]


def parse_question_ids(text: str) -> list[str]:
    """ "a, b ,c" -> ["a", "b", "c"] (blanks dropped, first occurrence kept)."""
    ids: list[str] = []
    for part in text.split(","):
        name = part.strip()
        if name and name not in ids:
            ids.append(name)
    return ids


def known_answers_problems(settings: Mapping[str, Any], *, variables: Sequence[str]) -> list[str]:
    """What is wrong with ScoreMyKnownAnswers settings (`variables`: the template's)."""
    problems = []
    column = str(settings.get("column") or "").strip()
    question_id = str(settings.get("question_id") or "").strip()
    if not column:
        problems.append("Name the inputs column that holds each item's known answer.")
    elif column in variables:
        problems.append(
            f"The known-answer column “{column}” is a variable of the template: workers would "
            "see the answer in the question. Use a column the template does not show."
        )
    if not question_id:
        problems.append("Name the question (the form field) the known answer is for.")
    elif len(question_id) > MAX_QUESTION_ID_CHARS:
        problems.append(f"A question id is at most {MAX_QUESTION_ID_CHARS} characters.")
    problems += _percent_problems(
        settings,
        {"approve_at": "The approval score", "reject_below": "The rejection score"},
    )
    approve_at, reject_below = settings.get("approve_at"), settings.get("reject_below")
    if isinstance(approve_at, int) and isinstance(reject_below, int) and reject_below > approve_at:
        problems.append(
            f"Rejecting below {reject_below}% while approving from {approve_at}% would do both "
            f"to a score between them: the rejection score must not exceed the approval score."
        )
    problems += _reason_problems(settings, ("approve_reason", "reject_reason"))
    return problems


def plurality_problems(
    settings: Mapping[str, Any], *, assignments_per_hit: Sequence[int]
) -> list[str]:
    """What is wrong with SimplePlurality settings; `assignments_per_hit` is every HIT's
    MaxAssignments (a micro-batched item's parts differ)."""
    problems = []
    ids = list(settings.get("question_ids") or [])
    if not ids:
        problems.append("Name at least one question (form field) whose answers should agree.")
    long = [q for q in ids if len(q) > MAX_QUESTION_ID_CHARS]
    if long:
        problems.append(f"A question id is at most {MAX_QUESTION_ID_CHARS} characters.")
    if settings.get("agreement_threshold") is None:
        problems.append("Give the agreement threshold (the share of workers that must agree).")
    problems += _percent_problems(
        settings,
        {
            "agreement_threshold": "The agreement threshold",
            "approve_at": "The approval agreement score",
            "reject_below": "The rejection agreement score",
        },
    )
    approve_at, reject_below = settings.get("approve_at"), settings.get("reject_below")
    if isinstance(approve_at, int) and isinstance(reject_below, int) and reject_below > approve_at:
        problems.append(
            f"Rejecting below {reject_below}% while approving from {approve_at}% would do both "
            f"to a score between them: the rejection score must not exceed the approval score."
        )
    problems += _reason_problems(settings, ("reject_reason",))
    smallest = min(assignments_per_hit, default=0)
    if smallest < 2:
        problems.append(
            "Plurality compares the answers of several workers to one HIT: it needs at least 2 "
            f"assignments per HIT (this batch would have HITs of {smallest})."
        )
    return problems


def _param(key: str, value: object) -> dict[str, Any]:
    return {"Key": key, "Values": [str(value)]}


def assignment_policy(
    policies: Mapping[str, Any], inputs: Mapping[str, str]
) -> dict[str, Any] | None:
    """The AssignmentReviewPolicy for the HIT made from `inputs` (ScoreMyKnownAnswers with the
    item's known answer), or None without one. Raises PolicyProblem when the item has no answer."""
    settings = policies.get("known_answers")
    if not settings:
        return None
    column = settings["column"]
    answer = str(inputs.get(column) or "").strip()
    if not answer:
        raise PolicyProblem(f"The item has no known answer in the column “{column}”.")
    parameters: list[dict[str, Any]] = [
        {
            "Key": "AnswerKey",
            "MapEntries": [{"Key": settings["question_id"], "Values": [answer]}],
        }
    ]
    if settings.get("approve_at") is not None:
        parameters.append(_param("ApproveIfKnownAnswerScoreIsAtLeast", settings["approve_at"]))
        if settings.get("approve_reason"):
            parameters.append(_param("ApproveReason", settings["approve_reason"]))
    if settings.get("reject_below") is not None:
        parameters.append(_param("RejectIfKnownAnswerScoreIsLessThan", settings["reject_below"]))
        if settings.get("reject_reason"):
            parameters.append(_param("RejectReason", settings["reject_reason"]))
    return {"PolicyName": KNOWN_ANSWERS, "Parameters": parameters}


def hit_policy(policies: Mapping[str, Any]) -> dict[str, Any] | None:
    """The HITReviewPolicy (SimplePlurality), or None without one."""
    settings = policies.get("plurality")
    if not settings:
        return None
    parameters = [
        {"Key": "QuestionIds", "Values": list(settings["question_ids"])},
        _param("QuestionAgreementThreshold", settings["agreement_threshold"]),
    ]
    if settings.get("approve_at") is not None:
        parameters.append(_param("ApproveIfWorkerAgreementScoreIsAtLeast", settings["approve_at"]))
    if settings.get("reject_below") is not None:
        parameters.append(
            _param("RejectIfWorkerAgreementScoreIsLessThan", settings["reject_below"])
        )
        if settings.get("reject_reason"):
            parameters.append(_param("RejectReason", settings["reject_reason"]))
    return {"PolicyName": PLURALITY, "Parameters": parameters}


def _thresholds(settings: Mapping[str, Any], what: str) -> str:
    parts = []
    if settings.get("approve_at") is not None:
        parts.append(f"approve if {what} ≥ {settings['approve_at']}%")
    if settings.get("reject_below") is not None:
        parts.append(f"reject if {what} < {settings['reject_below']}%")
    return "; ".join(parts) or "score only (no automatic decision)"


def describe(policies: Mapping[str, Any]) -> list[str]:
    """One line per policy, for the batch's page."""
    lines = []
    known = policies.get("known_answers")
    if known:
        lines.append(
            f"Known answers: “{known['question_id']}” checked against the column "
            f"“{known['column']}”; {_thresholds(known, 'score')}."
        )
    plurality = policies.get("plurality")
    if plurality:
        lines.append(
            f"Plurality on {', '.join(plurality['question_ids'])} (agreement above "
            f"{plurality['agreement_threshold']}%); {_thresholds(plurality, 'agreement')}."
        )
    return lines


@dataclass
class AssignmentOutcome:
    """What the policies said about one assignment: its scores and the actions taken on it."""

    known_answer_score: str | None = None
    agreement_score: str | None = None
    actions: list[tuple[str, str]] = field(default_factory=list)  # (ActionName, Status)

    def __bool__(self) -> bool:
        return bool(
            self.known_answer_score is not None or self.agreement_score is not None or self.actions
        )


def assignment_outcome(results: Mapping[str, Any] | None, assignment_id: str) -> AssignmentOutcome:
    """From a HIT's stored ListReviewPolicyResultsForHIT ({"results": ReviewResults,
    "actions": ReviewActions}), what concerns `assignment_id`."""
    outcome = AssignmentOutcome()
    for result in (results or {}).get("results") or []:
        if result.get("SubjectId") != assignment_id:
            continue
        if result.get("Key") == "KnownAnswerScore":
            outcome.known_answer_score = str(result.get("Value", ""))
        elif result.get("Key") == "WorkerAgreementScore":
            outcome.agreement_score = str(result.get("Value", ""))
    for action in (results or {}).get("actions") or []:
        if (action.get("ObjectId") or action.get("TargetId")) == assignment_id:
            outcome.actions.append(
                (str(action.get("ActionName", "")), str(action.get("Status", "")))
            )
    return outcome
