"""Wire-level pieces of MTurk's JSON 1.1 protocol: errors, ids, money and timestamps."""

from __future__ import annotations

import datetime as dt
import random
import string
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

TARGET_PREFIX = "MTurkRequesterServiceV20170117."
CONTENT_TYPE = "application/x-amz-json-1.1"

_ID_ALPHABET = string.ascii_uppercase + string.digits


class ApiError(Exception):
    """An error answered to the client; subclasses fix the HTTP status and __type."""

    status = 400
    type_name = "RequestError"

    def __init__(self, message: str, turk_error_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.turk_error_code = turk_error_code

    def body(self, now: float) -> dict[str, Any]:
        # MTurk appends the epoch-millis of the failure to every message, clients match on the text.
        body: dict[str, Any] = {
            "__type": self.type_name,
            "Message": f"{self.message} ({int(now * 1000)})",
        }
        if self.turk_error_code:
            body["TurkErrorCode"] = self.turk_error_code
        return body


class RequestError(ApiError):
    status = 400
    type_name = "RequestError"


class ServiceFault(ApiError):
    status = 500
    type_name = "ServiceFault"


class ThrottlingError(ApiError):
    # 400 + ThrottlingException is what botocore retries in every retry mode.
    status = 400
    type_name = "ThrottlingException"

    def __init__(self) -> None:
        super().__init__("Rate exceeded")

    def body(self, now: float) -> dict[str, Any]:
        return {"__type": self.type_name, "message": "Rate exceeded"}


class AuthError(ApiError):
    status = 403

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name

    def body(self, now: float) -> dict[str, Any]:
        return {"__type": self.type_name, "message": self.message}


class ProtocolError(ApiError):
    """Malformed request at the JSON protocol level (unknown target, bad JSON)."""

    def __init__(self, type_name: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.status = status

    def body(self, now: float) -> dict[str, Any]:
        return {"__type": self.type_name, "message": self.message}


def not_found(kind: str, ident: str) -> RequestError:
    return RequestError(f"{kind} {ident} does not exist.", "AWS.MechanicalTurk.ResourceNotFound")


def invalid_param(message: str) -> RequestError:
    return RequestError(message, "AWS.MechanicalTurk.ParameterValidationError")


def wrong_status(allowed: str, turk_error_code: str) -> RequestError:
    """MTurk's one wording for "this object is in the wrong state for this operation", naming the
    statuses it may have. Clients match on it (e.g. "status of: Submitted" for an assignment already
    decided, "status of: Granted" for a revoked qualification), so every status-restricted operation
    says it the same way and nothing else."""
    return RequestError(
        f"This operation can be called with a status of: {allowed}", turk_error_code
    )


class IdFactory:
    """Seeded id generator producing ids shaped like MTurk's (EntityId / CustomerId patterns)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _chars(self, n: int) -> str:
        return "".join(self.rng.choice(_ID_ALPHABET) for _ in range(n))

    def entity(self, length: int = 30) -> str:
        # Real HIT/assignment ids are 30 upper-case alphanumerics, typically starting with a digit.
        return self.rng.choice("123") + self._chars(length - 1)

    def worker(self) -> str:
        return "A" + self._chars(13)

    def request(self) -> str:
        return "-".join(
            "".join(self.rng.choice("0123456789abcdef") for _ in range(n)) for n in (8, 4, 4, 4, 12)
        )

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))


CENT = Decimal("0.01")


def parse_money(value: str, field: str = "amount") -> int:
    """Return the amount in cents; the model pattern allows at most two decimals."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise invalid_param(f"{field} {value!r} is not a valid currency amount.") from None
    if amount < 0 or amount != amount.quantize(CENT):
        raise invalid_param(f"{field} {value!r} is not a valid currency amount.")
    return int(amount * 100)


def format_money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def fee_cents(amount_cents: int, rate_percent: int) -> int:
    """MTurk's commission, rounded half-up to the cent, with its $0.01 minimum on non-zero amounts."""
    if amount_cents <= 0:
        return 0
    fee = (Decimal(amount_cents) * rate_percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(int(fee), 1)


def epoch(value: float | None) -> float | None:
    # JSON protocol timestamps are epoch seconds; keep milliseconds like MTurk's own clock.
    return None if value is None else round(value, 3)


def parse_timestamp(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise invalid_param(f"{field} must be a timestamp.")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise invalid_param(f"{field} {value!r} is not a valid timestamp.") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    raise invalid_param(f"{field} must be a timestamp.")


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
