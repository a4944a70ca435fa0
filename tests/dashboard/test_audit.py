"""The audit log is append-only: written through one service, never updated or deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.enums import AuditOutcome
from dashboard.models import AppendOnlyError, AuditEvent
from dashboard.services import record_audit_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(account, admin_user):
    return record_audit_event(
        action="assignment.approve",
        outcome=AuditOutcome.SUCCEEDED,
        actor=admin_user,
        account=account,
        target_ids={"assignment": "3ASSIGNMENTID"},
        parameters={"feedback": "Thanks"},
        mturk_request_id="req-123",
    )


def test_record_audit_event_stores_who_what_when_and_outcome(event, admin_user, account):
    stored = AuditEvent.objects.get(pk=event.pk)

    assert stored.actor == admin_user
    assert stored.actor_name == "alice-admin"
    assert stored.account == account
    assert stored.action == "assignment.approve"
    assert stored.target_ids == {"assignment": "3ASSIGNMENTID"}
    assert stored.parameters == {"feedback": "Thanks"}
    assert stored.outcome == AuditOutcome.SUCCEEDED
    assert stored.mturk_request_id == "req-123"
    assert stored.created_at is not None


def test_system_actors_are_named(account):
    event = record_audit_event(
        action="sync.full",
        outcome=AuditOutcome.FAILED,
        actor_name="celery:sync",
        account=account,
        error="Throttled",
    )

    assert (event.actor, event.actor_name, event.error) == (None, "celery:sync", "Throttled")


def test_an_event_cannot_be_saved_again(event):
    event.outcome = AuditOutcome.FAILED
    with pytest.raises(AppendOnlyError):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).outcome == AuditOutcome.SUCCEEDED


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_querysets_refuse_update_delete_and_bulk_update(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(outcome=AuditOutcome.FAILED)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["outcome"])
    assert AuditEvent.objects.get(pk=event.pk).outcome == AuditOutcome.SUCCEEDED


def test_a_user_with_an_audit_trail_cannot_be_deleted(event, admin_user):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        admin_user.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_admin_shows_the_log_read_only(event, admin_user):
    from django.test import Client

    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    change_url = reverse("admin:dashboard_auditevent_change", args=[event.pk])
    delete_url = reverse("admin:dashboard_auditevent_delete", args=[event.pk])

    listing = client.get(reverse("admin:dashboard_auditevent_changelist"))
    detail = client.get(change_url)
    post = client.post(change_url, {"action": "tampered", "outcome": "failed"})
    delete = client.post(delete_url, {"post": "yes"})

    assert listing.status_code == 200 and b"assignment.approve" in listing.content
    assert detail.status_code == 200
    assert b'name="action"' not in detail.content  # shown, not editable
    assert post.status_code == 403
    assert delete.status_code == 403
    assert client.get(reverse("admin:dashboard_auditevent_add")).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "assignment.approve"


def test_audit_page_lists_events_and_htmx_gets_the_table_only(staff_client, event, account):
    url = reverse("audit-log", kwargs={"slug": account.slug})

    page = staff_client.get(url)
    fragment = staff_client.get(url, headers={"HX-Request": "true"})

    assert b"assignment.approve" in page.content and b"<html" in page.content
    assert b"assignment.approve" in fragment.content and b"<html" not in fragment.content
    assert b'id="audit-table"' in fragment.content
