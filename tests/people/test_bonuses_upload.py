"""Bulk bonuses from a file: bad files are refused with a report and pay nothing; a good one is
previewed, confirmed once, and paid once, even when uploaded again or confirmed twice."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard.enums import IntentState, JobState
from dashboard.models import Job, SyncState
from people.models import Bonus, BonusRun
from people.services import bonus_upload
from tests.htmlcheck import as_post, form_data, nested_forms
from tests.people.bonus_fixtures import (
    bonus_csv,
    payments_per_row,
    populate_and_sync,
    rows_for,
    truth_bonuses,
)


@pytest.fixture
def three(emulator_account, fresh_emulator):
    """Three submitted assignments at the emulator, mirrored."""
    return populate_and_sync(fresh_emulator, emulator_account, 3)


def upload(client, account, data: bytes, name: str = "bonuses.csv"):
    return client.post(
        reverse("bonus-upload", args=[account.slug]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def assert_nothing_paid(control) -> None:
    assert not Bonus.objects.exists() and not BonusRun.objects.exists()
    assert truth_bonuses(control) == []


BAD_FILES = {
    "wrong columns": lambda a: bonus_csv(rows_for(a), header=("Worker", "HIT", "Money", "Why")),
    "missing reason column": lambda a: bonus_csv(
        [r[:3] for r in rows_for(a)], header=("WorkerId", "AssignmentId", "BonusAmount")
    ),
    "negative amount": lambda a: bonus_csv(rows_for(a[:2]) + rows_for(a[2:], amount="-1.00")),
    "malformed amount": lambda a: bonus_csv(rows_for(a[:2]) + rows_for(a[2:], amount="1,50")),
    "sub-cent amount": lambda a: bonus_csv(rows_for(a[:2]) + rows_for(a[2:], amount="0.005")),
    "zero amount": lambda a: bonus_csv(rows_for(a[:2]) + rows_for(a[2:], amount="0.00")),
    "missing reason": lambda a: bonus_csv(rows_for(a[:2]) + rows_for(a[2:], reason="")),
    "reason too long": lambda a: bonus_csv(rows_for(a[:2]) + rows_for(a[2:], reason="x" * 1025)),
    "unknown worker": lambda a: bonus_csv(
        rows_for(a[:2]) + [("AUNKNOWNWORKER", a[2].assignment_id, "0.50", "thanks")]
    ),
    "unknown assignment": lambda a: bonus_csv(
        rows_for(a[:2]) + [(a[2].worker.worker_id, "3NOSUCHASSIGNMENT", "0.50", "thanks")]
    ),
    "duplicate row": lambda a: bonus_csv(rows_for(a) + rows_for(a[:1], amount="0.75")),
    "wrong encoding": lambda a: bonus_csv(
        rows_for(a, reason="Très bien, merci"), encoding="latin-1"
    ),
    "no rows": lambda a: bonus_csv([]),
}
EXPECTED = {
    "wrong columns": b"lacks the columns",
    "missing reason column": b"lacks the column reason",
    "negative amount": b"is negative",
    "malformed amount": b"is not a number",
    "sub-cent amount": b"more than two decimals",
    "zero amount": b"below $0.01",
    "missing reason": b"needs a reason",
    "reason too long": b"at most 1024",
    "unknown worker": b"did not do this assignment",
    "unknown assignment": b"Unknown assignment",
    "duplicate row": b"The same worker and assignment as line 2",
    "wrong encoding": b"not UTF-8",
    "no rows": b"has no rows",
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_refused_with_a_report_and_nothing_is_paid(
    lab_admin_client, emulator_account, fresh_emulator, three, case
):
    response = upload(lab_admin_client, emulator_account, BAD_FILES[case](three))
    assert response.status_code == 400
    assert EXPECTED[case] in response.content.replace(b"&#x27;", b"'"), response.content[-3000:]
    assert_nothing_paid(fresh_emulator.control)


@pytest.mark.django_db
def test_a_file_over_the_size_cap_is_refused(
    lab_admin_client, emulator_account, fresh_emulator, three, monkeypatch
):
    data = bonus_csv(rows_for(three))
    monkeypatch.setattr(bonus_upload, "MAX_BYTES", len(data) - 1)
    response = upload(lab_admin_client, emulator_account, data)
    assert response.status_code == 400 and b"The file is over" in response.content
    assert_nothing_paid(fresh_emulator.control)


@pytest.mark.django_db
def test_a_file_over_the_cap_or_the_balance_is_refused(
    lab_admin_client, emulator_account, fresh_emulator, three
):
    data = bonus_csv(rows_for(three, amount="10.00"))  # 3 x $12.00 with fees
    emulator_account.bonus_run_cap = Decimal("35.99")
    emulator_account.save()
    response = upload(lab_admin_client, emulator_account, data)
    assert response.status_code == 400 and b"over the account" in response.content
    emulator_account.bonus_run_cap = None
    emulator_account.save()
    SyncState.objects.update_or_create(
        account=emulator_account, defaults={"available_balance": Decimal("20.00")}
    )
    response = upload(lab_admin_client, emulator_account, data)
    assert response.status_code == 400 and b"more than the account" in response.content
    assert_nothing_paid(fresh_emulator.control)


@pytest.mark.django_db
def test_the_requester_websites_column_names_are_accepted(emulator_account, three):
    data = bonus_csv(
        rows_for(three),
        header=("Worker ID", "Assignment ID", "Amount", "Feedback"),
        encoding="utf-8-sig",
    )
    plan = bonus_upload.plan_bonus_file(account=emulator_account, data=data)
    assert plan.ok and len(plan.rows) == 3
    assert (plan.amount, plan.fee, plan.total) == (
        Decimal("1.50"),
        Decimal("0.30"),
        Decimal("1.80"),
    )


@pytest.mark.django_db
def test_a_file_is_previewed_confirmed_once_and_paid_once(
    lab_admin_client,
    staff_client,
    emulator_account,
    fresh_emulator,
    three,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    control = fresh_emulator.control
    data = bonus_csv(rows_for(three))
    response = upload(lab_admin_client, emulator_account, data)
    assert response.status_code == 302
    run = BonusRun.objects.get()
    assert response["Location"] == reverse(
        "bonus-run-preview", args=[emulator_account.slug, run.pk]
    )
    assert truth_bonuses(control) == []  # nothing is paid by the upload

    preview = lab_admin_client.get(response["Location"])
    assert b"$1.80" in preview.content and b"Pay 3 bonuses" in preview.content
    token = preview.context["form"].initial["confirmation"]
    confirm_url = reverse("bonus-run-confirm", args=[emulator_account.slug, run.pk])

    # A forged or missing token pays nothing.
    response = lab_admin_client.post(confirm_url, {"confirmation": "forged"})
    assert response.status_code == 400 and b"no longer valid" in response.content
    assert not Bonus.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        first = lab_admin_client.post(confirm_url, {"confirmation": token})
    job = Job.objects.get()
    assert first.status_code == 302 and first["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.result["done"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        second = lab_admin_client.post(confirm_url, {"confirmation": token})  # a double submit
    assert second.status_code == 302 and second["Location"] == job.get_absolute_url()
    assert Job.objects.count() == 1

    # The same file again: every row is already in the ledger, so nothing can be paid.
    again = upload(lab_admin_client, emulator_account, data)
    assert again.status_code == 400 and again.content.count(b"Already in the bonus ledger") == 3
    assert BonusRun.objects.count() == 1

    assert set(Bonus.objects.values_list("state", flat=True)) == {IntentState.DONE}
    assert set(payments_per_row(control).values()) == {1} and len(truth_bonuses(control)) == 3

    # The run's page (staff may read it) shows the rows as sent.
    page = staff_client.get(reverse("bonus-run", args=[emulator_account.slug, run.pk]))
    assert page.status_code == 200 and page.content.count(b"state-done") >= 3


@pytest.mark.django_db
def test_a_live_account_confirms_by_typing_its_name_on_the_confirmation_page(
    lab_admin_client, emulator_account, fresh_emulator, three, django_capture_on_commit_callbacks
):
    emulator_account.environment = "live"
    emulator_account.save(update_fields=["environment"])
    response = upload(lab_admin_client, emulator_account, bonus_csv(rows_for(three)))
    run = BonusRun.objects.get()
    page = lab_admin_client.get(response["Location"]).content.decode()
    assert nested_forms(page) == []
    confirm_url = reverse("bonus-run-confirm", args=[emulator_account.slug, run.pk])
    fields, _buttons = form_data(page, action=confirm_url)
    # What the page's form sends as it stands (the name not typed): refused, nothing recorded.
    refused = lab_admin_client.post(confirm_url, as_post(fields))
    assert refused.status_code == 400 and b"Type the account name" in refused.content
    assert not Bonus.objects.exists()
    typed = [(k, emulator_account.name if k == "confirm_name" else v) for k, v in fields]
    with django_capture_on_commit_callbacks(execute=False):  # a live job is not run here
        done = lab_admin_client.post(confirm_url, as_post(typed))
    assert done.status_code == 302 and Bonus.objects.filter(run=run).count() == 3
