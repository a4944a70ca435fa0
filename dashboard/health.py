"""Health figures for /healthz and the overview page."""

from __future__ import annotations

import time
from typing import Any

from django.db import connection

from dashboard.celery import app as celery_app
from dashboard.models import RequesterAccount


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


def health_report() -> tuple[bool, dict[str, Any]]:
    database = check_database()
    broker = check_broker()
    sync = last_sync_status() if database["ok"] else []
    healthy = database["ok"] and broker["ok"]
    return healthy, {
        "status": "ok" if healthy else "error",
        "database": database,
        "broker": broker,
        "last_sync": sync,
    }
