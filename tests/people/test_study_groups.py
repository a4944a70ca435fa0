"""Study groups against the emulator: after a sync brings new work on a group's studies, its
workers receive the group's exclusion qualification, once, and the group's page says why."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.enums import JobKind, JobState
from dashboard.models import Job
from hits.models import HITType
from mirror.sync import run_sync
from people.models import StudyGroup
from people.services.blocks import exclusion_requirements
from people.services.study_groups import exclude_group_workers, workers_to_exclude
from qualifications.enums import LabPurpose
from qualifications.models import QualificationGrant
from tests.hits.test_sync import create_hits, work


def holders(control, type_id: str) -> dict[str, str]:
    return {
        q["WorkerId"]: q["Status"]
        for q in control.truth("qualifications")["qualifications"]
        if q["QualificationTypeId"] == type_id
    }


@pytest.fixture
def two_studies(emulator_account, account_gateway, fresh_emulator):
    """Two studies (HIT types) with a HIT each, mirrored; no work yet."""
    (first,) = create_hits(account_gateway, 1, title="Pilot: rate faces")
    (other,) = create_hits(account_gateway, 1, title="Unrelated survey")
    run_sync(account=emulator_account, kind="full", gateway=account_gateway)
    return {
        "pilot_hit": first,
        "other_hit": other,
        "pilot": HITType.objects.get(account=emulator_account, title="Pilot: rate faces"),
        "other": HITType.objects.get(account=emulator_account, title="Unrelated survey"),
    }


@pytest.fixture
def group(emulator_account, two_studies):
    group = StudyGroup.objects.create(account=emulator_account, name="Face studies")
    group.hit_types.add(two_studies["pilot"])
    return group


@pytest.fixture
def synced(emulator_account, account_gateway, eager_celery, django_capture_on_commit_callbacks):
    """A full sync, with the jobs it starts run inline."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            outcome = run_sync(account=emulator_account, kind="full", gateway=account_gateway)
        assert outcome.ok
        return outcome

    return run


@pytest.mark.django_db
def test_workers_of_a_groups_study_are_excluded_after_sync(
    emulator_account, fresh_emulator, two_studies, group, synced, lab_admin_client
):
    control = fresh_emulator.control
    work(control, two_studies["pilot_hit"], "AGROUPWORKER01")
    work(control, two_studies["pilot_hit"], "AGROUPWORKER02")
    work(control, two_studies["other_hit"], "AOTHERWORKER01")

    synced()

    group.refresh_from_db()
    qtype = group.qualification_type
    assert qtype is not None and qtype.lab_purpose == LabPurpose.STUDY_GROUP
    assert holders(control, qtype.qualification_type_id) == {
        "AGROUPWORKER01": "Granted",
        "AGROUPWORKER02": "Granted",
    }
    job = Job.objects.get(kind=JobKind.STUDY_GROUP_EXCLUDE)
    assert (job.state, job.done) == (JobState.SUCCEEDED, 2)
    pilot = two_studies["pilot"]
    assert set(QualificationGrant.objects.values_list("worker_id", "reason")) == {
        ("AGROUPWORKER01", f"did Pilot: rate faces ({pilot.hit_type_id})"),
        ("AGROUPWORKER02", f"did Pilot: rate faces ({pilot.hit_type_id})"),
    }
    page = lab_admin_client.get(
        reverse("study-group-detail", kwargs={"slug": "emu", "pk": group.pk})
    ).content.decode()
    assert "AGROUPWORKER01" in page and "AGROUPWORKER02" in page
    assert "AOTHERWORKER01" not in page
    assert f"did Pilot: rate faces ({pilot.hit_type_id})" in page
    # The group's next study, published from the dashboard, keeps the group's workers out; a
    # study outside the group does not.
    requirement = {
        "QualificationTypeId": qtype.qualification_type_id,
        "Comparator": "DoesNotExist",
        "ActionsGuarded": "DiscoverPreviewAndAccept",
    }
    assert requirement in exclusion_requirements(emulator_account, study_groups=[group])
    assert requirement not in exclusion_requirements(emulator_account)


@pytest.mark.django_db
def test_a_sync_without_new_work_starts_no_job_and_new_work_excludes_only_the_new_worker(
    emulator_account, fresh_emulator, two_studies, group, synced
):
    control = fresh_emulator.control
    work(control, two_studies["pilot_hit"], "AGROUPWORKER01")
    synced()
    assert Job.objects.filter(kind=JobKind.STUDY_GROUP_EXCLUDE).count() == 1

    synced()
    assert Job.objects.filter(kind=JobKind.STUDY_GROUP_EXCLUDE).count() == 1

    work(control, two_studies["pilot_hit"], "AGROUPWORKER03")
    synced()

    group.refresh_from_db()
    assert Job.objects.filter(kind=JobKind.STUDY_GROUP_EXCLUDE).count() == 2
    assert holders(control, group.qualification_type.qualification_type_id) == {
        "AGROUPWORKER01": "Granted",
        "AGROUPWORKER03": "Granted",
    }
    # Each worker was granted once.
    assert control.truth("calls")["call_counts"]["AssociateQualificationWithWorker"] == 2
    assert control.truth("qualification_types")["qualification_types"][0]["Name"].startswith(
        "Did a study of group"
    )


