"""Publishing against the emulator: every HIT created exactly once with its row's inputs (through
throttling, service faults and a worker killed mid-job), the estimate equal to what MTurk charged
once the work is approved, micro-batching (9, 9, 2) with no worker answering an item twice, and
the pages (the allowed and the forbidden paths, a double-submitted confirmation)."""

from __future__ import annotations

import csv
import html
import io
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dashboard import intent_jobs, intents
from dashboard.enums import AuditOutcome, IntentState, JobState
from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import Progress, requeue_stale_jobs, run_job
from dashboard.models import AuditEvent, Job
from dashboard.mturk_access import account_gateway
from hits.models import HIT
from mirror.sync import run_sync
from mturk.batches import annotation_for
from mturk.errors import MTurkError
from publishing import publish, publish_jobs
from publishing.enums import BatchState
from publishing.models import HITRequest, PublishBatch
from publishing.questions import render_question
from tests.hits.test_decisions import balance
from tests.publishing.publish_fixtures import (
    animal_rows,
    draft,
    emulator_hits_by_item,
    inputs_csv,
    make_template,
)

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """The worker process dies: nothing after this point runs (not even `except Exception`)."""


class _NoSleep:
    def __getattr__(self, name: str):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        return None


@pytest.fixture
def no_backoff(monkeypatch):
    monkeypatch.setattr("botocore.endpoint.time", _NoSleep())
    monkeypatch.setattr(intent_jobs, "time", _NoSleep())
    monkeypatch.setattr(publish, "time", _NoSleep())


def _started(account, rows, *, user=None, **settings):
    batch, plan = draft(account, inputs_csv(rows), user=user, **settings)
    assert plan.ok, (plan.errors, plan.problems, plan.refusals)
    job = publish.start_publish(batch=batch, requested_by=user)
    return batch, job


def _expected_question_fragment(row: dict[str, str]) -> str:
    return f"Is {html.escape(row['animal'])} a {html.escape(row['kind'])}?"


@pytest.mark.slow
def test_300_rows_publish_exactly_300_hits_with_their_inputs_through_faults_and_a_killed_worker(
    emulator_account,
    fresh_emulator,
    eager_celery,
    no_backoff,
    admin_user,
    django_capture_on_commit_callbacks,
):
    control = fresh_emulator.control
    rows = animal_rows(300)
    batch, job = _started(emulator_account, rows, user=admin_user)
    assert HITRequest.objects.filter(job=job).count() == 300
    # A double submit finds the first job and records nothing more.
    assert publish.start_publish(batch=batch, requested_by=admin_user) == job
    assert HITRequest.objects.count() == 300 and Job.objects.count() == 1

    control.set_faults(seed=3, throttle_rate=0.1, fault_rate=0.1, latency_ms=0)
    # A first worker takes the job, creates 150 HITs and dies creating the 151st: MTurk has
    # created it, our row still says `sending`.
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), attempts=1
    )
    job.refresh_from_db()
    with account_gateway(emulator_account) as gateway:
        publish.ensure_hit_type(batch, gateway)
    finished = 0

    def dying_send(request_id: int, gateway):
        nonlocal finished
        if finished == 150:
            request = intents.claim(HITRequest, request_id, reclaim_sending=True)
            assert request is not None
            while True:
                try:
                    gateway.create_hit_with_hit_type(
                        hit_type_id=batch.hit_type_id,
                        lifetime_seconds=86400,
                        token=request.unique_request_token,
                        max_assignments=1,
                        requester_annotation=annotation_for(
                            batch.label, item=request.row_number, part=0
                        ),
                        question=render_question(
                            kind=batch.template_kind,
                            content=batch.template_content,
                            frame_height=batch.frame_height,
                            layout_id="",
                            inputs=request.inputs,
                        ).question,
                    )
                    break
                except MTurkError as exc:
                    if not exc.retryable:
                        raise
            raise WorkerKilled
        request = publish_jobs._send(request_id, gateway)
        if request is not None and request.state in (IntentState.DONE, IntentState.ALREADY):
            finished += 1
        return request

    with pytest.raises(WorkerKilled):
        carry_out_intents(job, Progress(job), model=HITRequest, send=dying_send)
    killed = HITRequest.objects.get(job=job, state=IntentState.SENDING)

    # Time passes; the janitor hands the job to another worker (inline here), which finishes it
    # without creating the 151st HIT again.
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    HITRequest.objects.filter(pk=killed.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert job.pk in requeue_stale_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.total, job.done, job.failed) == (300, 300, 0)
    killed.refresh_from_db()
    assert killed.state == IntentState.ALREADY

    control.set_faults(throttle_rate=0, fault_rate=0, latency_ms=0)
    errors = control.get("calls")["error_counts"]
    assert errors.get("Throttled", 0) > 10 and errors.get("ServiceFault", 0) > 10
    by_item = emulator_hits_by_item(control)
    assert len(by_item) == 300
    assert all(len(hits) == 1 for hits in by_item.values())  # no duplicates
    lines = {str(line): row for line, row in zip(range(2, 302), rows, strict=True)}
    for item, (hit,) in by_item.items():
        assert _expected_question_fragment(lines[item]) in hit["Question"]
    mirrored = dict(HIT.objects.filter(account=emulator_account).values_list("hit_id", "inputs"))
    assert len(mirrored) == 300
    requests = HITRequest.objects.filter(batch=batch)
    assert Counter(requests.values_list("state", flat=True)) == {
        IntentState.DONE: 299,
        IntentState.ALREADY: 1,
    }
    for request in requests:
        assert mirrored[request.hit_id] == lines[str(request.row_number)] == request.inputs
    batch.refresh_from_db()
    assert batch.state == BatchState.PUBLISHED and batch.hit_type_id


