from __future__ import annotations

import datetime as dt

import pytest
from celery import Celery
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_broker_and_last_sync(client, account, other_account):
    synced_at = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    account.last_synced_at = synced_at
    account.save(update_fields=["last_synced_at"])

    response = client.get(reverse("healthz"))

    body = response.json()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    by_account = {row["account"]: row for row in body["last_sync"]}
    assert by_account["lab"]["last_synced_at"] == synced_at.isoformat()
    assert by_account["other-lab"]["last_synced_at"] is None


def test_healthz_answers_503_when_the_broker_is_unreachable(client, monkeypatch):
    # Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    # Celery lets the CELERY_BROKER_URL environment variable override a configured URL.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setattr(
        "mirror.health.celery_app",
        Celery("unreachable", broker="redis://127.0.0.1:9/0", set_as_current=False),
    )

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["broker"]["ok"] is False
    assert response.json()["database"]["ok"] is True


def test_healthz_needs_no_login_and_leaks_no_credentials(client, account):
    account.set_secret_access_key("super-secret-value-123")
    account.save()

    body = client.get(reverse("healthz")).content.decode()

    assert "super-secret-value-123" not in body
    assert "AKIA" not in body
