"""The MTurk gateway: one object per requester account wrapping a boto3 ``mturk`` client.

Contracts:

- Methods take keyword-only arguments and return records from :mod:`mturk.records` (or small
  result objects defined here); every failure is an :class:`mturk.errors.MTurkError`, except bad
  arguments, which raise ``ValueError`` before anything is sent.
- Every API call - including each page of a paginated listing - goes through :meth:`_run`, which
  times it, logs it (operation, duration, request id, outcome; never credentials, answers or
  feedback texts), maps errors and hands one :class:`CallRecord` to the ``on_call`` hook.
- Every HTTP request - including botocore's own retries - first takes a slot from the account's
  rate limiter (a ``before-send`` handler on the client), so the shared budget counts what MTurk
  actually sees.
- Listings are generators of pages (one ``list`` of records per ``MaxResults=100`` page) so callers
  can upsert page by page. A page is never empty: MTurk puts a ``NextToken`` on every page with
  results and ends a listing with an empty page; that page is read (one more call) but not yielded,
  and any empty page ends the listing, token or not.
- Idempotency (DESIGN.md "The MTurk gateway"): a repeated ``UniqueRequestToken`` is an error at
  MTurk, not a replay. The gateway turns it into success only after confirming the state: the
  existing HIT is read back, a bonus is looked up with ListBonusPayments, an "already approved"
  assignment is read with GetAssignment. Otherwise the original error is raised.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar

from mturk.errors import (
    AlreadyProcessed,
    InvalidState,
    MTurkError,
    NotFound,
    NotGranted,
    map_error,
)
from mturk.ratelimit import RateLimiter
from mturk.records import (
    HIT,
    AccountBalance,
    Assignment,
    BonusPayment,
    NotifyFailure,
    Qualification,
    QualificationRequest,
    QualificationType,
    ReviewPolicyResults,
    WorkerBlock,
)
from mturk.requesting import Money, layout_parameters

if TYPE_CHECKING:
    # Stub-only packages (dev extras): the client's and botocore's types, never imported at run time.
    from botocore.client import BaseClient
    from mypy_boto3_mturk import MTurkClient

__all__ = [
    "BonusResult",
    "CallRecord",
    "CreateHitResult",
    "ExtendResult",
    "GatewayConfig",
    "MTurkGateway",
    "ReviewResult",
    "parse_api_timestamp",
]

log = logging.getLogger("mturk.gateway")

PAGE_SIZE = 100
SANDBOX_ENDPOINT = "https://mturk-requester-sandbox.us-east-1.amazonaws.com"
LIVE_ENDPOINT = "https://mturk-requester.us-east-1.amazonaws.com"
ASSIGNMENT_STATUSES = ("Submitted", "Approved", "Rejected")

R = TypeVar("R")

RetryMode: TypeAlias = Literal["legacy", "standard", "adaptive"]
"""botocore's retry modes (``Config(retries={"mode": ...})``)."""


@dataclass(frozen=True)
class CallRecord:
    """One API call as the ``on_call`` hook sees it (one per page for listings).

    ``http_requests`` counts the HTTP requests botocore actually sent for it (1 + retries);
    ``retry_attempts`` is botocore's ``ResponseMetadata.RetryAttempts``; ``waited_ms`` the time
    spent waiting for the rate limiter.
    """

    operation: str
    started_at: dt.datetime
    duration_ms: float
    request_id: str | None
    outcome: Literal["ok", "error"]
    error_code: str | None = None
    retry_attempts: int = 0
    http_requests: int = 1
    waited_ms: float = 0.0
    account: str = ""


@dataclass(frozen=True)
class GatewayConfig:
    """How to reach one requester account. Credentials are excluded from ``repr``."""

    endpoint_url: str | None
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    region: str = "us-east-1"
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    retry_mode: RetryMode = "standard"
    max_pool_connections: int = 10
    rate_limiter: RateLimiter | None = field(default=None, compare=False)
    rate_limit_timeout: float | None = 60.0
    on_call: Callable[[CallRecord], None] | None = field(default=None, compare=False)
    account: str = ""
    """A label for logs and call records (e.g. the account slug)."""


@dataclass(frozen=True)
class ReviewResult:
    """Outcome of approve/reject. ``already`` outcomes were confirmed with GetAssignment."""

    assignment_id: str
    outcome: Literal["approved", "already_approved", "rejected", "already_rejected"]
    request_id: str | None
    assignment: Assignment | None = None

    @property
    def already(self) -> bool:
        return self.outcome.startswith("already_")


