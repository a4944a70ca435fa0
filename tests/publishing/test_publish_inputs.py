"""Bad input is refused with a report, and nothing is kept or published: missing and extra
columns, a bad encoding, empty and too-long values, an oversize question, a reward below MTurk's
minimum, more than 10 requirements, a batch above the budget cap."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard.models import SyncState
from publishing.estimate import estimate_batch, split_assignments
from publishing.inputs import MAX_VALUE_CHARS, read_inputs
from publishing.models import HITRequest, PublishBatch
from tests.publishing.publish_fixtures import animal_rows, draft, inputs_csv, make_template

VARIABLES = ["animal", "kind"]


def test_a_good_file_gives_its_rows_with_their_lines():
    data = "\ufeffanimal,kind\ncat,pet\n\ndog,pet\n".encode()

    report = read_inputs(data=data, variables=VARIABLES)

    assert report.ok
    assert [(r.line, r.values) for r in report.rows] == [
        (2, {"animal": "cat", "kind": "pet"}),
        (4, {"animal": "dog", "kind": "pet"}),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"animal\ncat\n", "Missing column for the template's variables: kind."),
        (b"animal,kind,colour\ncat,pet,red\n", "Column the template does not use: colour"),
        ("animal,kind\nchat,épée\n".encode("latin-1"), "The file is not UTF-8 text (byte 18 "),
        (b"", "The file is empty"),
        (b"animal,kind\n", "The file has no rows."),
    ],
)
def test_a_file_that_does_not_fit_the_template_is_refused_as_a_whole(data, message):
    report = read_inputs(data=data, variables=VARIABLES)

    assert not report.ok and report.rows == []
    assert any(error.startswith(message) for error in report.errors), report.errors


def test_bad_lines_are_each_reported():
    long = "x" * (MAX_VALUE_CHARS + 1)
    data = f"animal,kind\ncat,pet\n,pet\ndog\nfox,{long}\n".encode()

    report = read_inputs(data=data, variables=VARIABLES)

    assert not report.ok
    assert [(p.line, p.message) for p in report.problems] == [
        (3, "Empty value for animal."),
        (4, "1 values for 2 columns."),
        (5, f"Value too long for kind (over {MAX_VALUE_CHARS:,})."),
    ]


def test_micro_batching_splits_an_item_into_hits_of_at_most_9_and_saves_fees():
    assert split_assignments(20, micro_batching=True) == [9, 9, 2]
    assert split_assignments(18, micro_batching=True) == [9, 9]
    assert split_assignments(9, micro_batching=True) == [9]
    assert split_assignments(20, micro_batching=False) == [20]

    estimate = estimate_batch(
        items=3,
        assignments_per_item=20,
        reward=Decimal("1.00"),
        micro_batching=True,
        balance=None,
        cap=None,
    )

    assert (estimate.hits, estimate.assignments) == (9, 60)
    assert (estimate.rewards, estimate.fees, estimate.total) == (
        Decimal("60.00"),
        Decimal("12.00"),
        Decimal("72.00"),
    )
    assert estimate.total_without_micro_batching == Decimal("84.00")  # 40% on 20-assignment HITs


def _form(template, data: bytes, **overrides):
    form = {
        "label": "animals-1",
        "template": template.pk,
        "title": "Is it a cat?",
        "description": "Say whether the animal is of the kind",
        "keywords": "animals",
        "reward": "0.10",
        "max_assignments": 1,
        "assignment_duration_seconds": 600,
        "lifetime_seconds": 86400,
        "auto_approval_delay_seconds": 86400,
        "exclude_soft_blocked": "on",
        "inputs": SimpleUploadedFile("animals.csv", data, content_type="text/csv"),
    }
    form.update(overrides)
    return form


def _assert_nothing_kept_or_published(fresh_emulator):
    assert PublishBatch.objects.count() == 0 and HITRequest.objects.count() == 0
    assert fresh_emulator.control.truth("hits")["hits"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"animal\ncat\n", "Missing column for the template&#x27;s variables: kind."),
        (b"animal,kind,colour\ncat,pet,red\n", "Column the template does not use: colour"),
        ("animal,kind\nchat,épée\n".encode("latin-1"), "The file is not UTF-8 text"),
    ],
)
def test_the_publish_form_refuses_a_bad_file_with_a_report(
    lab_admin_client, emulator_account, fresh_emulator, data, expected
):
    template = make_template(emulator_account)

    response = lab_admin_client.post(
        reverse("publish-new", args=[emulator_account.slug]), _form(template, data)
    )

    assert response.status_code == 400
    assert expected in response.content.decode()
    _assert_nothing_kept_or_published(fresh_emulator)


@pytest.mark.django_db
def test_an_oversize_question_is_refused_on_its_line(
    lab_admin_client, emulator_account, fresh_emulator
):
    template = make_template(emulator_account)
    big = "y" * 15_000
    # Escaped, each "<" becomes "&lt;": 4 bytes per character, over 64 KB on line 3 only.
    data = inputs_csv([{"animal": "cat", "kind": "pet"}, {"animal": "<" * 17_000, "kind": big}])

    response = lab_admin_client.post(
        reverse("publish-new", args=[emulator_account.slug]), _form(template, data)
    )

    assert response.status_code == 400
    problems = response.context["plan"].problems
    assert [p.line for p in problems] == [3]
    assert problems[0].message.startswith("The question is ")
    assert "at most 65,535 bytes (64 KB)" in problems[0].message
    _assert_nothing_kept_or_published(fresh_emulator)


@pytest.mark.django_db
@pytest.mark.parametrize("reward", ["0.00", "0.005", "-1", "a dollar"])
def test_a_reward_below_mturks_minimum_is_refused(
    lab_admin_client, emulator_account, fresh_emulator, reward
):
    template = make_template(emulator_account)

    response = lab_admin_client.post(
        reverse("publish-new", args=[emulator_account.slug]),
        _form(template, inputs_csv(animal_rows(2)), reward=reward),
    )

    assert response.status_code == 400
    assert response.context["form"].errors["reward"]
    _assert_nothing_kept_or_published(fresh_emulator)


@pytest.mark.django_db
def test_the_service_refuses_a_reward_below_the_minimum_too(emulator_account, fresh_emulator):
    batch, plan = draft(emulator_account, inputs_csv(animal_rows(2)), reward="0.00")

    assert not plan.ok and batch.pk is None
    assert plan.errors == ["The reward must be at least $0.01, in whole cents."]


@pytest.mark.django_db
def test_more_than_10_requirements_are_refused(emulator_account, fresh_emulator):
    requirements = [
        {"QualificationTypeId": f"QT{i:02d}", "Comparator": "Exists", "ActionsGuarded": "Accept"}
        for i in range(10)
    ]

    ten, plan_ten = draft(emulator_account, inputs_csv(animal_rows(2)), requirements=requirements)
    # Micro-batching adds its exclusion: eleven.
    eleven, plan = draft(
        emulator_account,
        inputs_csv(animal_rows(2)),
        requirements=requirements,
        micro_batching=True,
        max_assignments=20,
    )

    assert plan_ten.ok
    assert not plan.ok and eleven.pk is None
    assert plan.errors == [
        "11 qualification requirements (with the micro-batching exclusion); MTurk allows at most 10."
    ]


@pytest.mark.django_db
def test_a_batch_above_the_budget_cap_is_refused(
    lab_admin_client, emulator_account, fresh_emulator
):
    emulator_account.budget_cap = Decimal("5.00")
    emulator_account.save(update_fields=["budget_cap"])
    SyncState.objects.update_or_create(
        account=emulator_account, defaults={"available_balance": Decimal("10000.00")}
    )
    template = make_template(emulator_account)
    # 50 HITs x 1 assignment x ($0.10 + $0.02 fee) = $6.00, over the $5.00 cap.
    data = inputs_csv(animal_rows(50))

    response = lab_admin_client.post(
        reverse("publish-new", args=[emulator_account.slug]), _form(template, data)
    )

    assert response.status_code == 400
    estimate = response.context["plan"].estimate
    assert estimate.total == Decimal("6.00")
    assert estimate.refusals == [
        "The batch costs $6.00 with MTurk's fees, over the account's budget cap of $5.00 per publish."
    ]
    _assert_nothing_kept_or_published(fresh_emulator)


@pytest.mark.django_db
def test_requirements_are_the_presets_then_the_lab_exclusions_asked_for(account):
    from people.models import StudyGroup
    from publishing.models import RequirementPreset
    from publishing.publish import requirements_for
    from qualifications.enums import LabPurpose
    from qualifications.models import QualificationType

    QualificationType.objects.create(
        account=account,
        qualification_type_id="QSOFT",
        name="Soft",
        lab_purpose=LabPurpose.SOFT_BLOCK,
    )
    group_type = QualificationType.objects.create(
        account=account, qualification_type_id="QGROUP", name="Group"
    )
    group = StudyGroup.objects.create(account=account, name="Wave", qualification_type=group_type)
    masters = {"QualificationTypeId": "QMASTERS", "Comparator": "Exists"}
    preset = RequirementPreset.objects.create(
        account=account, name="Masters", requirements=[masters]
    )

    def absent(qtid):
        return {
            "QualificationTypeId": qtid,
            "Comparator": "DoesNotExist",
            "ActionsGuarded": "DiscoverPreviewAndAccept",
        }

    assert requirements_for(
        account=account, preset=preset, exclude_soft_blocked=True, study_groups=[group]
    ) == [masters, absent("QSOFT"), absent("QGROUP")]
    assert requirements_for(
        account=account, preset=None, exclude_soft_blocked=False, study_groups=[group]
    ) == [absent("QGROUP")]
    assert (
        requirements_for(account=account, preset=None, exclude_soft_blocked=False, study_groups=[])
        == []
    )