def test_the_estimate_equals_what_mturk_charged_once_everything_is_approved(
    emulator_account, fresh_emulator, eager_celery, admin_user
):
    control = fresh_emulator.control
    before = balance(control)
    batch, job = _started(
        emulator_account, animal_rows(3), user=admin_user, max_assignments=2, reward="0.37"
    )
    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    workers = [control.add_worker(WorkerId=f"AWORKER{i}")["WorkerId"] for i in range(2)]
    hit_ids = list(HITRequest.objects.filter(batch=batch).values_list("hit_id", flat=True))
    assignment_ids = []
    for hit_id in hit_ids:
        for worker_id in workers:
            accepted = control.accept(worker_id, hit_id)
            control.submit(accepted["AssignmentId"], {"answer": "yes"})
            assignment_ids.append(accepted["AssignmentId"])
    with account_gateway(emulator_account) as gateway:
        for assignment_id in assignment_ids:
            gateway.approve_assignment(assignment_id=assignment_id)

    spent = before - balance(control)
    # 6 assignments x ($0.37 + $0.07 fee, 20% of 37 cents rounded half up).
    assert Decimal(batch.estimate["total"]) == spent == Decimal("2.64")


def test_micro_batching_1_item_x_20_gives_hits_of_9_9_and_2_and_no_worker_answers_twice(
    emulator_account, fresh_emulator, eager_celery, admin_user, django_capture_on_commit_callbacks
):
    control = fresh_emulator.control
    control.post("crowd", {"count": 40, "mix": {"careful": 1}, "speed": 5})
    control.post("crowd/start")
    batch, job = _started(
        emulator_account, animal_rows(1), user=admin_user, micro_batching=True, max_assignments=20
    )
    assert batch.estimate["parts_per_item"] == [9, 9, 2]
    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    batch.refresh_from_db()
    qtype_id = batch.hit_settings[publish.EXCLUSION_KEY]
    hit_type = next(
        t for t in control.truth("hit_types")["hit_types"] if t["HITTypeId"] == batch.hit_type_id
    )
    assert {
        "QualificationTypeId": qtype_id,
        "Comparator": "DoesNotExist",
        "ActionsGuarded": "DiscoverPreviewAndAccept",
    } in hit_type["QualificationRequirements"]

    for _round in range(12):
        control.advance(1800)  # the crowd works on the emulated clock
        # The next part's HIT is sent by its own task once the part is recorded (committed).
        with (
            django_capture_on_commit_callbacks(execute=True),
            account_gateway(emulator_account) as gateway,
        ):
            publish.advance_micro_batches(batch=batch, gateway=gateway)
        batch.refresh_from_db()
        if batch.state == BatchState.PUBLISHED and all(
            hit["NumberOfAssignmentsAvailable"] == 0 and hit["NumberOfAssignmentsPending"] == 0
            for hits in emulator_hits_by_item(control).values()
            for hit in hits
        ):
            break
    control.post("crowd/stop")

    (hits,) = emulator_hits_by_item(control).values()
    assert sorted(hit["MaxAssignments"] for hit in hits) == [2, 9, 9]
    assert batch.state == BatchState.PUBLISHED
    hit_ids = {hit["HITId"] for hit in hits}
    answered = [
        a["WorkerId"]
        for a in control.truth("assignments")["assignments"]
        if a["HITId"] in hit_ids and a["AssignmentStatus"] in ("Submitted", "Approved", "Rejected")
    ]
    assert len(answered) == 20
    assert len(set(answered)) == 20  # nobody answered the item twice


