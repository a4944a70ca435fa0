from __future__ import annotations

import datetime as dt

import pytest
from celery import Celery
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "monitoring-token-0123456789abcdef"


@pytest.fixture
def operator_client(db) -> Client:
    """A logged-in staff user (Django's staff flag: the people who run the instance)."""
    client = Client()
    client.force_login(UserFactory(username="ops", is_staff=True))
    return client


@pytest.fixture
def unreachable_broker(monkeypatch):
    # Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    # Celery lets the CELERY_BROKER_URL environment variable override a configured URL.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setattr(
        "mirror.health.celery_app",
        Celery("unreachable", broker="redis://127.0.0.1:9/0", set_as_current=False),
    )


def test_staff_see_database_broker_and_last_sync(operator_client, account, other_account):
    synced_at = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    account.last_synced_at = synced_at
    account.save(update_fields=["last_synced_at"])

    response = operator_client.get(reverse("healthz"))

    body = response.json()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    by_account = {row["account"]: row for row in body["last_sync"]}
    assert by_account["lab"]["last_synced_at"] == synced_at.isoformat()
    assert by_account["other-lab"]["last_synced_at"] is None


def test_anonymous_callers_learn_only_up_or_down(client, account, other_account):
    response = client.get(reverse("healthz"))

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "lab" not in response.content.decode()


def test_members_without_staff_status_are_anonymous_here(staff_client, lab_admin_client, account):
    for member in (staff_client, lab_admin_client):
        assert member.get(reverse("healthz")).json() == {"status": "ok"}


def test_a_configured_bearer_token_sees_the_details(client, account, settings):
    settings.HEALTHZ_TOKEN = TOKEN

    with_token = client.get(reverse("healthz"), headers={"Authorization": f"Bearer {TOKEN}"})
    wrong = client.get(reverse("healthz"), headers={"Authorization": f"Bearer {TOKEN}x"})
    basic = client.get(reverse("healthz"), headers={"Authorization": f"Basic {TOKEN}"})

    assert {row["account"] for row in with_token.json()["last_sync"]} == {"lab"}
    assert wrong.json() == {"status": "ok"} and basic.json() == {"status": "ok"}


def test_no_token_configured_means_no_token_works(client, account, settings):
    settings.HEALTHZ_TOKEN = ""

    response = client.get(reverse("healthz"), headers={"Authorization": "Bearer "})

    assert response.json() == {"status": "ok"}


def test_an_unreachable_broker_is_503_and_only_staff_see_where_it_is(
    client, operator_client, unreachable_broker
):
    anonymous = client.get(reverse("healthz"))
    staff = operator_client.get(reverse("healthz"))

    assert (anonymous.status_code, anonymous.json()) == (503, {"status": "error"})
    assert "127.0.0.1" not in anonymous.content.decode()
    assert staff.status_code == 503
    assert staff.json()["status"] == "error"
    assert staff.json()["broker"]["ok"] is False
    assert staff.json()["database"]["ok"] is True


def test_healthz_needs_no_login_and_leaks_no_credentials(client, operator_client, account):
    account.set_secret_access_key("super-secret-value-123")
    account.save()

    for caller in (client, operator_client):
        body = caller.get(reverse("healthz")).content.decode()
        assert "super-secret-value-123" not in body
        assert "AKIA" not in body