@dataclass(frozen=True)
class BonusResult:
    """Outcome of SendBonus; ``already_sent`` was confirmed through ListBonusPayments."""

    outcome: Literal["sent", "already_sent"]
    request_id: str | None
    bonus: BonusPayment | None = None

    @property
    def already(self) -> bool:
        return self.outcome == "already_sent"


@dataclass(frozen=True)
class CreateHitResult:
    """The HIT (freshly created, or the one a repeated token had created: ``created`` False)."""

    hit: HIT
    created: bool
    request_id: str | None


# MTurk's limit of workers per NotifyWorkers call.
NOTIFY_MAX_WORKERS = 100


@dataclass(frozen=True)
class NotifyResult:
    """One NotifyWorkers call: the workers MTurk could not reach (the rest were sent the message).
    NotifyWorkers takes no token and cannot be read back, so it is never "already"."""

    request_id: str | None
    failures: tuple[NotifyFailure, ...] = ()

    @property
    def already(self) -> bool:
        return False


@dataclass(frozen=True)
class ExtendResult:
    hit_id: str
    outcome: Literal["extended", "already_extended"]
    request_id: str | None


class _CallState(threading.local):
    http_requests = 0
    waited = 0.0


class _End(enum.Enum):
    """The paginator's end, as a sentinel that ``is`` comparisons narrow away (unlike object())."""

    END = enum.auto()


_END = _End.END


# MTurk's answer for a score that never existed, when it sends no TurkErrorCode.
_NO_QUALIFICATION_TEXT = re.compile(r"Qualification that does not exist", re.I)


def _error_fields(exc: MTurkError) -> dict[str, Any]:
    """The keyword arguments that rebuild ``exc``'s details on a more precise error class."""
    return {
        "code": exc.code,
        "turk_error_code": exc.turk_error_code,
        "operation": exc.operation,
        "request_id": exc.request_id,
        "http_status": exc.http_status,
        "retry_attempts": exc.retry_attempts,
    }


def _money(amount: Decimal | str | int | Money, what: str) -> str:
    """MTurk's CurrencyAmount: a string with at most two decimals, e.g. "0.50"."""
    try:
        return Money(amount).as_mturk()
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def _request_id(response: Mapping[str, Any]) -> str | None:
    """The x-amzn-RequestId of a write that answers nothing else (for the audit log)."""
    request_id = response.get("ResponseMetadata", {}).get("RequestId")
    return str(request_id) if request_id else None


def _compact(**params: Any) -> dict[str, Any]:
    # boto3 rejects None for optional members; leave them out instead.
    return {key: value for key, value in params.items() if value is not None}


def _layout_parameters(params: Mapping[str, str] | None) -> list[dict[str, str]] | None:
    return None if params is None else layout_parameters(params)


