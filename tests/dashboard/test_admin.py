"""/admin/ has every model of the dashboard's apps (the README says so); records (MTurk's mirror, the
decisions ledger, uploads, the audit log) are read-only there, the lab's own settings editable. Only
staff reach it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from dashboard.enums import JobKind
from dashboard.models import Job
from hits.enums import BatchSource, DecisionAction
from hits.models import Batch, Decision, GridPreference, RejectionReason, ResultsUpload
from tests.factories import AssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db

OUR_APPS = (
    "dashboard",
    "publishing",
    "people",
    "hits",
    "workers",
    "qualifications",
    "mirror",
    "console",
)


def test_every_model_of_our_apps_is_in_the_admin():
    missing = [
        model._meta.label
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
        if not admin.site.is_registered(model)
    ]

    assert missing == []


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def records(account, admin_user):
    assignment = AssignmentFactory(hit__hit_type__account=account, status="Rejected")
    job = Job.objects.create(account=account, kind=JobKind.REVIEW_DECIDE, title="decide")
    return {
        Batch: Batch.objects.create(
            account=account,
            hit_type=assignment.hit_type,
            key="batch:pilot",
            name="pilot",
            source=BatchSource.ANNOTATION,
        ),
        Decision: Decision.objects.create(
            account=account, assignment=assignment, action=DecisionAction.OVERRIDE
        ),
        ResultsUpload: ResultsUpload.objects.create(
            account=account,
            hit_type=assignment.hit_type,
            uploaded_by=admin_user,
            filename="Batch_1_results.csv",
            content=b"AssignmentId,Approve,Reject\r\n",
            job=job,
        ),
        RejectionReason: RejectionReason.objects.create(account=account, text="Off topic"),
        GridPreference: GridPreference.objects.create(
            user=admin_user, hit_type=assignment.hit_type, columns=["answer"]
        ),
    }


def _urls(obj) -> tuple[str, str, str]:
    opts = obj._meta
    name = f"admin:{opts.app_label}_{opts.model_name}"
    return (
        reverse(f"{name}_changelist"),
        reverse(f"{name}_change", args=[obj.pk]),
        reverse(f"{name}_delete", args=[obj.pk]),
    )


@pytest.mark.parametrize("model", [Batch, Decision, ResultsUpload])
def test_records_are_shown_read_only(superuser_client, records, model):
    obj = records[model]
    changelist, change, delete = _urls(obj)

    listed = superuser_client.get(changelist)
    shown = superuser_client.get(change)
    edit = superuser_client.post(change, {})
    removal = superuser_client.post(delete, {"post": "yes"})

    assert listed.status_code == 200 and shown.status_code == 200
    assert 'name="_save"' not in shown.content.decode()
    assert edit.status_code == 403
    assert removal.status_code == 403 and model.objects.filter(pk=obj.pk).exists()
    assert not admin.site._registry[model].has_add_permission(listed.wsgi_request)


def test_an_upload_is_shown_without_its_file(superuser_client, records):
    upload = records[ResultsUpload]

    page = superuser_client.get(_urls(upload)[1]).content.decode()

    assert "Batch_1_results.csv" in page and "AssignmentId,Approve" not in page


def test_saved_reasons_and_grid_preferences_can_be_changed(superuser_client, records):
    reason, preference = records[RejectionReason], records[GridPreference]
    _, change, _ = _urls(reason)

    edited = superuser_client.post(
        change, {"account": reason.account_id, "text": "Did not follow the instructions"}
    )
    reset = superuser_client.post(_urls(preference)[2], {"post": "yes"})

    reason.refresh_from_db()
    assert edited.status_code == 302 and reason.text == "Did not follow the instructions"
    assert reset.status_code == 302 and not GridPreference.objects.exists()


def test_staff_without_admin_access_cannot_see_them(staff_client, records):
    changelist, change, _ = _urls(records[Decision])

    assert staff_client.get(changelist).status_code == 302  # to the admin's login
    assert staff_client.get(change).status_code == 302
