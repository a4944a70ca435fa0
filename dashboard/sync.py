"""Running one kind of sync for one account: the lease that keeps syncs of an account from
overlapping, the health bookkeeping, and the error policy. Celery tasks and `sync_mturk` call
`run_sync`; the per-table work lives in hits.sync, workers.sync and qualifications.sync."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from dashboard.enums import SyncKind
from dashboard.models import RequesterAccount, SyncState
from dashboard.mturk_access import CallStatsRecorder, gateway_for
from mturk.errors import MTurkError

logger = logging.getLogger(__name__)


class AccountBusy(Exception):
    """Another sync holds the account's lease."""


@dataclass
class SyncOutcome:
    kind: str
    account: str
    ok: bool
    seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    retryable: bool = False


def sync_balance(*, account: RequesterAccount, gateway: Any) -> dict[str, Any]:
    balance = gateway.get_account_balance()
    SyncState.objects.filter(account=account).update(available_balance=balance.available)
    return {"available": str(balance.available)}


def _sync_functions() -> dict[str, Callable[..., Any]]:
    from hits import sync as hit_sync
    from qualifications.sync import sync_qualifications
    from workers.sync import sync_blocks, sync_bonuses

    def reviewable(
        *, account: RequesterAccount, gateway: Any, on_page: Any = None
    ) -> dict[str, int]:
        return hit_sync.sync_reviewable(account=account, gateway=gateway, on_page=on_page).as_dict()

    def full(*, account: RequesterAccount, gateway: Any, on_page: Any = None) -> dict[str, int]:
        return hit_sync.sync_full(account=account, gateway=gateway, on_page=on_page).as_dict()

    return {
        SyncKind.REVIEWABLE: reviewable,
        SyncKind.FULL: full,
        SyncKind.BALANCE: sync_balance,
        SyncKind.QUALIFICATIONS: sync_qualifications,
        SyncKind.BLOCKS: sync_blocks,
        SyncKind.BONUSES: sync_bonuses,
    }


LAST_SYNC_FIELD = {
    SyncKind.REVIEWABLE: "last_reviewable_sync_at",
    SyncKind.FULL: "last_full_sync_at",
    SyncKind.BALANCE: "last_balance_sync_at",
    SyncKind.QUALIFICATIONS: "last_qualifications_sync_at",
    SyncKind.BLOCKS: "last_blocks_sync_at",
    SyncKind.BONUSES: "last_bonuses_sync_at",
}


def sync_state_for(account: RequesterAccount) -> SyncState:
    state, _ = SyncState.objects.get_or_create(account=account)
    return state


def acquire_lease(account: RequesterAccount, *, seconds: int | None = None) -> str | None:
    """Take the account's sync lease with a conditional UPDATE; None when another sync holds it."""
    sync_state_for(account)
    token = secrets.token_hex(16)
    now = timezone.now()
    taken = SyncState.objects.filter(
        Q(lock_expires_at__isnull=True) | Q(lock_expires_at__lt=now), account=account
    ).update(
        lock_token=token,
        lock_expires_at=now + timedelta(seconds=seconds or settings.SYNC_LOCK_SECONDS),
    )
    return token if taken == 1 else None


def release_lease(account: RequesterAccount, token: str) -> None:
    SyncState.objects.filter(account=account, lock_token=token).update(
        lock_token="", lock_expires_at=None
    )


def run_sync(
    *, account: RequesterAccount, kind: SyncKind | str, gateway: Any = None, on_page: Any = None
) -> SyncOutcome:
    """Run one sync of the account under its lease. Raises AccountBusy if another sync runs.

    MTurk errors do not raise: they are recorded on the account's sync state (shown on the health
    panel) and returned with `retryable` so the caller can decide to retry.
    """
    kind = SyncKind(kind)
    token = acquire_lease(account)
    if token is None:
        raise AccountBusy(f"A sync of {account.slug} is already running.")
    recorder = CallStatsRecorder(account)
    started = time.monotonic()
    try:
        gateway = gateway or gateway_for(account, recorder=recorder)
        extra = (
            {"on_page": on_page} if on_page and kind in (SyncKind.REVIEWABLE, SyncKind.FULL) else {}
        )
        details = _sync_functions()[kind](account=account, gateway=gateway, **extra) or {}
    except MTurkError as exc:
        message = f"{kind.label} sync failed: {exc}"
        logger.warning("%s (account %s, retryable=%s)", message, account.slug, exc.retryable)
        SyncState.objects.filter(account=account).update(
            last_error=message[:2000], last_error_at=timezone.now()
        )
        return SyncOutcome(
            kind,
            account.slug,
            False,
            time.monotonic() - started,
            error=message,
            retryable=exc.retryable,
        )
    finally:
        recorder.flush()
        release_lease(account, token)
    now = timezone.now()
    SyncState.objects.filter(account=account).update(**{LAST_SYNC_FIELD[kind]: now})
    if kind in (SyncKind.REVIEWABLE, SyncKind.FULL):
        RequesterAccount.objects.filter(pk=account.pk).update(last_synced_at=now)
    seconds = time.monotonic() - started
    logger.info("%s sync of %s done in %.1fs: %s", kind, account.slug, seconds, details)
    return SyncOutcome(kind, account.slug, True, seconds, details=details)
