"""The error hierarchy of the MTurk gateway, and the one function that maps botocore failures to it.

Contract: every failure that leaves :class:`mturk.gateway.MTurkGateway` is an :class:`MTurkError`
(or a ``ValueError`` raised locally for bad arguments, before any request). ``retryable`` tells a
caller (e.g. a Celery task) whether trying again later can help.

The mapping works for real MTurk and for the offline emulator alike: both answer the JSON 1.1
protocol with ``__type`` (``RequestError``, ``ServiceFault``, ``ThrottlingException``, auth codes),
``Message`` and, for MTurk's own errors, ``TurkErrorCode``. Real MTurk's TurkErrorCodes are not all
documented, so classification falls back to the message texts seen in the wild (see
reference/mturk-protocol.md §4).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "AlreadyProcessed",
    "AuthFailure",
    "InsufficientFunds",
    "InvalidState",
    "MTurkError",
    "NotFound",
    "NotGranted",
    "ServiceUnavailable",
    "Throttled",
    "map_error",
]


class MTurkError(Exception):
    """A failed MTurk call.

    ``code`` is the protocol error code (``RequestError``, ``ServiceFault``,
    ``ThrottlingException``, ``EndpointConnectionError``...); ``turk_error_code`` MTurk's own code
    when it sent one (``AWS.MechanicalTurk.*``); ``request_id`` the ``x-amzn-RequestId`` of the
    failed request when there was a response; ``retry_attempts`` how many times botocore already
    retried before giving up.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "RequestError",
        turk_error_code: str | None = None,
        operation: str | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        retry_attempts: int = 0,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.turk_error_code = turk_error_code
        self.operation = operation
        self.request_id = request_id
        self.http_status = http_status
        self.retry_attempts = retry_attempts
        if retryable is not None:
            self.retryable = retryable

    def __reduce__(self) -> tuple:
        # Crosses process boundaries whole (a sync's fetch workers raise it in the parent), for
        # every subclass whatever its __init__ takes.
        return (_rebuild_error, (type(self), self.message, dict(self.__dict__)))

    def __str__(self) -> str:
        where = f" calling {self.operation}" if self.operation else ""
        turk = f" [{self.turk_error_code}]" if self.turk_error_code else ""
        return f"{self.code}{turk}{where}: {self.message}"


def _rebuild_error(cls: type[MTurkError], message: str, state: dict[str, Any]) -> MTurkError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class NotFound(MTurkError):
    """The HIT, assignment, qualification type... does not exist (or is not ours)."""


class InvalidState(MTurkError):
    """The object exists but is in the wrong state, e.g. "This operation can be called with a
    status of: Submitted" when approving an already approved assignment.

    Retryable only for MTurk's "status of: null": right after a submission the service briefly
    does not know the assignment's state yet (it settles within minutes), so trying again helps."""


class NotGranted(NotFound):
    """GetQualificationScore: the worker holds no granted score of this type, so counts as
    unqualified. ``revoked`` is True when MTurk answered "This operation can be called with a
    status of: Granted" (the score was revoked), False when the score never existed."""

    def __init__(self, message: str, *, revoked: bool, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.revoked = revoked


class AlreadyProcessed(MTurkError):
    """A repeated ``UniqueRequestToken`` (or an internal idempotency token) was refused.

    MTurk answers a repeat with an error, not with the original response. ``existing_id`` is the
    object id quoted in the message (the HITId for CreateHIT*), ``existing_request_id`` the original
    request id when the message quotes one (SendBonus, CreateAdditionalAssignmentsForHIT).
    """

    def __init__(
        self,
        message: str,
        *,
        existing_id: str | None = None,
        existing_request_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.existing_id = existing_id
        self.existing_request_id = existing_request_id


class Throttled(MTurkError):
    """MTurk (or our own rate limiter) refused the call for rate; back off and retry."""

    retryable = True


class ServiceUnavailable(MTurkError):
    """5xx / ServiceFault / connection problems: MTurk says "try your call again"."""

    retryable = True


class AuthFailure(MTurkError):
    """The credentials were refused (unknown key, bad signature, missing credentials)."""


class InsufficientFunds(MTurkError):
    """The prepaid balance cannot cover the reward plus fees."""


# --- classification ------------------------------------------------------------------------------

_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    }
)
_AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "IncompleteSignature",
        "IncompleteSignatureException",
        "MissingAuthenticationTokenException",
        "MissingAuthenticationToken",
        "AccessDeniedException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
        "AuthFailure",
        "NoCredentialsError",
    }
)
_NOT_FOUND_TURK = frozenset(
    {
        "AWS.MechanicalTurk.ResourceNotFound",
        "AWS.MechanicalTurk.HITDoesNotExist",
        "AWS.MechanicalTurk.AssignmentDoesNotExist",
        "AWS.MechanicalTurk.QualificationTypeDoesNotExist",
        "AWS.MechanicalTurk.QualificationDoesNotExist",
    }
)
_STATE_TURK = frozenset(
    {
        "AWS.MechanicalTurk.InvalidAssignmentState",
        "AWS.MechanicalTurk.InvalidHITState",
        "AWS.MechanicalTurk.InvalidQualificationState",
        "AWS.MechanicalTurk.HITTooOldForExtension",
        "AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease",
    }
)
_ALREADY_TURK = frozenset(
    {"AWS.MechanicalTurk.HitAlreadyExists", "AWS.MechanicalTurk.DuplicateRequest"}
)

