"""Qualification types against the emulator over real HTTP: the list and a type's page, create,
edit and dispose (MTurk's constraints refused in the form with nothing sent), the worker list
with its filters and CSV, the HITs that require a type and revoked scores after a sync, and who
may do what."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from dashboard.models import AuditEvent
from mirror.sync import run_sync
from qualifications.models import Qualification, QualificationType, RequiringHIT

pytestmark = pytest.mark.django_db


def calls(control, operation: str) -> int:
    return control.truth("calls")["call_counts"].get(operation, 0)


def mturk_types(control) -> dict[str, dict]:
    return {
        t["QualificationTypeId"]: t
        for t in control.truth("qualification_types")["qualification_types"]
    }


def create_url(account) -> str:
    return reverse("qualification-create", args=[account.slug])


def made(client, account, **fields) -> QualificationType:
    data = {"name": "Passed screening", "description": "Passed our screening.", "status": "Active"}
    data.update(fields)
    response = client.post(create_url(account), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return QualificationType.objects.get(account=account, name=data["name"])


def test_a_type_is_created_at_mturk_mirrored_from_its_answer_and_audited(
    lab_admin_client, emulator_account, fresh_emulator, admin_user
):
    qtype = made(
        lab_admin_client,
        emulator_account,
        keywords="screening, lab",
        retry_delay_seconds="3600",
        auto_granted="on",
        auto_granted_value="7",
    )

    at_mturk = mturk_types(fresh_emulator.control)[qtype.qualification_type_id]
    assert (at_mturk["Name"], at_mturk["Keywords"], at_mturk["RetryDelayInSeconds"]) == (
        "Passed screening",
        "screening, lab",
        3600,
    )
    assert (at_mturk["AutoGranted"], at_mturk["AutoGrantedValue"]) == (True, 7)
    assert (qtype.auto_granted, qtype.auto_granted_value, qtype.retry_delay_seconds) == (
        True,
        7,
        3600,
    )
    assert qtype.created_at_mturk is not None
    event = AuditEvent.objects.get(action="qualification_type.create")
    assert (event.outcome, event.actor) == ("succeeded", admin_user)
    assert event.target_ids == {"qualification_type": qtype.qualification_type_id}

    page = lab_admin_client.get(reverse("qualification-list", args=[emulator_account.slug]))
    assert page.status_code == 200
    assert "Passed screening" in page.content.decode()
    assert "yes (value 7)" in page.content.decode()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "Passed screening"}, "name", "already has a qualification type with this name"),
        ({"name": "x" * 256}, "name", "at most 255 characters"),
        ({"description": "d" * 2001}, "description", "at most 2000 characters"),
        ({"keywords": "k" * 1001}, "keywords", "at most 1000 characters"),
        ({"description": "   "}, "description", "required"),
        ({"retry_delay_seconds": "-1"}, "retry_delay_seconds", "greater than or equal to 0"),
        ({"auto_granted_value": "3"}, "auto_granted_value", "needs automatic granting"),
        (
            {"auto_granted": "on", "auto_granted_value": str(2**31)},
            "auto_granted_value",
            "less than or equal to 2147483647",
        ),
        ({"status": "Disposing"}, "status", "Select a valid choice"),
    ],
)
def test_what_mturk_would_refuse_is_refused_in_the_form_and_nothing_is_sent(
    lab_admin_client, emulator_account, fresh_emulator, fields, field, message
):
    made(lab_admin_client, emulator_account)
    before = calls(fresh_emulator.control, "CreateQualificationType")
    data = {"name": "Another", "description": "Another type.", "status": "Active", **fields}

    response = lab_admin_client.post(create_url(emulator_account), data)

    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert calls(fresh_emulator.control, "CreateQualificationType") == before
    assert QualificationType.objects.filter(account=emulator_account).count() == 1


def test_mturks_own_refusal_is_shown_and_nothing_is_recorded(
    lab_admin_client, emulator_account, fresh_emulator
):
    # Made at MTurk outside the dashboard, not synced yet: only MTurk knows the name is taken.
    fresh_emulator.client().create_qualification_type(
        Name="Made elsewhere", Description="x", QualificationTypeStatus="Active"
    )

    response = lab_admin_client.post(
        create_url(emulator_account),
        {"name": "Made elsewhere", "description": "y", "status": "Active"},
    )

    assert response.status_code == 400
    assert "MTurk refused the type" in response.context["refusal"]
    assert "already created a QualificationType with this name" in response.context["refusal"]
    assert not QualificationType.objects.filter(account=emulator_account).exists()
    assert AuditEvent.objects.get(action="qualification_type.create").outcome == "failed"


def test_a_type_is_edited_at_mturk_and_an_auto_granted_type_cannot_have_a_test(
    lab_admin_client, emulator_account, fresh_emulator
):
    qtype = made(lab_admin_client, emulator_account, retry_delay_seconds="60")
    url = reverse("qualification-edit", args=[emulator_account.slug, qtype.qualification_type_id])
    assert lab_admin_client.get(url).status_code == 200

    response = lab_admin_client.post(
        url,
        {
            "name": "Renamed (ignored: MTurk keeps names)",
            "description": "Now inactive.",
            "status": "Inactive",
            "retry_delay_seconds": "120",
        },
    )

    assert response.status_code == 302
    at_mturk = mturk_types(fresh_emulator.control)[qtype.qualification_type_id]
    assert (at_mturk["Name"], at_mturk["Description"]) == ("Passed screening", "Now inactive.")
    assert (at_mturk["QualificationTypeStatus"], at_mturk["RetryDelayInSeconds"]) == (
        "Inactive",
        120,
    )
    qtype.refresh_from_db()
    assert (qtype.name, qtype.status, qtype.retry_delay_seconds) == (
        "Passed screening",
        "Inactive",
        120,
    )

    # Retries cannot be turned off once on; a type with a test cannot be auto-granted.
    QualificationType.objects.filter(pk=qtype.pk).update(test="<QuestionForm/>")
    updates = calls(fresh_emulator.control, "UpdateQualificationType")
    response = lab_admin_client.post(
        url, {"description": "x", "status": "Active", "auto_granted": "on"}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "cannot turn retries off" in " ".join(errors["retry_delay_seconds"])
    assert "has a test" in " ".join(errors["auto_granted"])
    assert calls(fresh_emulator.control, "UpdateQualificationType") == updates


def test_dispose_is_its_own_confirmation_page_with_mturks_caveats_and_a_one_time_token(
    lab_admin_client, emulator_account, fresh_emulator
):
    qtype = made(lab_admin_client, emulator_account)
    url = reverse(
        "qualification-dispose", args=[emulator_account.slug, qtype.qualification_type_id]
    )
    page = lab_admin_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Disposing" in text and "48 hours" in text and "Pending requests" in text
    token = page.context["form"].initial["confirmation"]

    # Without the page's token nothing is disposed of.
    refused = lab_admin_client.post(url, {"confirmation": "forged"})
    assert refused.status_code == 400
    assert calls(fresh_emulator.control, "DeleteQualificationType") == 0

    response = lab_admin_client.post(url, {"confirmation": token})

    assert response.status_code == 302
    assert qtype.qualification_type_id not in mturk_types(fresh_emulator.control)
    qtype.refresh_from_db()
    assert qtype.status == "Disposing"
    assert AuditEvent.objects.get(action="qualification_type.dispose").outcome == "succeeded"
    # The token worked once; the type is gone from the list after the next sync.
    again = lab_admin_client.post(url, {"confirmation": token})
    assert again.status_code == 400
    assert calls(fresh_emulator.control, "DeleteQualificationType") == 1
    assert run_sync(account=emulator_account, kind="qualifications").ok
    assert not QualificationType.objects.filter(pk=qtype.pk).exists()


def _hit_requiring(client, type_id: str) -> str:
    return client.create_hit(
        Title="Needs screening",
        Description="d",
        Reward="0.10",
        AssignmentDurationInSeconds=600,
        LifetimeInSeconds=3600,
        MaxAssignments=1,
        Question=(
            '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
            '2006-07-14/ExternalQuestion.xsd"><ExternalURL>https://example.org/</ExternalURL>'
            "<FrameHeight>400</FrameHeight></ExternalQuestion>"
        ),
        QualificationRequirements=[
            {
                "QualificationTypeId": type_id,
                "Comparator": "GreaterThanOrEqualTo",
                "IntegerValues": [1],
            }
        ],
    )["HIT"]["HITId"]


def test_changes_made_outside_the_dashboard_appear_after_a_sync_revoked_scores_read_revoked(
    lab_admin_client, staff_client, emulator_account, fresh_emulator
):
    client = fresh_emulator.client()
    type_id = client.create_qualification_type(
        Name="Made elsewhere", Description="x", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]
    workers = [f"AOUTSIDE{n:05d}" for n in range(3)]
    for n, worker_id in enumerate(workers):
        client.associate_qualification_with_worker(
            QualificationTypeId=type_id, WorkerId=worker_id, IntegerValue=n + 10
        )
    client.disassociate_qualification_from_worker(
        QualificationTypeId=type_id, WorkerId=workers[0], Reason="left the lab"
    )
    hit_id = _hit_requiring(client, type_id)

    assert run_sync(account=emulator_account, kind="qualifications").ok

    qtype = QualificationType.objects.get(account=emulator_account, qualification_type_id=type_id)
    scores = dict(
        Qualification.objects.filter(qualification_type=qtype).values_list("worker_id", "status")
    )
    assert scores == {workers[0]: "Revoked", workers[1]: "Granted", workers[2]: "Granted"}
    assert list(
        RequiringHIT.objects.filter(qualification_type=qtype).values_list("hit_id", flat=True)
    ) == [hit_id]
    listing = staff_client.get(reverse("qualification-list", args=[emulator_account.slug]))
    row = next(t for t in listing.context["types"] if t.pk == qtype.pk)
    assert (row.granted_count, row.revoked_count, row.requiring_hit_count) == (2, 1, 1)

    # A change at MTurk later (the revoked worker granted again) shows after the next sync.
    client.associate_qualification_with_worker(
        QualificationTypeId=type_id, WorkerId=workers[0], IntegerValue=99
    )
    assert run_sync(account=emulator_account, kind="qualifications").ok
    score = Qualification.objects.get(qualification_type=qtype, worker_id=workers[0])
    assert (score.status, score.integer_value) == ("Granted", 99)


def _type_with_workers(account, n: int = 60) -> QualificationType:
    qtype = QualificationType.objects.create(
        account=account, qualification_type_id="3LISTTYPE0001", name="Listed"
    )
    Qualification.objects.bulk_create(
        Qualification(
            account=account,
            qualification_type=qtype,
            worker_id=f"ALIST{n_:05d}",
            integer_value=n_,
            status="Revoked" if n_ % 10 == 0 else "Granted",
        )
        for n_ in range(n)
    )
    return qtype


def test_the_worker_list_filters_paginates_and_downloads(staff_client, emulator_account):
    qtype = _type_with_workers(emulator_account)
    url = reverse("qualification-detail", args=[emulator_account.slug, qtype.qualification_type_id])

    first = staff_client.get(url)
    assert first.status_code == 200
    assert first.context["page"].paginator.count == 60
    assert len(first.context["page"].object_list) == 50
    second = staff_client.get(url, {"page": 2})
    assert len(second.context["page"].object_list) == 10

    filtered = staff_client.get(url, {"status": "Granted", "value_min": "20", "value_max": "39"})
    values = [q.integer_value for q in filtered.context["page"]]
    assert values == [v for v in range(20, 40) if v % 10]
    by_worker = staff_client.get(url, {"worker": "alist00007"})
    assert [q.worker_id for q in by_worker.context["page"]] == ["ALIST00007"]
    fragment = staff_client.get(url, {"status": "Revoked"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    bad = staff_client.get(url, {"value_min": "lots"})
    assert bad.status_code == 200 and bad.context["page"].paginator.count == 0

    download = staff_client.get(
        reverse(
            "qualification-workers-download",
            args=[emulator_account.slug, qtype.qualification_type_id],
        ),
        {"status": "Revoked"},
    )
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == ["WorkerId", "Value", "Status", "GrantTime"]
    assert [r[0] for r in rows[1:]] == [f"ALIST{n:05d}" for n in range(0, 60, 10)]
    assert {r[2] for r in rows[1:]} == {"Revoked"}


@pytest.mark.parametrize(
    ("client_name", "list_status", "create_status"),
    [
        ("anonymous_client", 302, 302),
        ("staff_client", 200, 403),
        ("other_staff_client", 404, 404),
        ("lab_admin_client", 200, 200),
    ],
)
def test_who_may_see_and_who_may_act(
    request, emulator_account, client_name, list_status, create_status
):
    client = request.getfixturevalue(client_name)
    qtype = _type_with_workers(emulator_account, 3)
    slug, type_id = emulator_account.slug, qtype.qualification_type_id
    for name, args, expected in (
        ("qualification-list", [slug], list_status),
        ("qualification-detail", [slug, type_id], list_status),
        ("qualification-workers-download", [slug, type_id], list_status),
        ("qualification-create", [slug], create_status),
        ("qualification-edit", [slug, type_id], create_status),
        ("qualification-dispose", [slug, type_id], create_status),
        ("qualification-worker", [slug, type_id, "ALIST00001"], create_status),
        ("qualification-grant-upload", [slug, type_id], create_status),
    ):
        response = client.get(reverse(name, args=args))
        assert response.status_code == expected, name
    # Posting an action is refused the same way, and nothing changes.
    response = client.post(
        reverse("qualification-dispose", args=[slug, type_id]), {"confirmation": "x"}
    )
    assert response.status_code == (400 if create_status == 200 else create_status)
    qtype.refresh_from_db()
    assert qtype.status != "Disposing"
