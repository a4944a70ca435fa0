"""Messages to workers against the emulator over real HTTP: NotifyWorkers calls of at most 100,
per-worker outcomes, placeholders, limits checked before sending, an interrupted call never resent,
throttling retried; and each page's allowed and forbidden paths.

The emulator's truth is the judge: `messages` lists every message it delivered, `calls` counts the
NotifyWorkers calls it answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dashboard.enums import AuditOutcome, IntentState, JobState
from dashboard.intents import MAX_ATTEMPTS
from dashboard.jobs import run_job
from dashboard.models import AuditEvent, Job
from dashboard.mturk_access import gateway_for
from people.enums import RecipientOutcome
from people.models import Message, MessageRecipient, MessageTemplate
from people.services import messaging
from people.tasks.messages import task_send_message
from tests.factories import AssignmentFactory, HITTypeFactory
from tests.htmlcheck import as_post, form_data, nested_forms

# --- helpers ---------------------------------------------------------------------------------------


def known_workers(control, count: int, prefix: str = "AKNOWN") -> list[str]:
    """Workers the emulator knows (MTurk delivers only to workers who worked for the requester)."""
    ids = [f"{prefix}{n:06d}" for n in range(count)]
    for worker_id in ids:
        control.add_worker(WorkerId=worker_id)
    return ids


def delivered(control) -> list[dict]:
    return control.truth("messages")["messages"]


def notify_calls(control) -> int:
    return control.truth("calls")["call_counts"].get("NotifyWorkers", 0)


def outcomes(message: Message) -> dict[str, str]:
    return dict(message.recipients.values_list("worker_id", "outcome"))


def send_now(account, worker_ids, subject="Thanks", body="Thank you for your work.", **kwargs):
    """Record a message for these workers and carry it out as the worker would."""
    started = messaging.start_messages(
        account=account, worker_ids=worker_ids, subject=subject, body=body, **kwargs
    )
    if started.job is not None:
        assert run_job(job_id=started.job.pk) == JobState.SUCCEEDED
    else:
        gateway = gateway_for(account)
        for message in started.messages:
            messaging.execute_message(message_id=message.pk, gateway=gateway)
    return started


# --- sending ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_message_to_250_workers_goes_in_3_calls(emulator_account, fresh_emulator):
    control = fresh_emulator.control
    workers = known_workers(control, 250)

    started = send_now(emulator_account, workers, subject="New study", body="A new study is up.")

    messages = list(Message.objects.filter(job=started.job).order_by("pk"))
    assert [m.recipients.count() for m in messages] == [100, 100, 50]
    assert {m.state for m in messages} == {IntentState.DONE}
    assert all(m.mturk_request_id for m in messages)
    assert notify_calls(control) == 3
    sent = delivered(control)
    assert sorted(m["WorkerId"] for m in sent) == sorted(workers)
    assert {(m["Subject"], m["MessageText"]) for m in sent} == {("New study", "A new study is up.")}
    assert set(
        MessageRecipient.objects.filter(message__job=started.job).values_list("outcome", flat=True)
    ) == {RecipientOutcome.SENT}
    job = Job.objects.get(pk=started.job.pk)
    assert (job.state, job.total, job.done, job.failed) == (JobState.SUCCEEDED, 3, 3, 0)
    events = AuditEvent.objects.filter(action="worker.notify")
    assert events.count() == 3
    assert {e.outcome for e in events} == {AuditOutcome.SUCCEEDED}


@pytest.mark.django_db
def test_a_worker_who_never_worked_for_the_requester_is_a_hard_failure(
    emulator_account, fresh_emulator
):
    control = fresh_emulator.control
    (known,) = known_workers(control, 1)

    started = send_now(emulator_account, [known, "ASTRANGER00001"])

    (message,) = started.messages
    message.refresh_from_db()
    assert message.state == IntentState.DONE
    assert outcomes(message) == {
        known: RecipientOutcome.SENT,
        "ASTRANGER00001": RecipientOutcome.HARD_FAILURE,
    }
    stranger = message.recipients.get(worker_id="ASTRANGER00001")
    assert "has not done work for this requester" in stranger.failure_message
    assert [m["WorkerId"] for m in delivered(control)] == [known]


@pytest.mark.django_db
def test_placeholders_are_rendered_for_each_worker(emulator_account, fresh_emulator):
    control = fresh_emulator.control
    workers = known_workers(control, 3)
    study = HITTypeFactory(account=emulator_account, title="Cats or dogs")

    started = send_now(
        emulator_account,
        workers,
        subject="About {study_title}",
        body="Hello {worker_id}, thank you for {study_title} ({account_name}).",
        study=study,
    )

    assert len(started.messages) == 3  # each worker's text differs: one call each
    assert notify_calls(control) == 3
    assert sorted((m["WorkerId"], m["Subject"], m["MessageText"]) for m in delivered(control)) == [
        (w, "About Cats or dogs", f"Hello {w}, thank you for Cats or dogs (Emulator lab).")
        for w in workers
    ]


@pytest.mark.django_db
def test_workers_with_the_same_rendered_text_share_a_call(emulator_account, fresh_emulator):
    control = fresh_emulator.control
    workers = known_workers(control, 120)

    started = send_now(emulator_account, workers, body="Thanks from {account_name}.")

    assert [m.recipients.count() for m in started.messages] == [100, 20]
    assert notify_calls(control) == 2


@pytest.mark.parametrize(
    ("subject", "body", "problem"),
    [
        ("x" * 190 + " {worker_id}", "Hi", "the subject is 203 characters (at most 200)"),
        ("Hi", "y" * 4090 + " {worker_id}", "the message is 4,103 characters (at most 4,096)"),
        ("Hi", "", "the message is empty"),
    ],
)
@pytest.mark.django_db
def test_a_message_too_long_once_rendered_is_refused_before_anything_is_sent(
    emulator_account, fresh_emulator, subject, body, problem
):
    control = fresh_emulator.control
    workers = known_workers(control, 2)

    plan = messaging.plan_messages(
        account=emulator_account, worker_ids=workers, subject=subject, body=body
    )
    with pytest.raises(messaging.MessageProblem):
        messaging.start_messages(
            account=emulator_account, worker_ids=workers, subject=subject, body=body
        )

    assert plan.problems == [f"{workers[0]}: {problem}", f"{workers[1]}: {problem}"]
    assert not plan.ok and plan.calls == []
    assert not Message.objects.exists() and not Job.objects.exists()
    assert notify_calls(control) == 0


@pytest.mark.parametrize("text", ["Hi {name}", "Hi {worker_id.__class__}", "Hi {0}", "Hi {}"])
@pytest.mark.django_db
def test_an_unknown_placeholder_is_refused(account, text):
    plan = messaging.plan_messages(
        account=account, worker_ids=["AWORKER0000001"], subject="Hi", body=text
    )

    assert len(plan.problems) == 1 and plan.problems[0].startswith("Unknown placeholder {")
    with pytest.raises(messaging.MessageProblem):
        messaging.request_messages(
            account=account, worker_ids=["AWORKER0000001"], subject="Hi", body=text
        )
    assert not Message.objects.exists()


def test_rendering_does_not_expand_a_value_that_looks_like_a_placeholder():
    assert (
        messaging.render(
            "{study_title} by {worker_id}", {"study_title": "{worker_id}", "worker_id": "A1"}
        )
        == "{worker_id} by A1"
    )


@pytest.mark.django_db
def test_study_title_needs_a_study(account):
    plan = messaging.plan_messages(
        account=account, worker_ids=["AWORKER0000001"], subject="{study_title}", body="Hi"
    )

    assert plan.problems == ["The message uses {study_title}: choose the study it is about."]


@pytest.mark.django_db
def test_a_message_interrupted_mid_call_is_not_sent_again(emulator_account, fresh_emulator):
    """Its worker died after claiming it: whether MTurk delivered it cannot be known."""
    control = fresh_emulator.control
    workers = known_workers(control, 2)
    (message,) = messaging.request_messages(
        account=emulator_account, worker_ids=workers, subject="Hi", body="Hello"
    )
    long_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=message.pk).update(
        state=IntentState.SENDING, claimed_at=long_ago, attempts=1
    )

    ended = messaging.execute_message(message_id=message.pk, gateway=gateway_for(emulator_account))

    assert ended is not None and ended.state == IntentState.FAILED
    assert ended.error == messaging.INTERRUPTED_ERROR
    assert outcomes(ended) == dict.fromkeys(workers, RecipientOutcome.UNKNOWN)
    assert notify_calls(control) == 0
    event = AuditEvent.objects.get(action="worker.notify")
    assert event.outcome == AuditOutcome.FAILED and event.parameters["interrupted"] is True
    # And nothing brings it back: it is finished.
    assert (
        messaging.execute_message(message_id=message.pk, gateway=gateway_for(emulator_account))
        is None
    )
    assert notify_calls(control) == 0


@pytest.mark.django_db
def test_a_message_being_sent_by_a_live_worker_is_left_alone(emulator_account, fresh_emulator):
    (message,) = messaging.request_messages(
        account=emulator_account, worker_ids=["AWORKER0000001"], subject="Hi", body="Hello"
    )
    Message.objects.filter(pk=message.pk).update(
        state=IntentState.SENDING, claimed_at=timezone.now(), attempts=1
    )

    assert (
        messaging.execute_message(message_id=message.pk, gateway=gateway_for(emulator_account))
        is None
    )

    message.refresh_from_db()
    assert message.state == IntentState.SENDING
    assert outcomes(message) == {"AWORKER0000001": RecipientOutcome.PENDING}
    assert notify_calls(fresh_emulator.control) == 0


@pytest.mark.django_db
def test_a_resumed_job_does_not_resend_the_call_its_dead_worker_made(
    emulator_account, fresh_emulator
):
    control = fresh_emulator.control
    workers = known_workers(control, 150)
    started = messaging.start_messages(
        account=emulator_account, worker_ids=workers, subject="Hi", body="Hello"
    )
    first, second = started.messages
    # The dead worker had claimed the first call (just now: the job's new worker owns it anyway).
    Message.objects.filter(pk=first.pk).update(
        state=IntentState.SENDING, claimed_at=timezone.now(), attempts=1
    )

    assert run_job(job_id=started.job.pk) == JobState.SUCCEEDED

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (IntentState.FAILED, IntentState.DONE)
    assert set(outcomes(first).values()) == {RecipientOutcome.UNKNOWN}
    assert set(outcomes(second).values()) == {RecipientOutcome.SENT}
    assert notify_calls(control) == 1
    assert sorted(m["WorkerId"] for m in delivered(control)) == sorted(workers[100:])


@pytest.mark.django_db
def test_a_throttled_call_goes_back_to_pending_and_is_sent_later(
    emulator_account, fresh_emulator, settings
):
    settings.MTURK_MAX_ATTEMPTS = 1  # no botocore retry: the message itself meets the throttle
    control = fresh_emulator.control
    workers = known_workers(control, 2)
    (message,) = messaging.request_messages(
        account=emulator_account, worker_ids=workers, subject="Hi", body="Hello"
    )
    gateway = gateway_for(emulator_account)
    control.set_faults(operations={"NotifyWorkers": {"throttle_rate": 1.0}})

    waiting = messaging.execute_message(message_id=message.pk, gateway=gateway)

    assert waiting is not None and waiting.state == IntentState.PENDING
    assert "Throttl" in waiting.error and waiting.attempts == 1
    assert outcomes(waiting) == dict.fromkeys(workers, RecipientOutcome.PENDING)
    assert delivered(control) == []

    control.set_faults(operations={"NotifyWorkers": {"throttle_rate": 0.0}})
    done = messaging.execute_message(message_id=message.pk, gateway=gateway)

    assert done is not None and (done.state, done.attempts, done.error) == (IntentState.DONE, 2, "")
    assert outcomes(done) == dict.fromkeys(workers, RecipientOutcome.SENT)
    assert sorted(m["WorkerId"] for m in delivered(control)) == workers


@pytest.mark.django_db
def test_a_job_retries_a_throttled_call(emulator_account, fresh_emulator, settings, monkeypatch):
    settings.MTURK_MAX_ATTEMPTS = 1
    control = fresh_emulator.control
    workers = known_workers(control, 3)
    control.set_faults(operations={"NotifyWorkers": {"throttle_rate": 1.0}})
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        # The job breathes after the throttle; MTurk recovers meanwhile.
        pauses.append(seconds)
        control.set_faults(operations={"NotifyWorkers": {"throttle_rate": 0.0}})

    monkeypatch.setattr("dashboard.intent_jobs.time.sleep", pause)

    started = send_now(emulator_account, workers)

    (message,) = started.messages
    message.refresh_from_db()
    assert (message.state, message.attempts) == (IntentState.DONE, 2)
    assert len(pauses) == 1
    assert control.truth("calls")["error_counts"].get("Throttled") == 1
    assert sorted(m["WorkerId"] for m in delivered(control)) == workers


@pytest.mark.django_db
def test_the_single_message_task_sends_it(emulator_account, fresh_emulator):
    (worker,) = known_workers(fresh_emulator.control, 1)
    (message,) = messaging.request_messages(
        account=emulator_account, worker_ids=[worker], subject="Hi", body="Hello"
    )

    assert task_send_message.apply(kwargs={"intent_id": message.pk}).get() == IntentState.DONE

    assert outcomes(message) == {worker: RecipientOutcome.SENT}
    assert [m["WorkerId"] for m in delivered(fresh_emulator.control)] == [worker]


@pytest.mark.django_db
def test_messages_for_worker_lists_what_they_were_sent(emulator_account, fresh_emulator):
    workers = known_workers(fresh_emulator.control, 2)
    send_now(emulator_account, workers, subject="First")
    send_now(emulator_account, [workers[0]], subject="Second")

    rows = list(messaging.messages_for_worker(emulator_account, workers[0]))

    assert [(r.message.subject, r.outcome) for r in rows] == [
        ("Second", RecipientOutcome.SENT),
        ("First", RecipientOutcome.SENT),
    ]
    assert [
        r.message.subject for r in messaging.messages_for_worker(emulator_account, workers[1])
    ] == ["First"]


# --- recipients from files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b"Worker,Amount\nAWORKER0000001,1\n",
            "The file has no WorkerId column (its columns are: Worker, Amount).",
        ),
        (
            "WorkerId\nAWORKÉR\n".encode("latin-1"),
            "The file is not UTF-8 text: save it as CSV (UTF-8) and upload it again.",
        ),
        (
            b"WorkerId,Note\nAWORKER0000001,ok\nnot-a-worker,bad\n",
            "Line 3: “not-a-worker” is not a worker id.",
        ),
        (b"", "The file is empty."),
        (b"WorkerId\n", "The file lists no workers."),
    ],
)
def test_a_bad_worker_file_is_refused_with_a_report(content, problem):
    ids, problems = messaging.parse_worker_csv(content)

    assert problem in problems


def test_a_worker_file_from_the_requester_website_is_read():
    content = "\ufeffHITId,WorkerId,Answer\n3H1,AWORKER0000001,x\n3H2,AWORKER0000002,y\n3H3,AWORKER0000001,z\n"

    assert messaging.parse_worker_csv(content.encode()) == (
        ["AWORKER0000001", "AWORKER0000002"],
        [],
    )


# --- pages -----------------------------------------------------------------------------------------


def url(name: str, account, **kwargs) -> str:
    return reverse(name, kwargs={"slug": account.slug, **kwargs})


@pytest.mark.parametrize(
    ("name", "method", "extra", "staff_status"),
    [
        ("message-list", "get", {}, 200),
        ("message-template-list", "get", {}, 200),
        ("message-template-create", "get", {}, 403),
        ("message-template-create", "post", {}, 403),
        ("message-compose", "get", {}, 403),
        ("message-compose", "post", {}, 403),
        ("message-send", "post", {}, 403),
        ("worker-message", "get", {"worker_id": "AWORKER0000001"}, 403),
    ],
)
@pytest.mark.django_db
def test_each_page_is_for_members_and_sending_for_lab_admins(
    personas, account, name, method, extra, staff_status
):
    target = url(name, account, **extra)

    anonymous = getattr(personas["anonymous"], method)(target)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert getattr(personas["staff"], method)(target).status_code == staff_status
    assert getattr(personas["other_staff"], method)(target).status_code == 404
    if method == "get":
        assert personas["admin"].get(target).status_code == 200


@pytest.mark.django_db
def test_template_pages_are_for_lab_admins(personas, account):
    template = MessageTemplate.objects.create(account=account, name="Thanks", subject="S", body="B")
    for target in (
        url("message-template-edit", account, pk=template.pk),
        url("message-template-delete", account, pk=template.pk),
    ):
        assert (
            personas["staff"].post(target, {"name": "X", "subject": "S", "body": "B"}).status_code
            == 403
        )
        assert personas["other_staff"].post(target).status_code == 404
    assert MessageTemplate.objects.get(pk=template.pk).name == "Thanks"


@pytest.mark.django_db
def test_the_compose_from_study_page_is_for_lab_admins(personas, account):
    study = HITTypeFactory(account=account)
    target = url("message-compose-from-study", account, hit_type_id=study.hit_type_id)

    assert personas["anonymous"].post(target).status_code == 302
    assert personas["staff"].post(target).status_code == 403
    assert personas["other_staff"].post(target).status_code == 404


@pytest.mark.django_db
def test_a_lab_admin_creates_edits_and_deletes_a_template(lab_admin_client, account):
    response = lab_admin_client.post(
        url("message-template-create", account),
        {"name": "Thanks", "subject": "About {study_title}", "body": "Hi {worker_id}"},
    )
    assert response.status_code == 302
    template = MessageTemplate.objects.get(account=account)
    assert (template.name, template.subject, template.body) == (
        "Thanks",
        "About {study_title}",
        "Hi {worker_id}",
    )

    refused = lab_admin_client.post(
        url("message-template-edit", account, pk=template.pk),
        {"name": "Thanks", "subject": "Hi {first_name}", "body": "Hi"},
    )
    assert refused.status_code == 200
    assert "Unknown placeholder {first_name}" in refused.content.decode()
    template.refresh_from_db()
    assert template.subject == "About {study_title}"

    lab_admin_client.post(
        url("message-template-edit", account, pk=template.pk),
        {"name": "Thanks again", "subject": "Hello", "body": "Hi"},
    )
    template.refresh_from_db()
    assert (template.name, template.subject) == ("Thanks again", "Hello")

    assert (
        lab_admin_client.post(url("message-template-delete", account, pk=template.pk)).status_code
        == 302
    )
    assert not MessageTemplate.objects.exists()


def post_preview(client, account, **data):
    return client.post(url("message-compose", account), {"subject": "", "body": "", **data})


def confirm_fields(preview) -> dict[str, list[str]]:
    """What the preview's confirmation form sends, read from the page as a browser would."""
    page = preview.content.decode()
    assert nested_forms(page) == []
    account = preview.context["account"]
    fields, _buttons = form_data(page, action=url("message-send", account))
    return as_post(fields)