def parse_api_timestamp(value: Any) -> dt.datetime:
    """The client's timestamp parser. MTurk's JSON protocol sends epoch seconds; botocore's default
    parser turns each into a datetime in the machine's local zone through dateutil, which costs
    more than the rest of parsing an assignment (a sync reads tens of thousands of them). Epoch
    numbers become aware UTC datetimes directly; anything else takes botocore's own path."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    from botocore.utils import parse_timestamp

    return parse_timestamp(value)


class MTurkGateway:
    """All MTurk calls of one requester account (see module doc). Thread-safe."""

    def __init__(self, config: GatewayConfig) -> None:
        import boto3
        import botocore.session
        from botocore.config import Config

        self.config = config
        self._state = _CallState()
        core = botocore.session.Session()
        core.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=parse_api_timestamp
        )
        session = boto3.session.Session(botocore_session=core)
        self._client: MTurkClient = session.client(
            "mturk",
            region_name=config.region,
            endpoint_url=config.endpoint_url,
            aws_access_key_id=config.access_key_id,
            aws_secret_access_key=config.secret_access_key,
            config=Config(
                retries={"mode": config.retry_mode, "total_max_attempts": config.max_attempts},
                connect_timeout=config.connect_timeout,
                read_timeout=config.read_timeout,
                max_pool_connections=config.max_pool_connections,
            ),
        )
        # Runs once per HTTP attempt (botocore re-emits it for each retry), unlike anything we
        # could do around the method call.
        self._client.meta.events.register("before-send", self._before_send)

    @property
    def client(self) -> MTurkClient:
        """The underlying boto3 client (for tests and diagnostics; calls through it bypass the
        limiter accounting of :meth:`_run` but not the rate limiter)."""
        return self._client

    def close(self) -> None:
        """Close the client's pooled HTTP connections (the gateway is unusable afterwards)."""
        self._client.close()

    def __enter__(self) -> MTurkGateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- plumbing ------------------------------------------------------------------------------

    def _before_send(self, **kwargs: Any) -> None:
        self._state.http_requests += 1
        limiter = self.config.rate_limiter
        if limiter is not None:
            self._state.waited += limiter.acquire(timeout=self.config.rate_limit_timeout)
        return None  # None: let botocore send the request itself

    def _run(self, operation: str, fn: Callable[[], R]) -> R:
        state = self._state
        state.http_requests = 0
        state.waited = 0.0
        started_at = dt.datetime.now(dt.UTC)
        t0 = time.perf_counter()
        try:
            result = fn()
        except Exception as exc:
            duration_ms = (time.perf_counter() - t0) * 1000
            mapped = map_error(exc, operation)
            if isinstance(mapped, MTurkError):
                self._record(
                    operation,
                    started_at,
                    duration_ms,
                    request_id=mapped.request_id,
                    outcome="error",
                    error_code=mapped.turk_error_code or mapped.code,
                    retry_attempts=mapped.retry_attempts,
                )
            if mapped is exc:
                raise
            raise mapped from exc
        if result is _END and state.http_requests == 0:
            return result  # the paginator noticed the end without a request: nothing to record
        metadata = result.get("ResponseMetadata", {}) if isinstance(result, dict) else {}
        self._record(
            operation,
            started_at,
            (time.perf_counter() - t0) * 1000,
            request_id=metadata.get("RequestId"),
            outcome="ok",
            retry_attempts=int(metadata.get("RetryAttempts") or 0),
        )
        return result

    def _record(
        self,
        operation: str,
        started_at: dt.datetime,
        duration_ms: float,
        *,
        request_id: str | None,
        outcome: Literal["ok", "error"],
        error_code: str | None = None,
        retry_attempts: int = 0,
    ) -> None:
        record = CallRecord(
            operation=operation,
            started_at=started_at,
            duration_ms=round(duration_ms, 3),
            request_id=request_id,
            outcome=outcome,
            error_code=error_code,
            retry_attempts=retry_attempts,
            http_requests=self._state.http_requests,
            waited_ms=round(self._state.waited * 1000, 3),
            account=self.config.account,
        )
        log.log(
            logging.INFO if outcome == "ok" else logging.WARNING,
            "mturk %s account=%s %.1fms request_id=%s outcome=%s%s http_requests=%d",
            operation,
            record.account,
            record.duration_ms,
            request_id,
            outcome,
            f" error={error_code}" if error_code else "",
            record.http_requests,
        )
        hook = self.config.on_call
        if hook is not None:
            try:
                hook(record)
            except Exception:  # a broken metrics hook must never fail a payment
                log.exception("on_call hook failed for %s", operation)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """One API call by its MTurk operation name (e.g. ``"GetHIT"``)."""
        from botocore import xform_name

        method = getattr(self._client, xform_name(operation))
        return self._run(operation, lambda: method(**params))

    def _pages(
        self,
        operation: str,
        result_key: str,
        record: Callable[[dict[str, Any]], R],
        **params: Any,
    ) -> Iterator[list[R]]:
        from botocore import xform_name

        # By name, as _call does: the typed client only knows each paginator by a literal.
        client: BaseClient = self._client
        paginator = client.get_paginator(xform_name(operation))
        pages = iter(paginator.paginate(PaginationConfig={"PageSize": PAGE_SIZE}, **params))
        while True:
            page = self._run(operation, lambda: next(pages, _END))
            if page is _END:
                return
            items = page.get(result_key) or ()
            if not items:
                # MTurk ends every listing with an empty page without a NextToken; an empty page
                # that still carries one ends it too (botocore would page on through nothing).
                return
            yield [record(item) for item in items]

    # --- account -------------------------------------------------------------------------------

    def get_account_balance(self) -> AccountBalance:
        return AccountBalance.from_api(self._call("GetAccountBalance"))

    # --- HITs ----------------------------------------------------------------------------------

    def get_hit(self, *, hit_id: str) -> HIT:
        return HIT.from_api(self._call("GetHIT", HITId=hit_id)["HIT"])

    def iter_hit_pages(self) -> Iterator[list[HIT]]:
        """ListHITs: every HIT not yet disposed, a page at a time."""
        return self._pages("ListHITs", "HITs", HIT.from_api)

    def iter_reviewable_hit_pages(
        self,
        *,
        status: Literal["Reviewable", "Reviewing"] = "Reviewable",
        hit_type_id: str | None = None,
    ) -> Iterator[list[HIT]]:
        if status not in ("Reviewable", "Reviewing"):
            raise ValueError("status must be Reviewable or Reviewing")
        return self._pages(
            "ListReviewableHITs",
            "HITs",
            HIT.from_api,
            **_compact(Status=status, HITTypeId=hit_type_id),
        )

    def iter_hits_for_qualification_type_pages(
        self, *, qualification_type_id: str
    ) -> Iterator[list[HIT]]:
        return self._pages(
            "ListHITsForQualificationType",
            "HITs",
            HIT.from_api,
            QualificationTypeId=qualification_type_id,
        )

    def create_hit_type(
        self,
        *,
        title: str,
        description: str,
        reward: Decimal | str | Money,
        assignment_duration_seconds: int,
        auto_approval_delay_seconds: int | None = None,
        keywords: str | None = None,
        qualification_requirements: Sequence[Mapping[str, Any]] | None = None,
    ) -> str:
        """Register (or find: MTurk returns the existing id for identical values) a HIT type."""
        response = self._call(
            "CreateHITType",
            **_compact(
                Title=title,
                Description=description,
                Reward=_money(reward, "reward"),
                AssignmentDurationInSeconds=int(assignment_duration_seconds),
                AutoApprovalDelayInSeconds=auto_approval_delay_seconds,
                Keywords=keywords,
                QualificationRequirements=(
                    [dict(q) for q in qualification_requirements]
                    if qualification_requirements is not None
                    else None
                ),
            ),
        )
        hit_type_id: str = response["HITTypeId"]
        return hit_type_id

    def _create(self, operation: str, params: dict[str, Any]) -> CreateHitResult:
        if not params.get("UniqueRequestToken"):
            raise ValueError("a UniqueRequestToken is required (see mturk.tokens.request_token)")
        try:
            response = self._call(operation, **params)
        except AlreadyProcessed as exc:
            if not exc.existing_id:
                raise
            # The token already created a HIT: return that HIT (read back, so it is confirmed).
            return CreateHitResult(self.get_hit(hit_id=exc.existing_id), False, exc.request_id)
        return CreateHitResult(
            HIT.from_api(response["HIT"]), True, response["ResponseMetadata"].get("RequestId")
        )

    def create_hit_with_hit_type(
        self,
        *,
        hit_type_id: str,
        lifetime_seconds: int,
        token: str,
        max_assignments: int | None = None,
        question: str | None = None,
        requester_annotation: str | None = None,
        hit_layout_id: str | None = None,
        hit_layout_parameters: Mapping[str, str] | None = None,
        assignment_review_policy: Mapping[str, Any] | None = None,
        hit_review_policy: Mapping[str, Any] | None = None,
    ) -> CreateHitResult:
        if (question is None) == (hit_layout_id is None):
            raise ValueError("give exactly one of question or hit_layout_id")
        return self._create(
            "CreateHITWithHITType",
            _compact(
                HITTypeId=hit_type_id,
                LifetimeInSeconds=int(lifetime_seconds),
                UniqueRequestToken=token,
                MaxAssignments=max_assignments,
                Question=question,
                RequesterAnnotation=requester_annotation,
                HITLayoutId=hit_layout_id,
                HITLayoutParameters=_layout_parameters(hit_layout_parameters),
                AssignmentReviewPolicy=dict(assignment_review_policy)
                if assignment_review_policy
                else None,
                HITReviewPolicy=dict(hit_review_policy) if hit_review_policy else None,
            ),
        )

    def create_hit(
        self,
        *,
        title: str,
        description: str,
        reward: Decimal | str | Money,
        assignment_duration_seconds: int,
        lifetime_seconds: int,
        token: str,
        max_assignments: int | None = None,
        auto_approval_delay_seconds: int | None = None,
        keywords: str | None = None,
        question: str | None = None,
        requester_annotation: str | None = None,
        qualification_requirements: Sequence[Mapping[str, Any]] | None = None,
        hit_layout_id: str | None = None,
        hit_layout_parameters: Mapping[str, str] | None = None,
        assignment_review_policy: Mapping[str, Any] | None = None,
        hit_review_policy: Mapping[str, Any] | None = None,
    ) -> CreateHitResult:
        if (question is None) == (hit_layout_id is None):
            raise ValueError("give exactly one of question or hit_layout_id")
        return self._create(
            "CreateHIT",
            _compact(
                Title=title,
                Description=description,
                Reward=_money(reward, "reward"),
                AssignmentDurationInSeconds=int(assignment_duration_seconds),
                LifetimeInSeconds=int(lifetime_seconds),
                UniqueRequestToken=token,
                MaxAssignments=max_assignments,
                AutoApprovalDelayInSeconds=auto_approval_delay_seconds,
                Keywords=keywords,
                Question=question,
                RequesterAnnotation=requester_annotation,
                QualificationRequirements=(
                    [dict(q) for q in qualification_requirements]
                    if qualification_requirements is not None
                    else None
                ),
                HITLayoutId=hit_layout_id,
                HITLayoutParameters=_layout_parameters(hit_layout_parameters),
                AssignmentReviewPolicy=dict(assignment_review_policy)
                if assignment_review_policy
                else None,
                HITReviewPolicy=dict(hit_review_policy) if hit_review_policy else None,
            ),
        )

    def create_additional_assignments(self, *, hit_id: str, count: int, token: str) -> ExtendResult:
        """Add ``count`` assignments. A repeated token means MTurk already did it (the message
        quotes the original request id): reported as ``already_extended``, not raised."""
        if count < 1:
            raise ValueError("count must be at least 1")
        if not token:
            raise ValueError("a UniqueRequestToken is required")
        try:
            response = self._call(
                "CreateAdditionalAssignmentsForHIT",
                HITId=hit_id,
                NumberOfAdditionalAssignments=int(count),
                UniqueRequestToken=token,
            )
        except AlreadyProcessed as exc:
            return ExtendResult(hit_id, "already_extended", exc.existing_request_id)
        return ExtendResult(hit_id, "extended", response["ResponseMetadata"].get("RequestId"))

    def update_expiration(self, *, hit_id: str, expire_at: dt.datetime) -> None:
        """Set the HIT's expiration (a past time expires it now). MTurk derives an idempotency token
        from HIT and time, so repeating the same update is refused as "already processed": that
        means it is done, and is not raised."""
        if expire_at.tzinfo is None:
            raise ValueError("expire_at must be timezone-aware")
        try:
            self._call("UpdateExpirationForHIT", HITId=hit_id, ExpireAt=expire_at)
        except AlreadyProcessed:
            pass

    def update_hit_review_status(self, *, hit_id: str, revert: bool = False) -> None:
        """Reviewable → Reviewing (``revert=False``) or back (``revert=True``)."""
        self._call("UpdateHITReviewStatus", HITId=hit_id, Revert=bool(revert))

    def update_hit_type_of_hit(self, *, hit_id: str, hit_type_id: str) -> None:
        self._call("UpdateHITTypeOfHIT", HITId=hit_id, HITTypeId=hit_type_id)

    def delete_hit(self, *, hit_id: str) -> None:
        self._call("DeleteHIT", HITId=hit_id)

    # --- assignments -----------------------------------------------------------------------------

    def iter_assignment_pages(
        self, *, hit_id: str, statuses: Iterable[str] = ASSIGNMENT_STATUSES
    ) -> Iterator[list[Assignment]]:
        statuses = list(statuses)
        unknown = set(statuses) - set(ASSIGNMENT_STATUSES)
        if unknown:
            raise ValueError(f"unknown assignment statuses: {sorted(unknown)}")
        return self._pages(
            "ListAssignmentsForHIT",
            "Assignments",
            Assignment.from_api,
            HITId=hit_id,
            AssignmentStatuses=statuses,
        )

    def get_assignment(self, *, assignment_id: str) -> tuple[Assignment, HIT]:
        response = self._call("GetAssignment", AssignmentId=assignment_id)
        return Assignment.from_api(response["Assignment"]), HIT.from_api(response["HIT"])

    def get_file_upload_url(self, *, assignment_id: str, question_identifier: str) -> str:
        """GetFileUploadURL: a temporary (about a minute) URL to download a worker's uploaded file.
        Ask for it when the file is wanted; never store it."""
        response = self._call(
            "GetFileUploadURL", AssignmentId=assignment_id, QuestionIdentifier=question_identifier
        )
        return str(response["FileUploadURL"])

    def approve_assignment(
        self,
        *,
        assignment_id: str,
        feedback: str | None = None,
        override_rejection: bool = False,
    ) -> ReviewResult:
        """Approve (pays the worker). If MTurk refuses because of the state, GetAssignment decides:
        already Approved → ``already_approved`` (nothing paid again); anything else re-raises."""
        try:
            response = self._call(
                "ApproveAssignment",
                **_compact(
                    AssignmentId=assignment_id,
                    RequesterFeedback=feedback or None,
                    OverrideRejection=bool(override_rejection),
                ),
            )
        except InvalidState:
            assignment, _ = self.get_assignment(assignment_id=assignment_id)
            if assignment.status == "Approved":
                return ReviewResult(assignment_id, "already_approved", None, assignment)
            raise
        return ReviewResult(
            assignment_id, "approved", response["ResponseMetadata"].get("RequestId")
        )

    def reject_assignment(self, *, assignment_id: str, feedback: str) -> ReviewResult:
        """Reject with a reason (MTurk requires RequesterFeedback). An already Rejected assignment
        (confirmed with GetAssignment) gives ``already_rejected``; other refusals re-raise."""
        if not feedback or not feedback.strip():
            raise ValueError("rejecting needs feedback for the worker")
        try:
            response = self._call(
                "RejectAssignment", AssignmentId=assignment_id, RequesterFeedback=feedback
            )
        except InvalidState:
            assignment, _ = self.get_assignment(assignment_id=assignment_id)
            if assignment.status == "Rejected":
                return ReviewResult(assignment_id, "already_rejected", None, assignment)
            raise
        return ReviewResult(
            assignment_id, "rejected", response["ResponseMetadata"].get("RequestId")
        )

    # --- bonuses and blocks ----------------------------------------------------------------------

    def send_bonus(
        self,
        *,
        worker_id: str,
        assignment_id: str,
        amount: Decimal,
        reason: str,
        token: str,
    ) -> BonusResult:
        """Pay a bonus. A repeated token is success only if ListBonusPayments(AssignmentId) shows a
        bonus to this worker with this amount and reason; otherwise the refusal is raised."""
        amount_text = _money(amount, "amount")
        if Decimal(amount_text) <= 0:
            raise ValueError("a bonus must be more than 0.00")
        if not reason or not reason.strip():
            raise ValueError("a bonus needs a reason (shown to the worker)")
        if not token:
            raise ValueError("a UniqueRequestToken is required")
        try:
            response = self._call(
                "SendBonus",
                WorkerId=worker_id,
                AssignmentId=assignment_id,
                BonusAmount=amount_text,
                Reason=reason,
                UniqueRequestToken=token,
            )
        except AlreadyProcessed:
            for page in self.iter_bonus_pages(assignment_id=assignment_id):
                for bonus in page:
                    if (
                        bonus.worker_id == worker_id
                        and bonus.amount == Decimal(amount_text)
                        and (bonus.reason or "") == reason
                    ):
                        return BonusResult("already_sent", None, bonus)
            raise
        return BonusResult("sent", response["ResponseMetadata"].get("RequestId"))

    def iter_bonus_pages(
        self, *, hit_id: str | None = None, assignment_id: str | None = None
    ) -> Iterator[list[BonusPayment]]:
        if (hit_id is None) == (assignment_id is None):
            raise ValueError("give exactly one of hit_id or assignment_id")
        return self._pages(
            "ListBonusPayments",
            "BonusPayments",
            BonusPayment.from_api,
            **_compact(HITId=hit_id, AssignmentId=assignment_id),
        )

    def create_worker_block(self, *, worker_id: str, reason: str) -> str | None:
        """Block the worker (again, with a new reason, if already blocked); returns the request id."""
        if not reason or not reason.strip():
            raise ValueError("blocking a worker needs a reason")
        return _request_id(self._call("CreateWorkerBlock", WorkerId=worker_id, Reason=reason))

    def delete_worker_block(self, *, worker_id: str, reason: str | None = None) -> str | None:
        """Lift the block (succeeds for a worker not blocked); returns the request id."""
        return _request_id(
            self._call("DeleteWorkerBlock", **_compact(WorkerId=worker_id, Reason=reason))
        )

    def iter_worker_block_pages(self) -> Iterator[list[WorkerBlock]]:
        return self._pages("ListWorkerBlocks", "WorkerBlocks", WorkerBlock.from_api)

    def notify_workers(
        self, *, subject: str, message_text: str, worker_ids: Sequence[str]
    ) -> list[NotifyFailure]:
        """Message workers (in calls of at most 100, MTurk's limit); returns the failures."""
        failures: list[NotifyFailure] = []
        ids = list(dict.fromkeys(worker_ids))
        for start in range(0, len(ids), NOTIFY_MAX_WORKERS):
            result = self.notify_workers_once(
                subject=subject,
                message_text=message_text,
                worker_ids=ids[start : start + NOTIFY_MAX_WORKERS],
            )
            failures.extend(result.failures)
        return failures

    def notify_workers_once(
        self, *, subject: str, message_text: str, worker_ids: Sequence[str]
    ) -> NotifyResult:
        """One NotifyWorkers call (at most 100 workers), with its request id, for a caller that
        records each call as one intent."""
        ids = list(dict.fromkeys(worker_ids))
        if not 1 <= len(ids) <= NOTIFY_MAX_WORKERS:
            raise ValueError(f"one NotifyWorkers call takes 1 to {NOTIFY_MAX_WORKERS} workers")
        response = self._call(
            "NotifyWorkers", Subject=subject, MessageText=message_text, WorkerIds=ids
        )
        return NotifyResult(
            request_id=response["ResponseMetadata"].get("RequestId"),
            failures=tuple(
                NotifyFailure.from_api(item)
                for item in response.get("NotifyWorkersFailureStatuses", ())
            ),
        )

    # --- qualifications --------------------------------------------------------------------------

    def create_qualification_type(
        self,
        *,
        name: str,
        description: str,
        status: Literal["Active", "Inactive"] = "Active",
        keywords: str | None = None,
        retry_delay_seconds: int | None = None,
        test: str | None = None,
        answer_key: str | None = None,
        test_duration_seconds: int | None = None,
        auto_granted: bool | None = None,
        auto_granted_value: int | None = None,
    ) -> QualificationType:
        response = self._call(
            "CreateQualificationType",
            **_compact(
                Name=name,
                Description=description,
                QualificationTypeStatus=status,
                Keywords=keywords,
                RetryDelayInSeconds=retry_delay_seconds,
                Test=test,
                AnswerKey=answer_key,
                TestDurationInSeconds=test_duration_seconds,
                AutoGranted=auto_granted,
                AutoGrantedValue=auto_granted_value,
            ),
        )
        return QualificationType.from_api(response["QualificationType"])

    def get_qualification_type(self, *, qualification_type_id: str) -> QualificationType:
        response = self._call("GetQualificationType", QualificationTypeId=qualification_type_id)
        return QualificationType.from_api(response["QualificationType"])

    def update_qualification_type(
        self,
        *,
        qualification_type_id: str,
        description: str | None = None,
        status: Literal["Active", "Inactive"] | None = None,
        test: str | None = None,
        answer_key: str | None = None,
        test_duration_seconds: int | None = None,
        retry_delay_seconds: int | None = None,
        auto_granted: bool | None = None,
        auto_granted_value: int | None = None,
    ) -> QualificationType:
        response = self._call(
            "UpdateQualificationType",
            **_compact(
                QualificationTypeId=qualification_type_id,
                Description=description,
                QualificationTypeStatus=status,
                Test=test,
                AnswerKey=answer_key,
                TestDurationInSeconds=test_duration_seconds,
                RetryDelayInSeconds=retry_delay_seconds,
                AutoGranted=auto_granted,
                AutoGrantedValue=auto_granted_value,
            ),
        )
        return QualificationType.from_api(response["QualificationType"])

    def delete_qualification_type(self, *, qualification_type_id: str) -> None:
        self._call("DeleteQualificationType", QualificationTypeId=qualification_type_id)

    def iter_qualification_type_pages(
        self,
        *,
        query: str | None = None,
        must_be_requestable: bool = False,
        must_be_owned_by_caller: bool = True,
    ) -> Iterator[list[QualificationType]]:
        return self._pages(
            "ListQualificationTypes",
            "QualificationTypes",
            QualificationType.from_api,
            **_compact(
                Query=query,
                MustBeRequestable=bool(must_be_requestable),
                MustBeOwnedByCaller=bool(must_be_owned_by_caller),
            ),
        )

    def associate_qualification_with_worker(
        self,
        *,
        qualification_type_id: str,
        worker_id: str,
        integer_value: int | None = None,
        send_notification: bool = False,
    ) -> str | None:
        """Grant the type (or set the worker's value); returns the request id."""
        response = self._call(
            "AssociateQualificationWithWorker",
            **_compact(
                QualificationTypeId=qualification_type_id,
                WorkerId=worker_id,
                IntegerValue=integer_value,
                SendNotification=bool(send_notification),
            ),
        )
        return _request_id(response)

    def disassociate_qualification_from_worker(
        self, *, qualification_type_id: str, worker_id: str, reason: str | None = None
    ) -> str | None:
        """Revoke the worker's score; returns the request id. A worker holding none raises
        (check with :meth:`get_qualification_score`)."""
        response = self._call(
            "DisassociateQualificationFromWorker",
            **_compact(
                QualificationTypeId=qualification_type_id, WorkerId=worker_id, Reason=reason
            ),
        )
        return _request_id(response)

    def iter_workers_with_qualification_pages(
        self,
        *,
        qualification_type_id: str,
        status: Literal["Granted", "Revoked"] | None = None,
    ) -> Iterator[list[Qualification]]:
        return self._pages(
            "ListWorkersWithQualificationType",
            "Qualifications",
            Qualification.from_api,
            **_compact(QualificationTypeId=qualification_type_id, Status=status),
        )

    def get_qualification_score(
        self, *, qualification_type_id: str, worker_id: str
    ) -> Qualification:
        """The worker's granted score. A worker without one raises :class:`NotGranted` (a
        ``NotFound``): MTurk answers a revoked score with "This operation can be called with a
        status of: Granted" (``revoked`` True) and a score never granted with "does not exist";
        either way the worker is not qualified. A missing qualification type stays ``NotFound``."""
        try:
            response = self._call(
                "GetQualificationScore",
                QualificationTypeId=qualification_type_id,
                WorkerId=worker_id,
            )
        except InvalidState as exc:
            if exc.retryable:
                raise  # "status of: null": MTurk has not settled yet, try again later
            raise NotGranted(exc.message, revoked=True, **_error_fields(exc)) from exc
        except NotFound as exc:
            if exc.turk_error_code != "AWS.MechanicalTurk.QualificationDoesNotExist" and not (
                exc.turk_error_code is None and _NO_QUALIFICATION_TEXT.search(exc.message)
            ):
                raise
            raise NotGranted(exc.message, revoked=False, **_error_fields(exc)) from exc
        return Qualification.from_api(response["Qualification"])

    def iter_qualification_request_pages(
        self, *, qualification_type_id: str | None = None
    ) -> Iterator[list[QualificationRequest]]:
        return self._pages(
            "ListQualificationRequests",
            "QualificationRequests",
            QualificationRequest.from_api,
            **_compact(QualificationTypeId=qualification_type_id),
        )

    def accept_qualification_request(
        self, *, qualification_request_id: str, integer_value: int | None = None
    ) -> str | None:
        """Accept a pending request (the worker gets the type); returns the request id. A request
        already decided no longer exists at MTurk: that raises ``NotFound``."""
        response = self._call(
            "AcceptQualificationRequest",
            **_compact(QualificationRequestId=qualification_request_id, IntegerValue=integer_value),
        )
        return _request_id(response)

    def reject_qualification_request(
        self, *, qualification_request_id: str, reason: str | None = None
    ) -> str | None:
        """Reject a pending request (MTurk shows the worker `reason`); returns the request id."""
        response = self._call(
            "RejectQualificationRequest",
            **_compact(QualificationRequestId=qualification_request_id, Reason=reason),
        )
        return _request_id(response)

    # --- notifications and review policies ---------------------------------------------------------

    def update_notification_settings(
        self,
        *,
        hit_type_id: str,
        destination: str | None = None,
        transport: Literal["SQS", "SNS", "Email"] | None = None,
        event_types: Sequence[str] | None = None,
        version: str = "2006-05-05",
        active: bool = True,
    ) -> None:
        """Set the HIT type's notification target (all of destination/transport/event_types), or
        with none of them only switch the existing one on or off."""
        given = [destination is not None, transport is not None, event_types is not None]
        if any(given) and not all(given):
            raise ValueError("give destination, transport and event_types together")
        params: dict[str, Any] = {"HITTypeId": hit_type_id, "Active": bool(active)}
        if destination is not None:
            params["Notification"] = {
                "Destination": destination,
                "Transport": transport,
                "Version": version,
                "EventTypes": list(event_types or ()),
            }
        self._call("UpdateNotificationSettings", **params)

    def send_test_event_notification(
        self,
        *,
        destination: str,
        transport: Literal["SQS", "SNS", "Email"],
        test_event_type: str = "Ping",
        event_types: Sequence[str] | None = None,
        version: str = "2006-05-05",
    ) -> None:
        self._call(
            "SendTestEventNotification",
            Notification={
                "Destination": destination,
                "Transport": transport,
                "Version": version,
                "EventTypes": list(event_types or [test_event_type]),
            },
            TestEventType=test_event_type,
        )

    def list_review_policy_results_for_hit(
        self,
        *,
        hit_id: str,
        policy_levels: Sequence[str] = ("Assignment", "HIT"),
        retrieve_actions: bool = True,
        retrieve_results: bool = True,
        next_token: str | None = None,
    ) -> ReviewPolicyResults:
        """One page (MaxResults 100) of review-policy results; botocore has no paginator for it,
        so pass ``next_token`` from the previous result for more."""
        response = self._call(
            "ListReviewPolicyResultsForHIT",
            **_compact(
                HITId=hit_id,
                PolicyLevels=list(policy_levels),
                RetrieveActions=bool(retrieve_actions),
                RetrieveResults=bool(retrieve_results),
                MaxResults=PAGE_SIZE,
                NextToken=next_token,
            ),
        )
        return ReviewPolicyResults.from_api(response)
