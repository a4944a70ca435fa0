"""Qualifications from a study's review, against the emulator over real HTTP: the workers who agree
with the majority get the type after a preview and a confirmation, and the grid's ticked rows'
workers too; each grant is sent once (the emulator's truth and call counts say so)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.enums import IntentState
from dashboard.models import Job
from hits import review
from hits.qualify import derived_candidates
from qualifications.models import QualificationGrant, QualificationType
from tests.factories import AssignmentFactory, HITFactory, HITTypeFactory, WorkerFactory
from tests.htmlcheck import nested_forms

# Three HITs answered by three workers each: AAGREE1 and AAGREE2 always form the majority,
# ADISSENT never; ALONE answered one HIT only (with the majority), so too few answers compared.
ANSWERS = {
    "AAGREE1": ["cat", "dog", "cat"],
    "AAGREE2": ["cat", "dog", "cat"],
    "ADISSENT": ["dog", "cat", "bird"],
}


@pytest.fixture(autouse=True)
def _fresh_analyses():
    # The analysis cache is per process and keyed by row ids a rolled-back test may reuse.
    review._ANALYSES.clear()
    yield
    review._ANALYSES.clear()


def make_study(account):
    hit_type = HITTypeFactory(account=account, hit_type_id="3QUALIFYSTUDY", title="Animals")
    workers = {w: WorkerFactory(account=account, worker_id=w) for w in [*ANSWERS, "ALONE"]}
    assignments = {}
    for n in range(3):
        hit = HITFactory(hit_type=hit_type, hit_id=f"3QUALIFYHIT{n}")
        for worker_id, labels in ANSWERS.items():
            assignments[(worker_id, n)] = AssignmentFactory(
                hit=hit,
                worker=workers[worker_id],
                assignment_id=f"3QA{worker_id}{n}",
                answers={"label": labels[n]},
            )
        if n == 0:
            assignments[("ALONE", n)] = AssignmentFactory(
                hit=hit,
                worker=workers["ALONE"],
                assignment_id="3QAALONE0",
                answers={"label": "cat"},
            )
    return hit_type, assignments


def calls(control, operation: str) -> int:
    return control.truth("calls")["call_counts"].get(operation, 0)


def held(control, type_id: str) -> dict[str, int | None]:
    return {
        q["WorkerId"]: q.get("IntegerValue")
        for q in control.truth("qualifications")["qualifications"]
        if q["QualificationTypeId"] == type_id and q["Status"] == "Granted"
    }


@pytest.fixture
def gold_type(emulator_account, account_gateway, fresh_emulator) -> QualificationType:
    record = account_gateway.create_qualification_type(
        name="Agrees with the majority", description="Did study A well"
    )
    for worker_id in [*ANSWERS, "ALONE"]:
        fresh_emulator.control.add_worker(WorkerId=worker_id)
    return QualificationType.objects.create(
        account=emulator_account,
        qualification_type_id=record.qualification_type_id,
        name=record.name or "",
        status="Active",
    )


def test_candidates_follow_the_threshold_and_the_answers_compared(db, account):
    hit_type, _ = make_study(account)
    qtype = QualificationType.objects.create(
        account=account, qualification_type_id="QT1", name="Gold"
    )

    strict = derived_candidates(
        hit_type=hit_type, qualification_type=qtype, threshold=0.8, min_compared=2
    )
    loose = derived_candidates(
        hit_type=hit_type, qualification_type=qtype, threshold=0.8, min_compared=1
    )
    everyone = derived_candidates(
        hit_type=hit_type, qualification_type=qtype, threshold=0.0, min_compared=1
    )

    assert [(c.worker_id, c.agreement, c.compared) for c in strict] == [
        ("AAGREE1", 1.0, 3),
        ("AAGREE2", 1.0, 3),
    ]
    assert [c.worker_id for c in loose] == ["AAGREE1", "AAGREE2", "ALONE"]
    assert [c.worker_id for c in everyone][-1] == "ADISSENT"


@pytest.mark.django_db(transaction=True)
def test_derived_grants_are_previewed_then_sent_once(
    emulator_account, fresh_emulator, gold_type, lab_admin_client, eager_celery
):
    hit_type, _ = make_study(emulator_account)
    url = reverse(
        "study-qualify", kwargs={"slug": emulator_account.slug, "hit_type_id": hit_type.hit_type_id}
    )
    confirm_url = reverse(
        "study-qualify-confirm",
        kwargs={"slug": emulator_account.slug, "hit_type_id": hit_type.hit_type_id},
    )
    choice = {
        "qualification_type": gold_type.qualification_type_id,
        "threshold": "80",
        "min_compared": "2",
        "value": "90",
    }

    form = lab_admin_client.get(url)
    preview = lab_admin_client.post(url, choice)

    assert form.status_code == 200 and nested_forms(form.content.decode()) == []
    assert preview.status_code == 200
    assert [c.worker_id for c in preview.context["candidates"]] == ["AAGREE1", "AAGREE2"]
    html = preview.content.decode()
    assert html.count('class="candidate"') == 2 and "100%" in html
    assert calls(fresh_emulator.control, "AssociateQualificationWithWorker") == 0
    assert not QualificationGrant.objects.exists()  # nothing before the confirmation

    post = {
        **choice,
        "worker": ["AAGREE1", "AAGREE2"],
        "confirmation": preview.context["confirmation"],
    }
    # The token is bound to exactly the workers listed: adding one is refused, nothing sent.
    widened = lab_admin_client.post(
        confirm_url, {**post, "worker": ["AAGREE1", "AAGREE2", "ADISSENT"]}
    )
    assert widened.status_code == 409
    assert not QualificationGrant.objects.exists()

    first = lab_admin_client.post(confirm_url, post)
    second = lab_admin_client.post(confirm_url, post)

    assert first.status_code == 302
    assert second.status_code == 409
    assert held(fresh_emulator.control, gold_type.qualification_type_id) == {
        "AAGREE1": 90,
        "AAGREE2": 90,
    }
    assert calls(fresh_emulator.control, "AssociateQualificationWithWorker") == 2
    job = Job.objects.get(kind="qualification.grant")
    assert first["Location"] == job.get_absolute_url()
    assert set(QualificationGrant.objects.filter(job=job).values_list("state", flat=True)) == {
        IntentState.DONE
    }
    assert (
        "agreement with the majority at least 80%"
        in QualificationGrant.objects.first().reason.lower()
    )


@pytest.mark.django_db
def test_derived_form_refuses_bad_input_with_a_message(
    emulator_account, gold_type, lab_admin_client
):
    hit_type, _ = make_study(emulator_account)
    url = reverse(
        "study-qualify", kwargs={"slug": emulator_account.slug, "hit_type_id": hit_type.hit_type_id}
    )

    response = lab_admin_client.post(
        url, {"qualification_type": "NOPE", "threshold": "150", "min_compared": "0"}
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"qualification_type", "threshold", "min_compared"}


@pytest.mark.django_db(transaction=True)
def test_grant_to_the_grids_ticked_workers(
    emulator_account, fresh_emulator, gold_type, lab_admin_client, eager_celery
):
    hit_type, assignments = make_study(emulator_account)
    kwargs = {"slug": emulator_account.slug, "hit_type_id": hit_type.hit_type_id}
    grid = lab_admin_client.get(reverse("study-detail", kwargs=kwargs))
    assert reverse("study-qualify-selected", kwargs=kwargs) in grid.content.decode()
    ticked = [assignments[("ADISSENT", 0)].assignment_id, assignments[("ALONE", 0)].assignment_id]

    # The grid's bulk form posts everything it holds; only `selected` counts.
    page = lab_admin_client.post(
        reverse("study-qualify-selected", kwargs=kwargs),
        {"selected": [*ticked, assignments[("ALONE", 0)].assignment_id], "action": "approve"},
    )

    assert page.status_code == 200
    assert page.context["workers"] == ["ADISSENT", "ALONE"]
    assert nested_forms(page.content.decode()) == []
    post = {
        "worker": ["ADISSENT", "ALONE"],
        "qualification_type": gold_type.qualification_type_id,
        "value": "5",
        "confirmation": page.context["confirmation"],
    }
    first = lab_admin_client.post(reverse("study-qualify-selected-confirm", kwargs=kwargs), post)
    second = lab_admin_client.post(reverse("study-qualify-selected-confirm", kwargs=kwargs), post)

    assert (first.status_code, second.status_code) == (302, 409)
    assert held(fresh_emulator.control, gold_type.qualification_type_id) == {
        "ADISSENT": 5,
        "ALONE": 5,
    }
    assert calls(fresh_emulator.control, "AssociateQualificationWithWorker") == 2


@pytest.mark.django_db
def test_no_ticked_rows_goes_back_to_the_study(emulator_account, lab_admin_client):
    hit_type, _ = make_study(emulator_account)
    kwargs = {"slug": emulator_account.slug, "hit_type_id": hit_type.hit_type_id}

    response = lab_admin_client.post(reverse("study-qualify-selected", kwargs=kwargs), {})

    assert response.status_code == 302
    assert response["Location"] == reverse("study-detail", kwargs=kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [("anonymous", 302), ("staff", 403), ("admin", 200), ("other_staff", 404)],
)
def test_who_may_grant_from_a_study(personas, account, other_account, persona, expected):
    hit_type, assignments = make_study(account)
    kwargs = {"slug": account.slug, "hit_type_id": hit_type.hit_type_id}
    client = personas[persona]

    form = client.get(reverse("study-qualify", kwargs=kwargs))
    selected = client.post(
        reverse("study-qualify-selected", kwargs=kwargs),
        {"selected": [assignments[("AAGREE1", 0)].assignment_id]},
    )

    assert (form.status_code, selected.status_code) == (expected, expected)
    if persona == "anonymous":
        assert form["Location"].startswith(reverse("login"))
    if persona == "staff":
        grid = client.get(reverse("study-detail", kwargs=kwargs)).content.decode()
        assert reverse("study-qualify-selected", kwargs=kwargs) not in grid
    assert not QualificationGrant.objects.exists()