@pytest.mark.django_db
def test_compose_preview_confirm_sends_through_a_job(
    lab_admin_client, emulator_account, fresh_emulator
):
    control = fresh_emulator.control
    workers = known_workers(control, 3)
    template = MessageTemplate.objects.create(
        account=emulator_account, name="Thanks", subject="Thanks, {worker_id}", body="Well done."
    )

    # A textarea posts its line breaks as CRLF; the page and its token must agree on them.
    preview = post_preview(
        lab_admin_client,
        emulator_account,
        worker_ids="\r\n".join(workers),
        template=template.pk,
        body="Well done.\r\nSee you soon.",
    )

    assert preview.status_code == 200
    page = preview.content.decode()
    assert f"To {workers[0]}: Thanks, {workers[0]}" in page
    assert preview.context["calls"] == 3
    assert notify_calls(control) == 0 and not Message.objects.exists()

    fields = confirm_fields(preview)
    sent = lab_admin_client.post(url("message-send", emulator_account), fields)

    job = Job.objects.get(account=emulator_account)
    assert sent.status_code == 302 and sent["Location"] == job.get_absolute_url()
    assert Message.objects.filter(job=job, template=template).count() == 3

    again = lab_admin_client.post(url("message-send", emulator_account), fields)
    assert again.status_code == 200 and "no longer valid" in again.content.decode()
    assert Job.objects.count() == 1 and Message.objects.count() == 3

    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    assert sorted((m["WorkerId"], m["Subject"], m["MessageText"]) for m in delivered(control)) == [
        (w, f"Thanks, {w}", "Well done.\nSee you soon.") for w in workers
    ]

    history = lab_admin_client.get(url("message-list", emulator_account)).content.decode()
    assert f"Thanks, {workers[0]}" in history and "Sent" in history


