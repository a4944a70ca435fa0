"""One worker's score from the dashboard: grant with a value, change it, revoke it with a reason,
each recorded as a grant intent and sent by its task once the request commits; the emulator's
truth says what the worker holds. And the links from the worker page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.enums import IntentState
from dashboard.models import AuditEvent
from qualifications.models import Qualification, QualificationGrant, QualificationType
from qualifications.services import request_grants
from workers.models import Worker

pytestmark = pytest.mark.django_db
WORKER = "ASCOREWORKER01"


def held(control, type_id: str) -> dict[str, tuple[str, int | None]]:
    return {
        q["WorkerId"]: (q["Status"], q.get("IntegerValue"))
        for q in control.truth("qualifications")["qualifications"]
        if q["QualificationTypeId"] == type_id
    }


@pytest.fixture
def qtype(emulator_account, account_gateway) -> QualificationType:
    record = account_gateway.create_qualification_type(name="Did study A", description="x")
    return QualificationType.objects.create(
        account=emulator_account,
        qualification_type_id=record.qualification_type_id,
        name="Did study A",
    )


def score_url(account, qtype, worker_id: str = WORKER) -> str:
    return reverse(
        "qualification-worker", args=[account.slug, qtype.qualification_type_id, worker_id]
    )


def test_grant_change_and_revoke_one_worker(
    lab_admin_client,
    emulator_account,
    fresh_emulator,
    qtype,
    eager_celery,
    django_capture_on_commit_callbacks,
    admin_user,
):
    url = score_url(emulator_account, qtype)
    assert lab_admin_client.get(url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = lab_admin_client.post(
            url, {"action": "grant", "integer_value": "80", "send_notification": "on"}
        )
    assert response.status_code == 302
    assert held(fresh_emulator.control, qtype.qualification_type_id) == {WORKER: ("Granted", 80)}
    grant = QualificationGrant.objects.get()
    assert (grant.state, grant.send_notification, grant.requested_by) == (
        IntentState.DONE,
        True,
        admin_user,
    )
    score = Qualification.objects.get(qualification_type=qtype, worker_id=WORKER)
    assert (score.status, score.integer_value) == ("Granted", 80)

    with django_capture_on_commit_callbacks(execute=True):
        lab_admin_client.post(url, {"action": "grant", "integer_value": "95"})
    assert held(fresh_emulator.control, qtype.qualification_type_id) == {WORKER: ("Granted", 95)}

    # A revocation needs a reason (MTurk shows it to the worker): refused without, nothing sent.
    refused = lab_admin_client.post(url, {"action": "revoke", "reason": "  "})
    assert refused.status_code == 400
    assert "Say why" in " ".join(refused.context["form"].errors["reason"])
    assert QualificationGrant.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = lab_admin_client.post(url, {"action": "revoke", "reason": "Answered at random"})
    assert response.status_code == 302
    assert held(fresh_emulator.control, qtype.qualification_type_id) == {WORKER: ("Revoked", 95)}
    score.refresh_from_db()
    assert score.status == "Revoked"
    revoke = QualificationGrant.objects.get(action="revoke")
    assert (revoke.state, revoke.reason) == (IntentState.DONE, "Answered at random")
    assert list(
        AuditEvent.objects.filter(action__startswith="qualification.")
        .order_by("pk")
        .values_list("action", "outcome")
    ) == [
        ("qualification.grant", "succeeded"),
        ("qualification.grant", "succeeded"),
        ("qualification.revoke", "succeeded"),
    ]

    # Revoking again: the worker holds nothing to revoke; refused with a message, nothing recorded.
    again = lab_admin_client.post(url, {"action": "revoke", "reason": "again"})
    assert again.status_code == 400
    assert "nothing to revoke" in again.context["refusal"]
    assert QualificationGrant.objects.count() == 3


def test_a_change_already_on_its_way_is_refused(lab_admin_client, emulator_account, qtype):
    request_grants(qualification_type=qtype, worker_ids=[WORKER], integer_value=1)

    response = lab_admin_client.post(
        score_url(emulator_account, qtype), {"action": "grant", "integer_value": "2"}
    )

    assert response.status_code == 400
    assert "already on its way" in response.context["refusal"]
    assert QualificationGrant.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"action": "grant", "integer_value": "1.5"}, "integer_value"),
        ({"action": "grant", "integer_value": str(2**31)}, "integer_value"),
        ({"action": "promote"}, "action"),
    ],
)
def test_bad_values_are_refused_with_a_message(
    lab_admin_client, emulator_account, qtype, data, field
):
    response = lab_admin_client.post(score_url(emulator_account, qtype), data)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not QualificationGrant.objects.exists()


def test_a_malformed_worker_id_is_not_found(lab_admin_client, emulator_account, qtype):
    assert (
        lab_admin_client.get(score_url(emulator_account, qtype, "not-a-worker")).status_code == 404
    )


def test_the_worker_page_links_to_grant_change_and_revoke_for_lab_admins_only(
    lab_admin_client, staff_client, emulator_account, qtype
):
    Worker.objects.create(account=emulator_account, worker_id=WORKER)
    Qualification.objects.create(
        account=emulator_account, qualification_type=qtype, worker_id=WORKER, integer_value=3
    )
    page_url = reverse("worker-detail", args=[emulator_account.slug, WORKER])
    change = score_url(emulator_account, qtype)

    admin_page = lab_admin_client.get(page_url).content.decode()
    staff_page = staff_client.get(page_url).content.decode()

    assert "Grant a qualification…" in admin_page and change in admin_page
    assert "Grant a qualification…" not in staff_page and change not in staff_page
    assert reverse("qualification-list", args=[emulator_account.slug]) in staff_page  # the nav
