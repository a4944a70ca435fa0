"""How the app reaches MTurk for one requester account: a gateway with the account's credentials,
its shared rate limiter, and a recorder that keeps call statistics for the health panel.

Code that talks to MTurk opens `with account_gateway(account) as gateway:`; the statistics are
written when the block ends, whatever happens inside it."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from dashboard.models import MTurkCallStats, RequesterAccount
from mturk.gateway import CallRecord, GatewayConfig, MTurkGateway
from mturk.ratelimit import build_rate_limiter

logger = logging.getLogger(__name__)


class CallStatsRecorder:
    """Collects the gateway's call records and writes them as a few summary rows.

    One INSERT per operation per flush (not per call), so a sync of thousands of calls costs a
    handful of writes. Thread-safe: boto3 may call the hook from several threads.
    """

    def __init__(self, account: RequesterAccount, *, flush_every_seconds: float = 30.0) -> None:
        self.account = account
        self.flush_every = dt.timedelta(seconds=flush_every_seconds)
        self._lock = threading.Lock()
        # Only the thread that made the recorder writes to the database: calls may come from a
        # sync's fetch threads, which must not open database connections of their own.
        self._owner = threading.get_ident()
        self._reset()

    def _reset(self) -> None:
        self._window_start = timezone.now()
        self._stats: dict[str, dict] = defaultdict(
            lambda: {
                "calls": 0,
                "errors": 0,
                "retries": 0,
                "total_ms": 0.0,
                "last_request_id": "",
                "last_error": "",
            }
        )

    def __call__(self, record: CallRecord) -> None:
        with self._lock:
            row = self._stats[record.operation]
            row["calls"] += 1
            row["retries"] += record.retry_attempts
            row["total_ms"] += record.duration_ms
            if record.request_id:
                row["last_request_id"] = record.request_id
            if record.outcome == "error":
                row["errors"] += 1
                row["last_error"] = (record.error_code or "error")[:300]
            due = timezone.now() - self._window_start >= self.flush_every
        if due and threading.get_ident() == self._owner:
            self.flush()

    def flush(self) -> int:
        with self._lock:
            stats, window_start = dict(self._stats), self._window_start
            self._reset()
        rows = [
            MTurkCallStats(account=self.account, window_start=window_start, operation=op, **values)
            for op, values in stats.items()
        ]
        if rows:
            MTurkCallStats.objects.bulk_create(rows)
        return sum(row.calls for row in rows)


def rate_limit_for(account: RequesterAccount) -> float:
    return account.rate_limit_per_second or settings.MTURK_RATE_LIMIT_PER_SECOND


# The decrypted secret passes through here into boto3's client: hide every local of the frames
# below from error pages and reports.
@sensitive_variables()
def gateway_for(
    account: RequesterAccount, *, recorder: CallStatsRecorder | None = None
) -> MTurkGateway:
    """A gateway for the account. Every gateway of an account, in every worker process, shares one
    rate limiter (in Redis when the broker is Redis)."""
    limiter = build_rate_limiter(
        key=f"account-{account.pk}",
        rate_per_second=rate_limit_for(account),
        burst=settings.MTURK_RATE_LIMIT_BURST,
        redis_url=settings.CELERY_BROKER_URL if settings.CELERY_BROKER_IS_REDIS else None,
    )
    config = GatewayConfig(
        endpoint_url=account.effective_endpoint_url or None,
        access_key_id=account.aws_access_key_id,
        secret_access_key=account.get_secret_access_key(),
        max_attempts=settings.MTURK_MAX_ATTEMPTS,
        rate_limiter=limiter,
        on_call=recorder,
        account=account.slug,
    )
    return MTurkGateway(config)


@contextmanager
def account_gateway(account: RequesterAccount) -> Iterator[MTurkGateway]:
    """The account's gateway for the duration of a block; its call statistics are flushed at the
    end (also when the block raises), so the health panel counts every call."""
    recorder = CallStatsRecorder(account)
    try:
        yield gateway_for(account, recorder=recorder)
    finally:
        recorder.flush()