_NOT_FOUND_TEXT = re.compile(r"does not exist|not found|cannot be found|could not be found", re.I)
_STATE_TEXT = re.compile(r"can be called with a status of", re.I)
# Eventual consistency, not a wrong state: MTurk has not settled the object's status yet.
_PENDING_STATE_TEXT = re.compile(r"can be called with a status of:\s*null\b", re.I)
_ALREADY_TEXT = re.compile(
    r"already been processed|already exists|idempotency token|unique request token", re.I
)
_FUNDS_TEXT = re.compile(r"insufficient funds|not have enough funds", re.I)
# An id in a message: MTurk EntityIds are upper-case alphanumerics; at least one letter so the
# trailing "(1700000000000)" epoch-millis is never taken for one.
_HIT_ID_TEXT = re.compile(r"HIT ?Id[\s:=\"']+([A-Z0-9]{10,64})\b", re.I)
_ENTITY_TEXT = re.compile(r"\b(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*[0-9])[A-Z0-9]{20,64}\b")
_REQUEST_ID_TEXT = re.compile(r"Request ?ID[\s:=\"']+([A-Za-z0-9-]{8,64})", re.I)


def extract_ids(message: str) -> tuple[str | None, str | None]:
    """(object id, original request id) quoted in a repeated-token message, if any."""
    request = _REQUEST_ID_TEXT.search(message)
    request_id = request.group(1) if request else None
    hit = _HIT_ID_TEXT.search(message)
    if hit:
        return hit.group(1), request_id
    # Without a label take the last entity-shaped word; the idempotency token in quotes may itself
    # contain a HIT id followed by a date (UpdateExpirationForHIT), which is still that HIT.
    entities = _ENTITY_TEXT.findall(message)
    object_id = entities[-1] if entities and request_id is None else None
    return object_id, request_id


def _client_error(exc: Any, operation: str | None) -> MTurkError:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    metadata = response.get("ResponseMetadata") or {}
    code = str(error.get("Code") or "Unknown")
    message = str(error.get("Message") or response.get("Message") or str(exc))
    # botocore copies modelled error members to the top level of the response (protocol doc §1.2).
    turk = response.get("TurkErrorCode") or error.get("TurkErrorCode")
    status = metadata.get("HTTPStatusCode")
    common: dict[str, Any] = {
        "code": code,
        "turk_error_code": turk,
        "operation": operation or getattr(exc, "operation_name", None),
        "request_id": metadata.get("RequestId"),
        "http_status": status,
        "retry_attempts": int(metadata.get("RetryAttempts") or 0),
    }
    if code in _THROTTLING_CODES or status == 429:
        return Throttled(message, **common)
    if code == "ServiceFault" or (isinstance(status, int) and status >= 500):
        return ServiceUnavailable(message, **common)
    if code in _AUTH_CODES or status in (401, 403):
        return AuthFailure(message, **common)
    if turk == "AWS.MechanicalTurk.InsufficientFunds" or _FUNDS_TEXT.search(message):
        return InsufficientFunds(message, **common)
    if turk in _ALREADY_TURK or (turk is None and _ALREADY_TEXT.search(message)):
        existing_id, existing_request_id = extract_ids(message)
        return AlreadyProcessed(
            message, existing_id=existing_id, existing_request_id=existing_request_id, **common
        )
    if _PENDING_STATE_TEXT.search(message):
        return InvalidState(message, retryable=True, **common)
    if turk in _STATE_TURK or _STATE_TEXT.search(message):
        return InvalidState(message, **common)
    if turk in _NOT_FOUND_TURK or _NOT_FOUND_TEXT.search(message):
        return NotFound(message, **common)
    return MTurkError(message, **common)


def map_error(exc: BaseException, operation: str | None = None) -> BaseException:
    """Return the :class:`MTurkError` for a botocore exception (``ClientError``, connection errors,
    timeouts, missing credentials, any other ``BotoCoreError``); an ``MTurkError`` passes through
    with ``operation`` filled in; anything else (a ``KeyError``...) is returned unchanged so
    programming errors are not disguised."""
    from botocore import exceptions as bce

    if isinstance(exc, MTurkError):
        if exc.operation is None:
            exc.operation = operation
        return exc
    if isinstance(exc, bce.ClientError):
        return _client_error(exc, operation)
    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError):
        return AuthFailure(str(exc), code=type(exc).__name__, operation=operation)
    if isinstance(
        exc,
        bce.EndpointConnectionError
        | bce.ConnectTimeoutError
        | bce.ReadTimeoutError
        | bce.ConnectionClosedError
        | bce.HTTPClientError,
    ):
        return ServiceUnavailable(str(exc), code=type(exc).__name__, operation=operation)
    if isinstance(exc, bce.ParamValidationError):
        # botocore checks parameters locally; nothing was sent, so no retry can help.
        return MTurkError(str(exc), code="ParamValidationError", operation=operation)
    if isinstance(exc, bce.BotoCoreError):
        # Any other botocore failure (bad region, unknown endpoint...) is configuration: not retryable.
        return MTurkError(str(exc), code=type(exc).__name__, operation=operation)
    return exc
