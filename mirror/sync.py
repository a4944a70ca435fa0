"""Running one kind of sync for one account: the lease that keeps syncs of an account from
overlapping, the health bookkeeping, and the error policy. Celery tasks and `sync_mturk` call
`run_sync`; the per-table work lives in hits.sync, workers.sync and qualifications.sync, and this
module is the one place that composes them."""

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
from dashboard.mturk_access import account_gateway
from hits import sync as hit_sync
from hits.queries import hit_ids_with_submitted_work
from mturk.errors import MTurkError
from mturk.gateway import MTurkGateway
from people.services.study_groups import exclude_after_sync
from qualifications.sync import sync_qualifications
from workers.sync import sync_blocks, sync_bonuses

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


def sync_balance(*, account: RequesterAccount, gateway: MTurkGateway) -> dict[str, Any]:
    balance = gateway.get_account_balance()
    SyncState.objects.filter(account=account).update(available_balance=balance.available)
    return {"available": str(balance.available)}


OnPage = Callable[[hit_sync.SyncCounts], None]


def _sync_reviewable(
    *, account: RequesterAccount, gateway: MTurkGateway, on_page: OnPage | None
) -> dict[str, Any]:
    return hit_sync.sync_reviewable(account=account, gateway=gateway, on_page=on_page).as_dict()


def _sync_full(
    *, account: RequesterAccount, gateway: MTurkGateway, on_page: OnPage | None
) -> dict[str, Any]:
    return hit_sync.sync_full(account=account, gateway=gateway, on_page=on_page).as_dict()


def _sync_active(
    *, account: RequesterAccount, gateway: MTurkGateway, on_page: OnPage | None
) -> dict[str, Any]:
    return hit_sync.sync_active(account=account, gateway=gateway, on_page=on_page).as_dict()


def _sync_balance(
    *, account: RequesterAccount, gateway: MTurkGateway, on_page: OnPage | None
) -> dict[str, Any]:
    return sync_balance(account=account, gateway=gateway)


def _sync_qualifications(
    *, account: RequesterAccount, gateway: MTurkGateway, on_page: OnPage | None
) -> dict[str, Any]:
    return sync_qualifications(account=account, gateway=gateway)


def _sync_blocks(
    *, account: RequesterAccount, gateway: MTurkGateway, on_page: OnPage | None
) -> dict[str, Any]:
    return sync_blocks(account=account, gateway=gateway)


def _sync_bonuses(
    *, account: RequesterAccount, gateway: MTurkGateway, on_page: OnPage | None
) -> dict[str, Any]:
    # MTurk lists bonuses per HIT only: the HITs come from the hits app, the rows go to workers.
    hit_ids = hit_ids_with_submitted_work(account=account)
    return sync_bonuses(account=account, gateway=gateway, hit_ids=hit_ids)


SyncFunction = Callable[..., dict[str, Any]]
SYNC_FUNCTIONS: dict[str, SyncFunction] = {
    SyncKind.REVIEWABLE: _sync_reviewable,
    SyncKind.FULL: _sync_full,
    SyncKind.ACTIVE: _sync_active,
    SyncKind.BALANCE: _sync_balance,
    SyncKind.QUALIFICATIONS: _sync_qualifications,
    SyncKind.BLOCKS: _sync_blocks,
    SyncKind.BONUSES: _sync_bonuses,
}


LAST_SYNC_FIELD = {
    SyncKind.REVIEWABLE: "last_reviewable_sync_at",
    SyncKind.FULL: "last_full_sync_at",
    SyncKind.ACTIVE: "last_active_sync_at",
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
    *,
    account: RequesterAccount,
    kind: SyncKind | str,
    gateway: MTurkGateway | None = None,
    on_page: OnPage | None = None,
) -> SyncOutcome:
    """Run one sync of the account under its lease. Raises AccountBusy if another sync runs.

    MTurk errors do not raise: they are recorded on the account's sync state (shown on the health
    panel) and returned with `retryable` so the caller can decide to retry.
    """
    kind = SyncKind(kind)
    token = acquire_lease(account)
    if token is None:
        raise AccountBusy(f"A sync of {account.slug} is already running.")
    started = time.monotonic()
    try:
        if gateway is None:
            with account_gateway(account) as own_gateway:
                details = SYNC_FUNCTIONS[kind](
                    account=account, gateway=own_gateway, on_page=on_page
                )
        else:
            details = SYNC_FUNCTIONS[kind](account=account, gateway=gateway, on_page=on_page)
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
        release_lease(account, token)
    now = timezone.now()
    SyncState.objects.filter(account=account).update(**{LAST_SYNC_FIELD[kind]: now})
    if kind in (SyncKind.REVIEWABLE, SyncKind.FULL, SyncKind.ACTIVE):
        RequesterAccount.objects.filter(pk=account.pk).update(last_synced_at=now)
    if details.get("assignments_created"):
        # New work may come from a study group's HIT types: keep its workers out of the group's
        # next study (a job per group with someone to exclude, none while one runs).
        exclude_after_sync(account=account)
    seconds = time.monotonic() - started
    logger.info("%s sync of %s done in %.1fs: %s", kind, account.slug, seconds, details)
    return SyncOutcome(kind, account.slug, True, seconds, details=details)
