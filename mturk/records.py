"""Typed, immutable records for what the MTurk API returns.

Contract: each record has ``from_api(mapping)`` taking the boto3 response member (e.g. one element of
``ListHITs()["HITs"]``). Money is always ``Decimal`` (MTurk sends strings like ``"0.50"``), times
are always timezone-aware UTC ``datetime`` (botocore may hand out tz-local datetimes; epoch numbers
and ISO strings are accepted too), absent optional fields are ``None``. Nested structures that the
app stores as JSON (qualification requirements, locale values, review reports) stay plain dicts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "HIT",
    "AccountBalance",
    "Assignment",
    "BonusPayment",
    "NotifyFailure",
    "Qualification",
    "QualificationRequest",
    "QualificationType",
    "ReviewPolicyResults",
    "WorkerBlock",
    "to_decimal",
    "to_utc",
]


def to_utc(value: Any) -> dt.datetime | None:
    """An aware UTC datetime from a datetime (naive means UTC), epoch seconds or an ISO string."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is dt.UTC:
            return value  # the gateway's parser hands these out
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, str):
        try:
            return dt.datetime.fromtimestamp(float(value), dt.UTC)
        except ValueError:
            pass
        return to_utc(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    raise TypeError(f"not a timestamp: {value!r}")


def to_decimal(value: Any) -> Decimal | None:
    """A Decimal from MTurk's CurrencyAmount string (never via float, which would lose cents)."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a currency amount: {value!r}") from None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _dicts(value: Any) -> tuple[dict[str, Any], ...]:
    # Plain dicts (copied) so records stay independent of the boto3 response objects.
    return tuple(_plain(item) for item in value or ())


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return to_utc(value)
    return value


def _json_plain(value: Any) -> Any:
    """`_plain`, with times as ISO 8601 text: what is stored in a JSON column."""
    if isinstance(value, dict):
        return {k: _json_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return (to_utc(value) or value).isoformat()
    return value


@dataclass(frozen=True, slots=True)
class HIT:
    hit_id: str
    hit_type_id: str | None
    hit_group_id: str | None
    hit_layout_id: str | None
    title: str
    description: str
    question: str | None
    keywords: str | None
    status: str | None
    review_status: str | None
    reward: Decimal | None
    creation_time: dt.datetime | None
    expiration: dt.datetime | None
    assignment_duration_seconds: int | None
    auto_approval_delay_seconds: int | None
    max_assignments: int | None
    assignments_pending: int | None
    assignments_available: int | None
    assignments_completed: int | None
    requester_annotation: str | None
    qualification_requirements: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> HIT:
        return cls(
            hit_id=data["HITId"],
            hit_type_id=data.get("HITTypeId"),
            hit_group_id=data.get("HITGroupId"),
            hit_layout_id=data.get("HITLayoutId"),
            title=data.get("Title", ""),
            description=data.get("Description", ""),
            question=data.get("Question"),
            keywords=data.get("Keywords"),
            status=data.get("HITStatus"),
            review_status=data.get("HITReviewStatus"),
            reward=to_decimal(data.get("Reward")),
            creation_time=to_utc(data.get("CreationTime")),
            expiration=to_utc(data.get("Expiration")),
            assignment_duration_seconds=_int(data.get("AssignmentDurationInSeconds")),
            auto_approval_delay_seconds=_int(data.get("AutoApprovalDelayInSeconds")),
            max_assignments=_int(data.get("MaxAssignments")),
            assignments_pending=_int(data.get("NumberOfAssignmentsPending")),
            assignments_available=_int(data.get("NumberOfAssignmentsAvailable")),
            assignments_completed=_int(data.get("NumberOfAssignmentsCompleted")),
            requester_annotation=data.get("RequesterAnnotation"),
            qualification_requirements=_dicts(data.get("QualificationRequirements")),
        )


@dataclass(frozen=True, slots=True)
class Assignment:
    assignment_id: str
    worker_id: str
    hit_id: str
    status: str
    answer: str | None
    """The raw QuestionFormAnswers XML (untrusted worker input; parse with mturk.answers)."""
    accept_time: dt.datetime | None
    submit_time: dt.datetime | None
    auto_approval_time: dt.datetime | None
    approval_time: dt.datetime | None
    rejection_time: dt.datetime | None
    deadline: dt.datetime | None
    requester_feedback: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Assignment:
        return cls(
            assignment_id=data["AssignmentId"],
            worker_id=data.get("WorkerId", ""),
            hit_id=data.get("HITId", ""),
            status=data.get("AssignmentStatus", ""),
            answer=data.get("Answer"),
            accept_time=to_utc(data.get("AcceptTime")),
            submit_time=to_utc(data.get("SubmitTime")),
            auto_approval_time=to_utc(data.get("AutoApprovalTime")),
            approval_time=to_utc(data.get("ApprovalTime")),
            rejection_time=to_utc(data.get("RejectionTime")),
            deadline=to_utc(data.get("Deadline")),
            requester_feedback=data.get("RequesterFeedback"),
        )


@dataclass(frozen=True, slots=True)
class WorkerBlock:
    worker_id: str
    reason: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> WorkerBlock:
        return cls(worker_id=data["WorkerId"], reason=data.get("Reason"))


@dataclass(frozen=True, slots=True)
class BonusPayment:
    worker_id: str
    amount: Decimal
    assignment_id: str
    reason: str | None
    grant_time: dt.datetime | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> BonusPayment:
        return cls(
            worker_id=data["WorkerId"],
            amount=to_decimal(data.get("BonusAmount")) or Decimal("0"),
            assignment_id=data.get("AssignmentId", ""),
            reason=data.get("Reason"),
            grant_time=to_utc(data.get("GrantTime")),
        )


@dataclass(frozen=True, slots=True)
class QualificationType:
    qualification_type_id: str
    name: str | None
    description: str | None
    keywords: str | None
    status: str | None
    creation_time: dt.datetime | None
    test: str | None
    test_duration_seconds: int | None
    answer_key: str | None
    retry_delay_seconds: int | None
    is_requestable: bool | None
    auto_granted: bool | None
    auto_granted_value: int | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> QualificationType:
        return cls(
            qualification_type_id=data["QualificationTypeId"],
            name=data.get("Name"),
            description=data.get("Description"),
            keywords=data.get("Keywords"),
            status=data.get("QualificationTypeStatus"),
            creation_time=to_utc(data.get("CreationTime")),
            test=data.get("Test"),
            test_duration_seconds=_int(data.get("TestDurationInSeconds")),
            answer_key=data.get("AnswerKey"),
            retry_delay_seconds=_int(data.get("RetryDelayInSeconds")),
            is_requestable=data.get("IsRequestable"),
            auto_granted=data.get("AutoGranted"),
            auto_granted_value=_int(data.get("AutoGrantedValue")),
        )


@dataclass(frozen=True, slots=True)
class Qualification:
    qualification_type_id: str
    worker_id: str
    integer_value: int | None
    locale: dict[str, str] | None
    """``{"Country": "US", "Subdivision": "CA"}`` (Subdivision optional) or None."""
    status: str | None
    grant_time: dt.datetime | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Qualification:
        locale = data.get("LocaleValue")
        return cls(
            qualification_type_id=data["QualificationTypeId"],
            worker_id=data.get("WorkerId", ""),
            integer_value=_int(data.get("IntegerValue")),
            locale=dict(locale) if locale else None,
            status=data.get("Status"),
            grant_time=to_utc(data.get("GrantTime")),
        )


@dataclass(frozen=True, slots=True)
class QualificationRequest:
    qualification_request_id: str
    qualification_type_id: str
    worker_id: str
    test: str | None
    answer: str | None
    submit_time: dt.datetime | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> QualificationRequest:
        return cls(
            qualification_request_id=data["QualificationRequestId"],
            qualification_type_id=data.get("QualificationTypeId", ""),
            worker_id=data.get("WorkerId", ""),
            test=data.get("Test"),
            answer=data.get("Answer"),
            submit_time=to_utc(data.get("SubmitTime")),
        )


@dataclass(frozen=True, slots=True)
class AccountBalance:
    available: Decimal
    on_hold: Decimal | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> AccountBalance:
        return cls(
            available=to_decimal(data.get("AvailableBalance")) or Decimal("0"),
            on_hold=to_decimal(data.get("OnHoldBalance")),
        )


@dataclass(frozen=True, slots=True)
class NotifyFailure:
    """One worker NotifyWorkers could not reach (SoftFailure: try later; HardFailure: never)."""

    worker_id: str
    code: str
    message: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> NotifyFailure:
        return cls(
            worker_id=data.get("WorkerId", ""),
            code=data.get("NotifyWorkersFailureCode", ""),
            message=data.get("NotifyWorkersFailureMessage", ""),
        )


@dataclass(frozen=True, slots=True)
class ReviewPolicyResults:
    """ListReviewPolicyResultsForHIT: policies and reports kept as plain dicts (stored as JSON)."""

    hit_id: str
    assignment_review_policy: dict[str, Any] | None
    hit_review_policy: dict[str, Any] | None
    assignment_review_report: dict[str, Any] | None
    hit_review_report: dict[str, Any] | None
    next_token: str | None = field(default=None)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ReviewPolicyResults:
        def opt(key: str) -> dict[str, Any] | None:
            value = data.get(key)
            # Stored as JSON (HIT.review_policy_results): an action's CompleteTime becomes text.
            return _json_plain(value) if value else None

        return cls(
            hit_id=data.get("HITId", ""),
            assignment_review_policy=opt("AssignmentReviewPolicy"),
            hit_review_policy=opt("HITReviewPolicy"),
            assignment_review_report=opt("AssignmentReviewReport"),
            hit_review_report=opt("HITReviewReport"),
            next_token=data.get("NextToken"),
        )