def _publish_form(template, data: bytes) -> dict:
    return {
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
        "inputs": SimpleUploadedFile("animals.csv", data, content_type="text/csv"),
    }


def test_an_admin_publishes_through_the_pages_once_whatever_the_number_of_posts(
    lab_admin_client,
    staff_client,
    emulator_account,
    fresh_emulator,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    template = make_template(emulator_account)
    rows = animal_rows(4)

    response = lab_admin_client.post(
        reverse("publish-new", args=[emulator_account.slug]),
        _publish_form(template, inputs_csv(rows)),
    )
    assert response.status_code == 302
    batch = PublishBatch.objects.get()
    page = lab_admin_client.get(response["Location"])
    assert page.status_code == 200 and "Publish 4 HITs ($0.48 with fees)" in page.content.decode()
    token = page.context["form"].initial["confirmation"]
    # Research staff see the batch but get no confirmation, and may not confirm.
    staff_page = staff_client.get(response["Location"])
    assert staff_page.status_code == 200 and "form" not in staff_page.context
    confirm = reverse("publish-batch-confirm", args=[emulator_account.slug, batch.pk])
    assert staff_client.post(confirm, {"confirmation": token}).status_code == 403

    with django_capture_on_commit_callbacks(execute=True):
        first = lab_admin_client.post(confirm, {"confirmation": token})
    job = Job.objects.get()
    assert first.status_code == 302 and first["Location"] == job.get_absolute_url()
    again = lab_admin_client.post(confirm, {"confirmation": token})
    assert again.status_code == 302 and again["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and (job.done, job.failed) == (4, 0)
    assert len(fresh_emulator.control.truth("hits")["hits"]) == 4
    batch.refresh_from_db()
    assert batch.state == BatchState.PUBLISHED

    listing = staff_client.get(reverse("publish-list", args=[emulator_account.slug]))
    assert listing.status_code == 200 and "animals-1" in listing.content.decode()
    shown = staff_client.get(reverse("publish-batch", args=[emulator_account.slug, batch.pk]))
    assert shown.status_code == 200 and shown.context["counts"][IntentState.DONE] == 4
    assert len(shown.context["page"].object_list) == 4
    # On to the answers: the study's review grid, filtered to this batch.
    hits_batch = HIT.objects.get(hit_id=HITRequest.objects.get(row_number=2).hit_id).batch
    assert hits_batch is not None and hits_batch.name == "animals-1"
    review_url = reverse("study-detail", args=[emulator_account.slug, batch.hit_type_id])
    assert shown.context["review_url"] == f"{review_url}?batch={hits_batch.pk}"
    assert f'href="{review_url}?batch={hits_batch.pk}"' in shown.content.decode()
    # The HIT's page shows the inputs it was made from.
    hit = HIT.objects.get(hit_id=HITRequest.objects.get(row_number=2).hit_id)
    hit_page = staff_client.get(reverse("hit-detail", args=[emulator_account.slug, hit.hit_id]))
    assert "animal=animal &lt;0&gt; &amp; co" in hit_page.content.decode()


def test_an_unconfirmed_post_publishes_nothing(lab_admin_client, emulator_account, fresh_emulator):
    batch, plan = draft(emulator_account, inputs_csv(animal_rows(2)))
    assert plan.ok

    response = lab_admin_client.post(
        reverse("publish-batch-confirm", args=[emulator_account.slug, batch.pk]),
        {"confirmation": "forged"},
    )

    assert response.status_code == 400
    assert "Nothing was published" in response.content.decode()
    assert Job.objects.count() == 0 and HITRequest.objects.count() == 0


def test_research_staff_may_not_publish(staff_client, emulator_account, fresh_emulator):
    assert staff_client.get(reverse("publish-new", args=[emulator_account.slug])).status_code == 403


def test_inputs_are_kept_through_a_sync_and_shown_beside_the_answers(
    staff_client, emulator_account, fresh_emulator, eager_celery, admin_user
):
    control = fresh_emulator.control
    rows = animal_rows(2)
    batch, job = _started(emulator_account, rows, user=admin_user)
    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    worker_id = control.add_worker(WorkerId="AINPUTSWORKER")["WorkerId"]
    for request in HITRequest.objects.filter(batch=batch):
        accepted = control.accept(worker_id, request.hit_id)
        control.submit(accepted["AssignmentId"], {"answer": f"yes-{request.row_number}"})

    assert run_sync(account=emulator_account, kind="full").ok
    batch.refresh_from_db()
    inputs = dict(HIT.objects.filter(account=emulator_account).values_list("hit_id", "inputs"))
    assert sorted(inputs.values(), key=str) == sorted(rows, key=str)  # the sync kept them

    grid = staff_client.get(
        reverse("study-detail", args=[emulator_account.slug, batch.hit_type_id])
    )
    content = grid.content.decode()
    assert grid.status_code == 200
    assert "animal=animal &lt;0&gt; &amp; co" in content and "kind=kind-1" in content

    download = staff_client.get(
        reverse("results-download", args=[emulator_account.slug, batch.hit_type_id])
    )
    text = (
        b"".join(download.streaming_content).decode()
        if download.streaming
        else download.content.decode()
    )
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == 2
    assert {(r["Input.animal"], r["Input.kind"], r["Answer.answer"]) for r in records} == {
        ("animal <0> & co", "kind-0", "yes-2"),
        ("animal <1> & co", "kind-1", "yes-3"),
    }


def test_the_batch_page_answers_htmx_polls_with_its_rows_only(
    staff_client, emulator_account, fresh_emulator, admin_user
):
    batch, job = _started(emulator_account, animal_rows(2), user=admin_user)

    response = staff_client.get(
        reverse("publish-batch", args=[emulator_account.slug, batch.pk]), HTTP_HX_REQUEST="true"
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section id="batch-rows"')
    assert "<html" not in content and 'hx-trigger="every 2s"' in content  # the job is running


def test_a_hit_type_mturk_refuses_fails_each_hit_for_good_with_an_audit_event(
    emulator_account, fresh_emulator, eager_celery, admin_user
):
    # A requirement on a qualification type MTurk does not know (disposed since it was picked):
    # the dry run cannot tell, CreateHITType refuses it, and no HIT can be created.
    missing = {"QualificationTypeId": "3NOSUCHTYPE0000000000000000000", "Comparator": "Exists"}
    batch, job = _started(emulator_account, animal_rows(2), user=admin_user, requirements=[missing])

    assert run_job(job_id=job.pk) == JobState.FAILED

    requests = list(HITRequest.objects.filter(batch=batch).order_by("row_number"))
    assert [r.state for r in requests] == [IntentState.FAILED, IntentState.FAILED]
    assert all("does not exist" in r.error and r.finished_at for r in requests)
    events = list(AuditEvent.objects.filter(action="hit.create").order_by("pk"))
    assert len(events) == 2
    for event, request in zip(events, requests, strict=True):
        assert event.outcome == AuditOutcome.FAILED
        assert event.actor == admin_user and event.account == emulator_account
        assert event.target_ids == {"batch": batch.label}
        assert event.parameters["row"] == request.row_number
        assert event.parameters["stage"] == "hit_type"
        assert "does not exist" in event.error
    assert fresh_emulator.control.truth("hits")["hits"] == []


def test_a_question_that_no_longer_renders_fails_with_an_audit_event(
    emulator_account, fresh_emulator, eager_celery, admin_user
):
    batch, job = _started(emulator_account, animal_rows(1), user=admin_user)
    # The snapshot changed after the dry run (only a changed template module could do this).
    PublishBatch.objects.filter(pk=batch.pk).update(template_content="<p>${not_an_input}</p>")

    run_job(job_id=job.pk)

    request = HITRequest.objects.get(batch=batch)
    assert request.state == IntentState.FAILED and "not_an_input" in request.error
    event = AuditEvent.objects.get(action="hit.create")
    assert event.outcome == AuditOutcome.FAILED and event.parameters["stage"] == "question"
    assert "not_an_input" in event.error
    assert fresh_emulator.control.truth("hits")["hits"] == []


def test_a_single_hit_request_whose_hit_type_is_refused_fails_with_an_audit_event(
    emulator_account, fresh_emulator, admin_user
):
    # The path of a row sent on its own (e.g. requeued by the janitor), not by the batch's job.
    missing = {"QualificationTypeId": "3NOSUCHTYPE0000000000000000000", "Comparator": "Exists"}
    batch, _job = _started(
        emulator_account, animal_rows(1), user=admin_user, requirements=[missing]
    )
    request = HITRequest.objects.get(batch=batch)

    with account_gateway(emulator_account) as gateway:
        ended = publish.execute_hit_request(request_id=request.pk, gateway=gateway)

    assert ended is not None and ended.state == IntentState.FAILED
    request.refresh_from_db()
    assert request.state == IntentState.FAILED and "does not exist" in request.error
    event = AuditEvent.objects.get(action="hit.create")
    assert event.outcome == AuditOutcome.FAILED and event.parameters["stage"] == "hit_type"
    assert event.mturk_request_id == request.mturk_request_id != ""