@pytest.mark.django_db
def test_no_second_job_while_one_runs_for_the_group(
    emulator_account, fresh_emulator, two_studies, group
):
    work(fresh_emulator.control, two_studies["pilot_hit"], "AGROUPWORKER01")
    from dashboard.mturk_access import gateway_for
    from hits.sync import sync_full

    sync_full(account=emulator_account, gateway=gateway_for(emulator_account))
    assert list(workers_to_exclude(group)) == ["AGROUPWORKER01"]

    first = exclude_group_workers(group=group)
    second = exclude_group_workers(group=group)

    assert first is not None and second == first
    assert Job.objects.filter(kind=JobKind.STUDY_GROUP_EXCLUDE).count() == 1


@pytest.mark.django_db
def test_an_inactive_group_or_one_with_nothing_to_do_starts_no_job(
    emulator_account, fresh_emulator, two_studies, group, synced
):
    assert exclude_group_workers(group=group) is None
    StudyGroup.objects.filter(pk=group.pk).update(is_active=False)
    work(fresh_emulator.control, two_studies["pilot_hit"], "AGROUPWORKER01")

    synced()

    assert not Job.objects.filter(kind=JobKind.STUDY_GROUP_EXCLUDE).exists()


# --- Views ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_lab_admin_creates_and_edits_a_group(account, lab_admin_client):
    from tests.factories import HITTypeFactory

    mine = HITTypeFactory(account=account, title="Mine")
    response = lab_admin_client.post(
        reverse("study-group-create", kwargs={"slug": "lab"}),
        {
            "name": "Memory",
            "description": "Memory studies",
            "hit_types": [mine.pk],
            "is_active": "on",
        },
    )
    group = StudyGroup.objects.get(name="Memory")
    assert response.status_code == 302
    assert list(group.hit_types.all()) == [mine]

    duplicate = lab_admin_client.post(
        reverse("study-group-create", kwargs={"slug": "lab"}), {"name": "Memory"}
    )
    assert "already" in duplicate.content.decode()

    lab_admin_client.post(
        reverse("study-group-edit", kwargs={"slug": "lab", "pk": group.pk}),
        {"name": "Memory 2", "hit_types": []},
    )
    group.refresh_from_db()
    assert (group.name, group.hit_types.count(), group.is_active) == ("Memory 2", 0, False)


@pytest.mark.django_db
def test_another_accounts_hit_types_cannot_join_a_group(account, other_account, lab_admin_client):
    from tests.factories import HITTypeFactory

    theirs = HITTypeFactory(account=other_account)
    response = lab_admin_client.post(
        reverse("study-group-create", kwargs={"slug": "lab"}),
        {"name": "Sneaky", "hit_types": [theirs.pk]},
    )
    assert response.status_code == 200
    assert not StudyGroup.objects.exists()


@pytest.mark.django_db
def test_group_pages_allow_staff_to_see_and_only_admins_to_act(personas, account):
    group = StudyGroup.objects.create(account=account, name="G")
    see = [
        reverse("study-group-list", kwargs={"slug": "lab"}),
        reverse("study-group-detail", kwargs={"slug": "lab", "pk": group.pk}),
    ]
    act = [
        ("get", reverse("study-group-create", kwargs={"slug": "lab"})),
        ("get", reverse("study-group-edit", kwargs={"slug": "lab", "pk": group.pk})),
        ("post", reverse("study-group-exclude", kwargs={"slug": "lab", "pk": group.pk})),
    ]
    for url in see:
        anonymous = personas["anonymous"].get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url
        assert personas["other_staff"].get(url).status_code == 404
        staff_page = personas["staff"].get(url)
        assert staff_page.status_code == 200
        assert "Exclude now" not in staff_page.content.decode()
        assert personas["admin"].get(url).status_code == 200
    for method, url in act:
        anonymous = getattr(personas["anonymous"], method)(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url
        assert getattr(personas["other_staff"], method)(url).status_code == 404
        assert getattr(personas["staff"], method)(url).status_code == 403
        assert getattr(personas["admin"], method)(url).status_code in (200, 302)
    assert not Job.objects.exists()  # nothing to exclude: no job
