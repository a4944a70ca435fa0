"""Qualification grants as intents, against the emulator over real HTTP: the emulator's truth says
who holds what, and how many calls it received."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from dashboard.enums import AuditOutcome, IntentState, JobKind, JobState
from dashboard.jobs import run_job, start_job
from dashboard.models import AuditEvent, Job
from qualifications.enums import GrantAction, LabPurpose
from qualifications.models import Qualification, QualificationGrant, QualificationType
from qualifications.services import ensure_lab_qualification_type, execute_grant, request_grants


def held(control, type_id: str) -> dict[str, str]:
    return {
        q["WorkerId"]: q["Status"]
        for q in control.truth("qualifications")["qualifications"]
        if q["QualificationTypeId"] == type_id
    }


def calls(control, operation: str) -> int:
    return control.truth("calls")["call_counts"].get(operation, 0)


@pytest.fixture
def lab_type(emulator_account, account_gateway) -> QualificationType:
    return ensure_lab_qualification_type(
        account=emulator_account,
        purpose=LabPurpose.SOFT_BLOCK,
        name="Lab exclusion (test)",
        description="Workers the lab excluded.",
        gateway=account_gateway,
    )


@pytest.mark.django_db
def test_the_lab_type_is_made_once_and_found_again_after_a_crash(
    emulator_account, account_gateway, fresh_emulator
):
    first = ensure_lab_qualification_type(
        account=emulator_account,
        purpose=LabPurpose.STUDY_GROUP,
        name="Group A",
        description="Did group A.",
        gateway=account_gateway,
    )
    # A crash after MTurk made the type but before we recorded it: MTurk refuses the name again.
    QualificationType.objects.filter(pk=first.pk).delete()
    again = ensure_lab_qualification_type(
        account=emulator_account,
        purpose=LabPurpose.STUDY_GROUP,
        name="Group A",
        description="Did group A.",
        gateway=account_gateway,
    )

    types = fresh_emulator.control.truth("qualification_types")["qualification_types"]
    assert [t["Name"] for t in types] == ["Group A"]
    assert (
        again.qualification_type_id
        == first.qualification_type_id
        == types[0]["QualificationTypeId"]
    )
    assert (again.lab_purpose, again.status) == (LabPurpose.STUDY_GROUP, "Active")
    # Only the lab grants it: no test to pass, nothing granted automatically.
    assert (types[0].get("Test"), types[0]["AutoGranted"]) == (None, False)
    assert calls(fresh_emulator.control, "CreateQualificationType") == 2


@pytest.mark.django_db
def test_a_grant_reaches_mturk_updates_the_mirror_and_is_audited(
    emulator_account, account_gateway, fresh_emulator, lab_type, admin_user
):
    fresh_emulator.control.add_worker(WorkerId="AGRANTWORKER01")
    outcome = request_grants(
        qualification_type=lab_type,
        worker_ids=["AGRANTWORKER01", "AGRANTWORKER01"],
        reason="too fast",
        requested_by=admin_user,
    )
    assert len(outcome.grants) == 1

    grant = execute_grant(grant_id=outcome.grants[0].pk, gateway=account_gateway)

    assert grant.state == IntentState.DONE
    assert held(fresh_emulator.control, lab_type.qualification_type_id) == {
        "AGRANTWORKER01": "Granted"
    }
    score = Qualification.objects.get(qualification_type=lab_type, worker_id="AGRANTWORKER01")
    assert (score.status, score.integer_value) == ("Granted", 1)
    event = AuditEvent.objects.get(action="qualification.grant")
    assert (event.outcome, event.actor, event.target_ids["worker"]) == (
        AuditOutcome.SUCCEEDED,
        admin_user,
        "AGRANTWORKER01",
    )
    assert event.mturk_request_id


@pytest.mark.django_db
def test_revoking_what_the_worker_no_longer_holds_ends_already(
    emulator_account, account_gateway, fresh_emulator, lab_type
):
    fresh_emulator.control.add_worker(WorkerId="AREVOKEWORKER1")
    granted = request_grants(qualification_type=lab_type, worker_ids=["AREVOKEWORKER1"])
    execute_grant(grant_id=granted.grants[0].pk, gateway=account_gateway)
    first = request_grants(
        qualification_type=lab_type, worker_ids=["AREVOKEWORKER1"], action=GrantAction.REVOKE
    )
    assert execute_grant(grant_id=first.grants[0].pk, gateway=account_gateway).state == "done"
    second = request_grants(
        qualification_type=lab_type, worker_ids=["AREVOKEWORKER1"], action=GrantAction.REVOKE
    )

    again = execute_grant(grant_id=second.grants[0].pk, gateway=account_gateway)

    assert again.state == IntentState.ALREADY
    assert held(fresh_emulator.control, lab_type.qualification_type_id) == {
        "AREVOKEWORKER1": "Revoked"
    }
    assert (
        Qualification.objects.get(qualification_type=lab_type, worker_id="AREVOKEWORKER1").status
        == "Revoked"
    )


@pytest.mark.django_db
def test_a_worker_with_a_grant_in_flight_is_skipped(emulator_account, lab_type):
    request_grants(qualification_type=lab_type, worker_ids=["ABUSYWORKER001"])

    outcome = request_grants(
        qualification_type=lab_type, worker_ids=["ABUSYWORKER001", "AFREEWORKER001"]
    )

    assert [g.worker_id for g in outcome.grants] == ["AFREEWORKER001"]
    assert outcome.skipped == [("ABUSYWORKER001", "a change of it is already in progress")]


@pytest.mark.django_db
def test_a_crash_resumed_grant_job_grants_each_worker_once(
    emulator_account, account_gateway, fresh_emulator, lab_type, settings
):
    workers = [f"ACRASHWORKER{n:02d}" for n in range(6)]
    for worker_id in workers:
        fresh_emulator.control.add_worker(WorkerId=worker_id)
    with transaction.atomic():
        job = start_job(account=emulator_account, kind=JobKind.QUALIFICATION_GRANT, title="Grant 6")
        grants = request_grants(qualification_type=lab_type, worker_ids=workers, job=job).grants
    # The first worker sent two grants and died in the middle of the third: its call reached
    # MTurk, but the row was left `sending`.
    for grant in grants[:2]:
        execute_grant(grant_id=grant.pk, gateway=account_gateway)
    QualificationGrant.objects.filter(pk=grants[2].pk).update(
        state=IntentState.SENDING, claimed_at=timezone.now(), attempts=1
    )
    account_gateway.associate_qualification_with_worker(
        qualification_type_id=lab_type.qualification_type_id, worker_id=workers[2]
    )
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, heartbeat_at=stale)

    assert run_job(job_id=job.pk) == JobState.SUCCEEDED

    states = dict(QualificationGrant.objects.filter(job=job).values_list("worker_id", "state"))
    # The row whose outcome was unknown is read back (GetQualificationScore), found done, not resent.
    assert states == {
        w: IntentState.ALREADY if w == workers[2] else IntentState.DONE for w in workers
    }
    assert held(fresh_emulator.control, lab_type.qualification_type_id) == dict.fromkeys(
        workers, "Granted"
    )
    # Six workers, six calls (the seventh, above, is the dead worker's own): none sent twice.
    assert calls(fresh_emulator.control, "AssociateQualificationWithWorker") == 6
    job.refresh_from_db()
    assert (job.done, job.failed, job.result["done"], job.result["already"]) == (6, 0, 5, 1)
