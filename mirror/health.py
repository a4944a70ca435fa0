"""Health of the mirror: figures for /healthz (database, broker, last syncs) and the overview's
sync panel (lag, MTurk calls and errors, events received and applied, webhook rejections)."""

from __future__ import annotations

import hmac
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from dashboard.celery import app as celery_app
from dashboard.models import MTurkCallStats, NotificationEvent, RequesterAccount, SyncState


def check_database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }


def check_broker() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {
        "ok": True,
        "transport": str(transport),
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }


def last_sync_status() -> list[dict[str, Any]]:
    rows = []
    for account in RequesterAccount.objects.active().only("slug", "environment", "last_synced_at"):
        rows.append(
            {
                "account": account.slug,
                "environment": account.environment,
                "last_synced_at": account.last_synced_at.isoformat()
                if account.last_synced_at
                else None,
            }
        )
    return rows


def health_report(*, details: bool) -> tuple[bool, dict[str, Any]]:
    """(healthy, the JSON of /healthz). Without `details` only the status: the rest names the
    accounts and, in errors, the database and broker hosts, which anonymous callers must not see."""
    database = check_database()
    broker = check_broker()
    healthy = database["ok"] and broker["ok"]
    status = "ok" if healthy else "error"
    if not details:
        return healthy, {"status": status}
    return healthy, {
        "status": status,
        "database": database,
        "broker": broker,
        "last_sync": last_sync_status() if database["ok"] else [],
    }


def bearer_token_is_valid(authorization: str | None) -> bool:
    """True for ``Authorization: Bearer <HEALTHZ_TOKEN>`` when a token is configured."""
    expected = settings.HEALTHZ_TOKEN
    if not expected or not authorization:
        return False
    scheme, _, token = authorization.strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), expected.encode()
    )


def account_sync_health(account: RequesterAccount) -> dict[str, Any]:
    """The sync-health panel of one account: last syncs, lag, calls and errors in the last hour,
    events received and applied, webhook rejections."""
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    state = SyncState.objects.filter(account=account).first()
    calls = MTurkCallStats.objects.filter(account=account, window_start__gte=hour_ago).aggregate(
        calls=Sum("calls"), errors=Sum("errors"), retries=Sum("retries")
    )
    events = NotificationEvent.objects.filter(account=account).aggregate(
        received=Count("pk"),
        applied=Count("pk", filter=Q(applied_at__isnull=False)),
        last_hour=Count("pk", filter=Q(received_at__gte=hour_ago)),
        failed=Count("pk", filter=Q(applied_at__isnull=True) & ~Q(error="")),
    )
    last_sync = (
        max(
            (
                t
                for t in (
                    state.last_reviewable_sync_at,
                    state.last_active_sync_at,
                    state.last_full_sync_at,
                )
                if t
            ),
            default=None,
        )
        if state
        else None
    )
    return {
        "last_reviewable_sync_at": state.last_reviewable_sync_at if state else None,
        "last_full_sync_at": state.last_full_sync_at if state else None,
        "last_active_sync_at": state.last_active_sync_at if state else None,
        "lag_seconds": (now - last_sync).total_seconds() if last_sync else None,
        "available_balance": state.available_balance if state else None,
        "last_error": state.last_error if state else "",
        "last_error_at": state.last_error_at if state else None,
        "calls_last_hour": calls["calls"] or 0,
        "errors_last_hour": calls["errors"] or 0,
        "retries_last_hour": calls["retries"] or 0,
        "events_received": events["received"],
        "events_applied": events["applied"],
        "events_last_hour": events["last_hour"],
        "events_failed": events["failed"],
        "webhook_rejections": state.webhook_rejections if state else 0,
        "last_webhook_rejection": state.last_webhook_rejection if state else "",
    }