@pytest.mark.django_db
def test_a_changed_message_is_not_sent_with_the_previews_token(lab_admin_client, account):
    preview = post_preview(
        lab_admin_client,
        account,
        worker_ids="AWORKER0000001 AWORKER0000002",
        subject="Hi",
        body="Hello",
    )
    fields = {**confirm_fields(preview), "body": "Something else"}

    response = lab_admin_client.post(url("message-send", account), fields)

    assert response.status_code == 200 and "no longer valid" in response.content.decode()
    assert not Message.objects.exists() and not Job.objects.exists()


@pytest.mark.django_db
def test_a_message_to_one_worker_is_one_intent_without_a_job(
    lab_admin_client,
    emulator_account,
    fresh_emulator,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    (worker,) = known_workers(fresh_emulator.control, 1)
    page = lab_admin_client.get(url("worker-message", emulator_account, worker_id=worker))
    assert page.status_code == 200 and worker in page.content.decode()
    preview = post_preview(
        lab_admin_client,
        emulator_account,
        worker_ids=worker,
        subject="Hi",
        body="Hello {worker_id}",
    )

    with django_capture_on_commit_callbacks(execute=True):
        sent = lab_admin_client.post(url("message-send", emulator_account), confirm_fields(preview))

    assert sent.status_code == 302 and sent["Location"] == url("message-list", emulator_account)
    message = Message.objects.get()
    assert message.job is None and message.state == IntentState.DONE
    assert [(m["WorkerId"], m["MessageText"]) for m in delivered(fresh_emulator.control)] == [
        (worker, f"Hello {worker}")
    ]


@pytest.mark.django_db
def test_a_too_long_message_gets_a_preview_without_a_send_button(lab_admin_client, account):
    preview = post_preview(
        lab_admin_client,
        account,
        worker_ids="AWORKER0000001",
        subject="Hi",
        body="z" * 4090 + "{worker_id}",
    )

    assert preview.status_code == 200
    assert "send_form" not in preview.context
    assert "the message is 4,104 characters (at most 4,096)" in preview.content.decode()


@pytest.mark.django_db
def test_an_unknown_placeholder_is_shown_in_the_compose_form(lab_admin_client, account):
    response = post_preview(
        lab_admin_client, account, worker_ids="AWORKER0000001", subject="Hi {name}", body="Hello"
    )

    assert response.status_code == 200
    assert "Unknown placeholder {name}" in response.content.decode()
    assert "send_form" not in response.context


@pytest.mark.django_db
def test_a_bad_csv_is_refused_with_a_report(lab_admin_client, account):
    upload = SimpleUploadedFile(
        "workers.csv", b"WorkerId\nAWORKER0000001\nbad id\n\nworker-3\n", content_type="text/csv"
    )

    response = post_preview(
        lab_admin_client, account, worker_file=upload, subject="Hi", body="Hello"
    )

    page = response.content.decode()
    assert response.status_code == 200 and "send_form" not in response.context
    assert "Line 3: “bad id” is not a worker id." in page
    assert "Line 5: “worker-3” is not a worker id." in page
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_csv_of_workers_is_previewed(lab_admin_client, account):
    rows = "".join(f"AWORKER{n:07d}\n" for n in range(150))
    upload = SimpleUploadedFile(
        "workers.csv", f"WorkerId\n{rows}".encode(), content_type="text/csv"
    )

    response = post_preview(
        lab_admin_client, account, worker_file=upload, subject="Hi", body="Hello"
    )

    assert response.status_code == 200
    assert len(response.context["workers"]) == 150 and response.context["calls"] == 2


@pytest.mark.django_db
def test_the_grids_ticked_rows_become_the_recipients(lab_admin_client, account):
    study = HITTypeFactory(account=account, title="Cats")
    mine = AssignmentFactory.create_batch(2, hit__hit_type=study)
    elsewhere = AssignmentFactory(hit__hit_type=HITTypeFactory(account=account))

    response = lab_admin_client.post(
        url("message-compose-from-study", account, hit_type_id=study.hit_type_id),
        {"selected": [a.assignment_id for a in [*mine, elsewhere]], "action": "approve", "go": "1"},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["worker_ids"].split("\n") == [a.worker.worker_id for a in mine]
    assert form.initial["study"] == study.pk
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_the_grid_offers_the_message_action_to_lab_admins_only(
    lab_admin_client, staff_client, account
):
    study = HITTypeFactory(account=account)
    AssignmentFactory(hit__hit_type=study)
    target = reverse(
        "study-detail", kwargs={"slug": account.slug, "hit_type_id": study.hit_type_id}
    )
    action = url("message-compose-from-study", account, hit_type_id=study.hit_type_id)

    assert f'formaction="{action}"' in lab_admin_client.get(target).content.decode()
    assert f'formaction="{action}"' not in staff_client.get(target).content.decode()


@pytest.mark.django_db
def test_staff_read_the_history_with_failures_shown(staff_client, emulator_account, fresh_emulator):
    (known,) = known_workers(fresh_emulator.control, 1)
    send_now(emulator_account, [known, "ASTRANGER00001"], subject="Hello there")

    page = staff_client.get(url("message-list", emulator_account)).content.decode()

    assert "Hello there" in page and "Hard failure" in page and "ASTRANGER00001" in page
    assert url("message-compose", emulator_account) not in page


@pytest.mark.django_db
def test_the_history_fragment_is_the_table_only(staff_client, account):
    response = staff_client.get(url("message-list", account), headers={"HX-Request": "true"})

    page = response.content.decode()
    assert response.status_code == 200 and 'id="message-table"' in page and "<html" not in page


@pytest.mark.django_db
def test_the_worker_page_include_shows_each_message_and_outcome(emulator_account, fresh_emulator):
    send_now(emulator_account, ["ASTRANGER00001"], subject="Are you there?")

    html = render_to_string(
        "people/includes/worker_messages.html",
        {"worker_messages": messaging.messages_for_worker(emulator_account, "ASTRANGER00001")},
    )

    assert "Are you there?" in html and "Hard failure" in html
    assert "has not done work for this requester" in html


@pytest.mark.django_db
def test_a_malformed_worker_id_in_the_address_is_not_found(lab_admin_client, account):
    response = lab_admin_client.get(url("worker-message", account, worker_id="not-a-worker"))

    assert response.status_code == 404


@pytest.mark.django_db
def test_change_from_the_preview_shows_the_form_filled_in(lab_admin_client, account):
    study = HITTypeFactory(account=account)
    preview = post_preview(
        lab_admin_client,
        account,
        worker_ids="AWORKER0000001 AWORKER0000002",
        subject="Hi {worker_id}" + "!" * 190,
        body="Hello",
        study=study.pk,
    )
    assert "send_form" not in preview.context  # the subject is too long once rendered
    fields, buttons = form_data(preview.content.decode(), form_id="edit-form")

    response = lab_admin_client.post(
        url("message-compose", account), as_post(fields + [("edit", "1")])
    )

    form = response.context["form"]
    assert response.status_code == 200 and not form.is_bound
    assert (form.initial["worker_ids"], form.initial["subject"], form.initial["study"]) == (
        "AWORKER0000001\nAWORKER0000002",
        "Hi {worker_id}" + "!" * 190,
        str(study.pk),
    )
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_message_the_job_gives_up_reads_not_sent_for_its_workers(
    emulator_account, fresh_emulator
):
    started = messaging.start_messages(
        account=emulator_account,
        worker_ids=["AWORKER0000001", "AWORKER0000002"],
        subject="Hi",
        body="Hello",
    )
    (message,) = started.messages
    # It met throttling on every try so far.
    Message.objects.filter(pk=message.pk).update(attempts=MAX_ATTEMPTS, error="Throttled")

    assert run_job(job_id=started.job.pk) == JobState.SUCCEEDED

    message.refresh_from_db()
    assert message.state == IntentState.GAVE_UP
    assert outcomes(message) == dict.fromkeys(
        ["AWORKER0000001", "AWORKER0000002"], RecipientOutcome.FAILED
    )
    assert notify_calls(fresh_emulator.control) == 0


@pytest.mark.django_db
def test_a_long_list_of_too_long_messages_is_summed_up(account):
    workers = [f"AWORKER{n:07d}" for n in range(25)]

    plan = messaging.plan_messages(
        account=account, worker_ids=workers, subject="{worker_id}" + "x" * 190, body="Hi"
    )

    assert len(plan.problems) == 21 and plan.problems[-1] == "… and 5 more workers."
