"""The publish form's notifications: only the account's own destinations are offered, at least one
event is needed, and a batch published with the SQS queue chosen leaves the HIT type's
notification settings at the emulator as chosen (and on the mirror's row, audited)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.enums import AuditOutcome, JobState
from dashboard.models import AuditEvent, Job
from hits.models import HITType
from mturk.notifications import ALL_EVENT_TYPES, DEFAULT_EVENT_TYPES
from publishing import publish
from publishing.enums import BatchState
from publishing.models import PublishBatch
from publishing.publish_forms import PublishNotificationForm
from tests.publishing.publish_fixtures import animal_rows, draft, inputs_csv, make_template
from tests.publishing.test_publish import _publish_form

pytestmark = pytest.mark.django_db

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/lab-events"
TOPIC = "arn:aws:sns:us-east-1:123456789012:lab-events"


def _form(account, **data):
    return PublishNotificationForm(
        {f"notify-{key}": value for key, value in data.items()}, account=account
    )


def test_only_the_destinations_the_account_has_are_offered(account):
    unbound = PublishNotificationForm(account=account)
    assert [value for value, _ in unbound.fields["transport"].choices] == [""]
    assert not unbound.has_destinations

    account.sqs_queue_url = QUEUE
    assert [v for v, _ in PublishNotificationForm(account=account).fields["transport"].choices] == [
        "",
        "SQS",
    ]
    account.sns_topic_arn = TOPIC
    both = PublishNotificationForm(account=account)
    assert [value for value, _ in both.fields["transport"].choices] == ["", "SQS", "SNS"]
    assert both.has_destinations
    assert both["event_types"].initial == DEFAULT_EVENT_TYPES
    assert [value for value, _ in both.fields["event_types"].choices] == ALL_EVENT_TYPES


def test_a_transport_the_account_lacks_is_refused(account):
    account.sqs_queue_url = QUEUE

    form = _form(account, transport="SNS", event_types=["HITReviewable"])

    assert not form.is_valid()
    assert "SQS queue or SNS topic are set in the account" in form.errors["transport"][0]


def test_a_transport_needs_at_least_one_event(account):
    account.sqs_queue_url = QUEUE

    form = _form(account, transport="SQS")

    assert not form.is_valid()
    assert form.errors["event_types"] == ["Choose at least one event to send, or send none."]


def test_the_destination_is_the_accounts_never_the_forms(account):
    account.sqs_queue_url = QUEUE
    form = PublishNotificationForm(
        {
            "notify-transport": "SQS",
            "notify-event_types": ["HITReviewable", "AssignmentSubmitted"],
            "notify-destination": "https://sqs.us-east-1.amazonaws.com/999999999999/theirs",
        },
        account=account,
    )

    assert form.is_valid(), form.errors
    assert form.notification() == {
        "transport": "SQS",
        "destination": QUEUE,
        # In the order the events are offered, whatever the order posted.
        "event_types": ["AssignmentSubmitted", "HITReviewable"],
    }


def test_none_keeps_no_notification_whatever_events_are_ticked(account):
    account.sqs_queue_url = QUEUE

    form = _form(account, transport="", event_types=["HITReviewable"])

    assert form.is_valid() and form.notification() == {}


def test_the_publish_page_says_when_the_account_has_no_destination(lab_admin_client, account):
    page = lab_admin_client.get(reverse("publish-new", args=[account.slug]))

    content = page.content.decode()
    assert page.status_code == 200
    assert "<legend>Notifications</legend>" in content
    assert "The account has neither an SQS queue nor an SNS topic" in content
    assert reverse("account-notifications", args=[account.slug]) in content


def test_a_batch_whose_queue_changed_since_its_draft_is_refused(emulator_account):
    emulator_account.sqs_queue_url = QUEUE
    emulator_account.save()
    batch, plan = draft(emulator_account, inputs_csv(animal_rows(1)))
    assert plan.ok
    batch.notification = publish.notification_choice(
        account=emulator_account, transport="SQS", event_types=["HITReviewable"]
    )
    batch.save()
    emulator_account.sqs_queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/other"
    emulator_account.save()
    batch.refresh_from_db()

    with pytest.raises(publish.PublishRefused, match="SQS queue changed since this batch"):
        publish.start_publish(batch=batch, requested_by=None)


def test_publishing_with_the_sqs_queue_sets_the_hit_types_notifications_at_mturk(
    lab_admin_client,
    emulator_account,
    fresh_emulator,
    sqs_queue_url,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    emulator_account.sqs_queue_url = sqs_queue_url
    emulator_account.save()
    template = make_template(emulator_account)
    chosen = ["AssignmentSubmitted", "HITReviewable"]
    form = _publish_form(template, inputs_csv(animal_rows(2)))
    form.update({"notify-transport": "SQS", "notify-event_types": chosen})

    response = lab_admin_client.post(reverse("publish-new", args=[emulator_account.slug]), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    batch = PublishBatch.objects.get()
    assert batch.notification == {
        "transport": "SQS",
        "destination": sqs_queue_url,
        "event_types": chosen,
    }
    page = lab_admin_client.get(response["Location"])
    assert f"<code>{sqs_queue_url}</code>" in page.content.decode()
    token = page.context["form"].initial["confirmation"]
    with django_capture_on_commit_callbacks(execute=True):
        lab_admin_client.post(
            reverse("publish-batch-confirm", args=[emulator_account.slug, batch.pk]),
            {"confirmation": token},
        )
    job = Job.objects.get()
    assert job.state == JobState.SUCCEEDED, job.error
    batch.refresh_from_db()
    assert batch.state == BatchState.PUBLISHED and batch.notification["configured"] is True

    at_mturk = {
        ht["HITTypeId"]: ht for ht in fresh_emulator.control.truth("hit_types")["hit_types"]
    }[batch.hit_type_id]
    assert at_mturk["Notification"]["Destination"] == sqs_queue_url
    assert at_mturk["Notification"]["Transport"] == "SQS"
    assert at_mturk["Notification"]["EventTypes"] == chosen
    assert at_mturk["NotificationActive"] is True
    # The mirror remembers it as the notifications page does (MTurk cannot be asked).
    row = HITType.objects.get(account=emulator_account, hit_type_id=batch.hit_type_id)
    assert (row.notification_transport, row.notification_destination) == ("SQS", sqs_queue_url)
    assert row.notification_event_types == chosen and row.notification_active
    assert row.title == "Is it a cat?"
    event = AuditEvent.objects.get(action="notifications.configure")
    assert event.outcome == AuditOutcome.SUCCEEDED
    assert event.target_ids == {"hit_type": batch.hit_type_id}
    assert event.actor.username == "alice-admin"
    shown = lab_admin_client.get(reverse("publish-batch", args=[emulator_account.slug, batch.pk]))
    assert "Set up on the HIT type:" in shown.content.decode()


def test_a_batch_without_notifications_sets_none(
    emulator_account, fresh_emulator, eager_celery, admin_user
):
    batch, plan = draft(emulator_account, inputs_csv(animal_rows(1)))
    job = publish.start_publish(batch=batch, requested_by=admin_user)
    from dashboard.jobs import run_job

    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    batch.refresh_from_db()
    at_mturk = {
        ht["HITTypeId"]: ht for ht in fresh_emulator.control.truth("hit_types")["hit_types"]
    }[batch.hit_type_id]
    assert not at_mturk["Notification"]
    assert not AuditEvent.objects.filter(action="notifications.configure").exists()


def test_the_publish_page_refuses_a_transport_without_events_and_keeps_nothing(
    lab_admin_client, account
):
    account.sqs_queue_url = QUEUE
    account.save()
    form = _publish_form(make_template(account), inputs_csv(animal_rows(1)))
    form["notify-transport"] = "SQS"

    response = lab_admin_client.post(reverse("publish-new", args=[account.slug]), form)

    assert response.status_code == 400
    assert "Choose at least one event to send, or send none." in response.content.decode()
    assert PublishBatch.objects.count() == 0
