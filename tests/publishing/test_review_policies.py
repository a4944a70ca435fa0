"""Review policies when publishing: the form's checks (nothing kept on a refusal), and a batch
published with ScoreMyKnownAnswers and SimplePlurality whose results, once the emulator's workers
have answered and the sync has read them, appear on the HIT page and in the review grid."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard.enums import JobState
from dashboard.jobs import run_job
from dashboard.models import Job
from dashboard.mturk_access import account_gateway
from hits.models import HIT, Assignment
from hits.review import forget_analyses
from mirror.sync import run_sync
from publishing import publish
from publishing.models import HITRequest, PublishBatch
from tests.publishing.publish_fixtures import animal_rows, draft, inputs_csv, make_template

pytestmark = pytest.mark.django_db

KNOWN = {
    "column": "gold",
    "question_id": "answer",
    "approve_at": 100,
    "approve_reason": "",
    "reject_below": None,
    "reject_reason": "",
}


def _rows(golds: list[str]) -> list[dict[str, str]]:
    return [{**row, "gold": gold} for row, gold in zip(animal_rows(len(golds)), golds, strict=True)]


def _form(template, data: bytes, *, max_assignments: int = 3, **policy: object) -> dict:
    return {
        "label": "animals-1",
        "template": template.pk,
        "title": "Is it a cat?",
        "description": "Say whether the animal is of the kind",
        "keywords": "animals",
        "reward": "0.10",
        "max_assignments": max_assignments,
        "assignment_duration_seconds": 600,
        "lifetime_seconds": 86400,
        "auto_approval_delay_seconds": 86400,
        "inputs": SimpleUploadedFile("animals.csv", data, content_type="text/csv"),
        **{f"policy-{key}": value for key, value in policy.items()},
    }


def _post(client, account, data: dict):
    return client.post(reverse("publish-new", args=[account.slug]), data)


@pytest.mark.parametrize(
    ("policy", "max_assignments", "expected"),
    [
        (
            {"answer_column": "gold", "known_approve_at": 50, "known_reject_below": 80},
            3,
            "the rejection score must not exceed the approval score",
        ),
        ({"answer_column": "gold", "known_approve_at": 150}, 3, "less than or equal to 100"),
        ({"known_approve_at": 80}, 3, "Name the inputs column that holds each item"),
        (
            {"plurality_question_ids": "answer", "plurality_threshold": 50},
            1,
            "it needs at least 2 assignments per HIT (this batch would have HITs of 1)",
        ),
        ({"plurality_question_ids": "answer"}, 3, "Give the agreement threshold"),
        ({"plurality_threshold": 50}, 3, "Name at least one question"),
    ],
)
def test_bad_policy_settings_are_refused_clearly_and_nothing_is_kept(
    lab_admin_client, emulator_account, policy, max_assignments, expected
):
    template = make_template(emulator_account)
    data = inputs_csv(_rows(["yes", "no"]))

    response = _post(
        lab_admin_client,
        emulator_account,
        _form(template, data, max_assignments=max_assignments, **policy),
    )

    assert response.status_code == 400
    assert expected in response.content.decode()
    assert PublishBatch.objects.count() == 0


@pytest.mark.parametrize(
    ("rows", "columns", "policy", "expected"),
    [
        # The answer column named in the policies is not in the file.
        (
            animal_rows(2),
            None,
            {"answer_column": "gold"},
            "Missing the known-answer column gold (named in the review policies).",
        ),
        # One item has no known answer: a bad line refuses the whole file.
        (_rows(["yes", ""]), None, {"answer_column": "gold"}, "Empty value for gold."),
        # The known answer would be shown to the workers.
        (
            animal_rows(2),
            None,
            {"answer_column": "kind"},
            "The known-answer column “kind” is a variable of the template",
        ),
        # Without the policy, the answer column is a column the template does not use.
        (_rows(["yes", "no"]), None, {}, "Column the template does not use: gold"),
    ],
)
def test_the_inputs_are_checked_against_the_known_answer_column(
    lab_admin_client, emulator_account, rows, columns, policy, expected
):
    template = make_template(emulator_account)

    response = _post(
        lab_admin_client,
        emulator_account,
        _form(template, inputs_csv(rows, columns=columns), **policy),
    )

    assert response.status_code == 400
    assert expected in response.content.decode()
    assert PublishBatch.objects.count() == 0


def test_valid_policies_are_kept_on_the_batch_and_shown_on_its_page(
    lab_admin_client, emulator_account
):
    template = make_template(emulator_account)

    response = _post(
        lab_admin_client,
        emulator_account,
        _form(
            template,
            inputs_csv(_rows(["yes", "no"])),
            answer_column="gold",
            answer_question_id="answer",
            known_approve_at=100,
            known_reject_below=50,
            known_reject_reason="The check question was missed.",
            plurality_question_ids="answer, answer",
            plurality_threshold=50,
            plurality_reject_below=50,
        ),
    )

    assert response.status_code == 302
    batch = PublishBatch.objects.get()
    assert batch.review_policies == {
        "known_answers": {
            "column": "gold",
            "question_id": "answer",
            "approve_at": 100,
            "approve_reason": "",
            "reject_below": 50,
            "reject_reason": "The check question was missed.",
        },
        "plurality": {
            "question_ids": ["answer"],
            "agreement_threshold": 50,
            "approve_at": None,
            "reject_below": 50,
            "reject_reason": "",
        },
    }
    form_page = lab_admin_client.get(reverse("publish-new", args=[emulator_account.slug]))
    assert 'name="policy-answer_column"' in form_page.content.decode()
    page = lab_admin_client.get(response["Location"]).content.decode()
    assert "Known answers: “answer” checked against the column “gold”" in page
    assert "Plurality on answer (agreement above 50%)" in page


def test_a_batch_without_policies_keeps_none(lab_admin_client, emulator_account):
    template = make_template(emulator_account)

    response = _post(
        lab_admin_client,
        emulator_account,
        _form(template, inputs_csv(animal_rows(2)), max_assignments=1),
    )

    assert response.status_code == 302
    assert PublishBatch.objects.get().review_policies == {}


def test_the_known_answer_never_reaches_the_question():
    batch = PublishBatch(review_policies={"known_answers": KNOWN})
    assert publish.question_inputs(batch, {"animal": "cat", "gold": "yes"}) == {"animal": "cat"}
    assert publish.question_inputs(PublishBatch(), {"animal": "cat"}) == {"animal": "cat"}


def test_a_service_made_draft_is_checked_too(emulator_account):
    # create_draft (not only the form) refuses plurality on HITs of one assignment.
    batch, plan = publish.create_draft(
        account=emulator_account,
        label="animals-1",
        template=make_template(emulator_account),
        hit_settings={
            "title": "t",
            "description": "d",
            "reward": "0.10",
            "max_assignments": 10,
        },
        requirements=[],
        micro_batching=True,  # 9 + 1
        inputs_filename="a.csv",
        inputs=inputs_csv(animal_rows(1)),
        requested_by=None,
        policies={"plurality": {"question_ids": ["answer"], "agreement_threshold": 50}},
    )
    assert not plan.ok and batch.pk is None
    assert any("this batch would have HITs of 1" in error for error in plan.errors)
    # The same without policies is fine.
    assert draft(emulator_account, inputs_csv(animal_rows(1)))[1].ok


def test_policies_act_on_the_work_and_their_results_appear_on_the_hit_page_and_in_the_grid(
    lab_admin_client,
    staff_client,
    emulator_account,
    fresh_emulator,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    forget_analyses()
    control = fresh_emulator.control
    template = make_template(emulator_account)
    response = _post(
        lab_admin_client,
        emulator_account,
        _form(
            template,
            inputs_csv(_rows(["yes", "no"])),
            max_assignments=3,
            answer_column="gold",
            answer_question_id="answer",
            known_approve_at=100,
            plurality_question_ids="answer",
            plurality_threshold=50,
            plurality_reject_below=50,
            plurality_reject_reason="Your answer disagreed with most workers.",
        ),
    )
    assert response.status_code == 302, response.content.decode()
    batch = PublishBatch.objects.get()
    token = lab_admin_client.get(response["Location"]).context["form"].initial["confirmation"]
    with django_capture_on_commit_callbacks(execute=True):
        lab_admin_client.post(
            reverse("publish-batch-confirm", args=[emulator_account.slug, batch.pk]),
            {"confirmation": token},
        )
    assert Job.objects.get().state == JobState.SUCCEEDED
    batch.refresh_from_db()

    # MTurk got each item's answer key, never the answer in the question.
    created = {h["HITId"]: h for h in control.truth("hits")["hits"]}
    requests = {r.row_number: r for r in HITRequest.objects.filter(batch=batch)}
    assert set(created) == {r.hit_id for r in requests.values()}
    with account_gateway(emulator_account) as gateway:
        for line, gold in ((2, "yes"), (3, "no")):
            sent = gateway.list_review_policy_results_for_hit(hit_id=requests[line].hit_id)
            assert sent.assignment_review_policy is not None and sent.hit_review_policy is not None
            (key,) = [
                p for p in sent.assignment_review_policy["Parameters"] if p["Key"] == "AnswerKey"
            ]
            assert key["MapEntries"] == [{"Key": "answer", "Values": [gold]}]
    # Published with policies: marked for the sync; the reviewers still see the known answer.
    hits = {h.hit_id: h for h in HIT.objects.filter(account=emulator_account)}
    assert all(h.review_policy_results == {} for h in hits.values())
    assert hits[requests[2].hit_id].inputs["gold"] == "yes"

    # Item 1 (known answer "yes"): two workers right, one wrong. Item 2 ("no"): all say "no".
    workers = [control.add_worker(WorkerId=f"APOLICYWORKER{i}")["WorkerId"] for i in range(3)]
    answers = {2: ["yes", "yes", "no"], 3: ["no", "no", "no"]}
    assignment_of = {}
    for line, given in answers.items():
        for worker_id, answer in zip(workers, given, strict=True):
            accepted = control.accept(worker_id, requests[line].hit_id)
            control.submit(accepted["AssignmentId"], {"answer": answer})
            assignment_of[(line, worker_id)] = accepted["AssignmentId"]

    assert run_sync(account=emulator_account, kind="reviewable").ok

    first = HIT.objects.get(hit_id=requests[2].hit_id)
    results = first.review_policy_results
    assert results["policies"] == [
        "Assignment: ScoreMyKnownAnswers/2011-09-01",
        "HIT: SimplePlurality/2011-09-01",
    ]
    wrong = assignment_of[(2, workers[2])]
    right = assignment_of[(2, workers[0])]
    scores = {
        (r["SubjectId"], r["Key"]): r["Value"]
        for r in results["results"]
        if r["Key"] in ("KnownAnswerScore", "WorkerAgreementScore")
    }
    assert (
        scores[(wrong, "KnownAnswerScore")] == "0" and scores[(right, "KnownAnswerScore")] == "100"
    )
    # Known answers approved the right ones; plurality rejected the one that disagreed.
    statuses = dict(Assignment.objects.filter(hit=first).values_list("assignment_id", "status"))
    assert statuses[right] == "Approved" and statuses[wrong] == "Rejected"

    page = staff_client.get(reverse("hit-detail", args=[emulator_account.slug, first.hit_id]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Review policy results" in body
    assert "Assignment: ScoreMyKnownAnswers/2011-09-01 · HIT: SimplePlurality/2011-09-01" in body
    assert "KnownAnswerScore" in body and "WorkerAgreementScore" in body
    assert f"reject <code>{wrong}</code>: Succeeded" in body
    assert f"approve <code>{right}</code>: Succeeded" in body

    grid = staff_client.get(
        reverse("study-detail", args=[emulator_account.slug, batch.hit_type_id])
    ).content.decode()
    assert '<th scope="col">Review policy</th>' in grid
    row_of = {
        aid: grid.split(f'<tr id="a-{aid}"', 1)[1].split("</tr>", 1)[0] for aid in (right, wrong)
    }
    assert (
        '<td class="review-policy">known answers 100%<br>agreement 100%<br>'
        '<span class="policy-action">approved</span></td>' in row_of[right]
    )
    assert (
        '<td class="review-policy">known answers 0%<br>agreement 0%<br>'
        '<span class="policy-action">rejected</span></td>' in row_of[wrong]
    )


def test_the_grid_has_no_policy_column_without_policies(
    staff_client, emulator_account, fresh_emulator, eager_celery, admin_user
):
    forget_analyses()
    batch, plan = draft(emulator_account, inputs_csv(animal_rows(1)), user=admin_user)
    assert plan.ok
    job = publish.start_publish(batch=batch, requested_by=admin_user)
    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    control = fresh_emulator.control
    worker_id = control.add_worker(WorkerId="ANOPOLICYWORKER")["WorkerId"]
    hit_id = HITRequest.objects.get(batch=batch).hit_id
    accepted = control.accept(worker_id, hit_id)
    control.submit(accepted["AssignmentId"], {"answer": "yes"})
    assert run_sync(account=emulator_account, kind="reviewable").ok
    assert HIT.objects.get(hit_id=hit_id).review_policy_results is None

    batch.refresh_from_db()
    grid = staff_client.get(
        reverse("study-detail", args=[emulator_account.slug, batch.hit_type_id])
    ).content.decode()
    assert 'class="review-row' in grid and "Review policy" not in grid
