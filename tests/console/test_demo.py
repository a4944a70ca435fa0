"""The demo study: published on the emulator by a job, wired to the webhook, idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from console.demo import DEMO_BATCH, DEMO_HITS
from dashboard.enums import AuditOutcome, JobState
from dashboard.jobs import run_job, start_job
from dashboard.models import AuditEvent, Job, RequesterAccount
from hits.models import Batch

pytestmark = pytest.mark.django_db


def test_the_demo_study_is_published_once(emulator_account, fresh_emulator):
    params = {"webhook_base_url": "http://127.0.0.1:8000", "wait_for_web": False}
    first = start_job(
        account=emulator_account, kind="demo.publish", title="demo", parameters=params
    )
    second = start_job(
        account=emulator_account, kind="demo.publish", title="demo again", parameters=params
    )

    assert run_job(job_id=first.pk) == JobState.SUCCEEDED
    assert run_job(job_id=second.pk) == JobState.SUCCEEDED

    truth = fresh_emulator.control.truth("hits", "hit_types")
    assert len(truth["hits"]) == DEMO_HITS
    assert {h["MaxAssignments"] for h in truth["hits"]} == {3}
    (hit_type,) = truth["hit_types"]
    assert hit_type["NotificationActive"] and hit_type["Notification"]["Transport"] == "SNS"
    assert Job.objects.get(pk=second.pk).result["created"] == 0
    emulator_account.refresh_from_db()
    assert emulator_account.sns_trusted_certificate and emulator_account.sns_topic_arn
    subscriptions = fresh_emulator.control.get("sns/subscriptions")["Subscriptions"]
    ours = [s["Endpoint"] for s in subscriptions if s["TopicArn"] == emulator_account.sns_topic_arn]
    assert "http://127.0.0.1:8000/notifications/sns/emu/" in ours


# Every MTurk operation the demo may call that changes MTurk state, with its audit action. An
# operation missing here fails the test below: whoever adds one must audit it.
AUDITED = {
    "CreateHITType": "hit_type.create",
    "CreateHITWithHITType": "hit.create",
    "UpdateNotificationSettings": "notifications.configure",
}


def _publish(account, title: str = "demo"):
    job = start_job(
        account=account,
        kind="demo.publish",
        title=title,
        parameters={"webhook_base_url": "http://127.0.0.1:8000", "wait_for_web": False},
    )
    return run_job(job_id=job.pk)


def test_every_mturk_change_the_demo_makes_is_audited(emulator_account, fresh_emulator):
    assert _publish(emulator_account) == JobState.SUCCEEDED
    assert _publish(emulator_account, "demo again") == JobState.SUCCEEDED

    calls = fresh_emulator.control.get("calls")["call_counts"]
    changes = {op: n for op, n in calls.items() if not op.startswith(("Get", "List"))}
    events = AuditEvent.objects.filter(account=emulator_account)
    assert set(changes) <= set(AUDITED), "an MTurk-changing call without an audit action"
    for operation, count in changes.items():
        audited = events.filter(action=AUDITED[operation], outcome=AuditOutcome.SUCCEEDED)
        assert audited.count() == count, operation
    hits = {hit["HITId"] for hit in fresh_emulator.control.truth("hits")["hits"]}
    created = events.filter(action="hit.create")
    assert {event.target_ids["hit"] for event in created} == hits
    assert all(event.mturk_request_id for event in created)
    # seed_demo starts the job without a user: the job is the actor.
    assert set(events.values_list("actor_name", flat=True)) >= {"job:demo.publish"}


def test_a_failed_demo_call_is_audited_as_failed(emulator_account, fresh_emulator, settings):
    settings.MTURK_MAX_ATTEMPTS = 1
    fresh_emulator.control.set_faults(operations={"CreateHITWithHITType": {"fault_rate": 1.0}})

    assert _publish(emulator_account) == JobState.FAILED

    failed = AuditEvent.objects.get(action="hit.create", outcome=AuditOutcome.FAILED)
    assert failed.error and failed.actor_name == "job:demo.publish"
    assert failed.target_ids["hit_type"] and failed.parameters["annotation"]


def test_the_crowd_answers_the_demo_form(emulator_account, fresh_emulator, account_gateway):
    from hits.models import Assignment
    from mirror.sync import run_sync

    job = start_job(
        account=emulator_account,
        kind="demo.publish",
        title="demo",
        parameters={"wait_for_web": False},
    )
    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    fresh_emulator.control.post("crowd", {"count": 15, "running": True})
    fresh_emulator.control.advance(3600)
    fresh_emulator.control.post("crowd/stop")

    assert run_sync(account=emulator_account, kind="full").ok

    batch = Batch.objects.get(account=emulator_account)
    assert batch.name == DEMO_BATCH and batch.hits.count() == DEMO_HITS
    answers = [a.answers for a in Assignment.objects.filter(account=emulator_account)]
    assert len(answers) > 20
    assert all(
        set(a) >= {"animal"} and a["animal"] in {"cat", "dog", "rabbit", "parrot", "hamster"}
        for a in answers
    )
    assert all(set(a) <= {"animal", "blurry", "comment"} for a in answers)


def test_seed_demo_creates_the_account_and_queues_the_study(settings, django_user_model):
    settings.DEBUG = True
    out = io.StringIO()

    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=io.StringIO())

    account = RequesterAccount.objects.get(slug="demo")
    assert (
        account.environment == "emulator"
        and account.effective_endpoint_url == "http://127.0.0.1:8765/"
    )
    assert set(account.members.values_list("username", flat=True)) == {"admin", "staff"}
    assert Job.objects.filter(account=account, kind="demo.publish").count() == 1
    assert "Demo study: queued" in out.getvalue()
