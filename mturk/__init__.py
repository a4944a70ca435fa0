"""Framework-free MTurk toolkit: the gateway (the only boto3 user of the app), typed records, the
error hierarchy, idempotency tokens, fees, answer parsing, QuestionForm rendering, rate limiting and
SNS verification.

Nothing here imports Django; the Django apps call into this package, never the other way round.
"""

from __future__ import annotations

from mturk.answers import (
    ParsedAnswers,
    external_url,
    frame_height,
    html_content,
    parse_answers,
    question_kind,
)
from mturk.errors import (
    AlreadyProcessed,
    AuthFailure,
    InsufficientFunds,
    InvalidState,
    MTurkError,
    NotFound,
    NotGranted,
    ServiceUnavailable,
    Throttled,
    map_error,
)
from mturk.fees import assignment_cost, assignment_fee, bonus_cost, bonus_fee, total_cost
from mturk.gateway import (
    LIVE_ENDPOINT,
    SANDBOX_ENDPOINT,
    BonusResult,
    CallRecord,
    CreateHitResult,
    ExtendResult,
    GatewayConfig,
    MTurkGateway,
    ReviewResult,
)
from mturk.ratelimit import (
    InProcessRateLimiter,
    RateLimiter,
    RateLimitTimeout,
    RedisRateLimiter,
    build_rate_limiter,
)
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
from mturk.sns import (
    SnsVerificationError,
    SnsVerifier,
    is_trusted_cert_url,
    is_trusted_subscribe_url,
)
from mturk.tokens import request_token

__all__ = [
    "HIT",
    "LIVE_ENDPOINT",
    "SANDBOX_ENDPOINT",
    "AccountBalance",
    "AlreadyProcessed",
    "Assignment",
    "AuthFailure",
    "BonusPayment",
    "BonusResult",
    "CallRecord",
    "CreateHitResult",
    "ExtendResult",
    "GatewayConfig",
    "InProcessRateLimiter",
    "InsufficientFunds",
    "InvalidState",
    "MTurkError",
    "MTurkGateway",
    "NotFound",
    "NotGranted",
    "NotifyFailure",
    "ParsedAnswers",
    "Qualification",
    "QualificationRequest",
    "QualificationType",
    "RateLimitTimeout",
    "RateLimiter",
    "RedisRateLimiter",
    "ReviewPolicyResults",
    "ReviewResult",
    "ServiceUnavailable",
    "SnsVerificationError",
    "SnsVerifier",
    "Throttled",
    "WorkerBlock",
    "assignment_cost",
    "assignment_fee",
    "bonus_cost",
    "bonus_fee",
    "build_rate_limiter",
    "external_url",
    "frame_height",
    "html_content",
    "is_trusted_cert_url",
    "is_trusted_subscribe_url",
    "map_error",
    "parse_answers",
    "question_kind",
    "request_token",
    "total_cost",
]
