"""Sync now and notification wiring from the UI: each runs as a job against the emulator."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from dashboard.enums import JobState
from dashboard.jobs import run_job
from dashboard.models import AuditEvent, Job
from hits.models import HIT, HITType
from mirror.notification_setup import sns_topic_policy, sqs_queue_policy
from tests.hits.test_sync import create_hits

pytestmark = pytest.mark.django_db


def _job_from(response) -> Job:
    assert response.status_code == 302
    job = Job.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert run_job(job_id=job.pk) in (JobState.SUCCEEDED, JobState.FAILED)
    job.refresh_from_db()
    return job


def test_staff_can_sync_now_and_watch_the_job(staff_client, emulator_account, account_gateway):
    create_hits(account_gateway, 3)

    job = _job_from(
        staff_client.post(
            reverse("sync-now", kwargs={"slug": emulator_account.slug}), {"kind": "full"}
        )
    )

    assert job.state == JobState.SUCCEEDED, job.error
    assert job.result["details"]["hits_created"] == 3
    assert HIT.objects.filter(account=emulator_account).count() == 3
    page = staff_client.get(job.get_absolute_url())
    assert "Finished" in page.content.decode()


def test_overview_shows_sync_health(staff_client, emulator_account, account_gateway):
    create_hits(account_gateway, 1)
    _job_from(
        staff_client.post(
            reverse("sync-now", kwargs={"slug": emulator_account.slug}), {"kind": "full"}
        )
    )

    body = staff_client.get(
        reverse("account-overview", kwargs={"slug": emulator_account.slug})
    ).content.decode()

    assert "Sync health" in body and "in the last hour" in body
    assert "Not synced yet" not in body
    assert "Is this a cat?" in body and "1 HIT, 0 submitted, 0 approved, 0 rejected" in body


@pytest.fixture
def synced(emulator_account, account_gateway):
    from mirror.sync import run_sync

    create_hits(account_gateway, 2)
    assert run_sync(account=emulator_account, kind="full").ok
    return emulator_account


def test_admin_configures_notifications_through_a_job(
    lab_admin_client, synced, sqs_queue_url, fresh_emulator
):
    synced.sqs_queue_url = sqs_queue_url
    synced.save()
    hit_type = HITType.objects.get(account=synced)

    job = _job_from(
        lab_admin_client.post(
            reverse("notifications-configure", kwargs={"slug": synced.slug}),
            {
                "hit_type_ids": [hit_type.hit_type_id],
                "transport": "SQS",
                "event_types": ["AssignmentSubmitted", "HITReviewable"],
                "active": "on",
            },
        )
    )

    assert job.state == JobState.SUCCEEDED and job.done == 1
    truth = {t["HITTypeId"]: t for t in fresh_emulator.control.truth("hit_types")["hit_types"]}
    assert truth[hit_type.hit_type_id]["Notification"]["Destination"] == sqs_queue_url
    assert truth[hit_type.hit_type_id]["NotificationActive"] is True
    hit_type.refresh_from_db()
    assert (hit_type.notification_transport, hit_type.notification_active) == ("SQS", True)
    assert (
        AuditEvent.objects.filter(
            account=synced, action="notifications.configure", outcome="succeeded"
        ).count()
        == 1
    )


def test_configuring_without_a_destination_is_refused_clearly(lab_admin_client, synced):
    hit_type = HITType.objects.get(account=synced)

    response = lab_admin_client.post(
        reverse("notifications-configure", kwargs={"slug": synced.slug}),
        {
            "hit_type_ids": [hit_type.hit_type_id],
            "transport": "SNS",
            "event_types": ["AssignmentSubmitted"],
        },
    )

    assert response.status_code == 200
    assert "Set the account&#x27;s SNS topic ARN first" in response.content.decode()
    assert not Job.objects.exists()


def test_a_test_event_arrives_in_the_queue(
    lab_admin_client, emulator_account, sqs_queue_url, fresh_emulator
):
    from dashboard.mturk_access import gateway_for
    from mirror.events import apply_pending_events
    from mirror.sqs_consumer import consume_queue, sqs_queue_for

    emulator_account.sqs_queue_url = sqs_queue_url
    emulator_account.save()

    job = _job_from(
        lab_admin_client.post(
            reverse("notifications-test", kwargs={"slug": emulator_account.slug}),
            {"transport": "SQS", "event_type": "Ping"},
        )
    )
    fresh_emulator.control.post("notifications/drain", {"timeout": 10})
    counts = consume_queue(account=emulator_account, queue=sqs_queue_for(emulator_account))
    applied = apply_pending_events(account=emulator_account, gateway=gateway_for(emulator_account))

    assert job.state == JobState.SUCCEEDED
    assert counts.recorded == 1 and applied.events_applied == 1
    event = emulator_account.notification_events.get()
    assert event.event_types == ["Ping"]


def test_wiring_the_emulator_pins_its_certificate_and_subscribes_the_webhook(
    lab_admin_client, emulator_account, fresh_emulator
):
    response = lab_admin_client.post(
        reverse("notifications-wire-emulator", kwargs={"slug": emulator_account.slug})
    )

    emulator_account.refresh_from_db()
    assert response.status_code == 302
    assert emulator_account.sns_trusted_certificate.startswith("-----BEGIN CERTIFICATE-----")
    assert emulator_account.sns_topic_arn == "arn:aws:sns:us-east-1:000000000000:mturk-emu"
    subscriptions = fresh_emulator.control.get("sns/subscriptions")["Subscriptions"]
    assert any(
        s["Endpoint"].endswith("/notifications/sns/emu/")
        and s["TopicArn"] == emulator_account.sns_topic_arn
        for s in subscriptions
    )
    page = lab_admin_client.get(
        reverse("account-notifications", kwargs={"slug": emulator_account.slug})
    ).content.decode()
    assert "pinned" in page


def test_aws_policies_name_mturk_and_the_resource():
    sqs = json.loads(
        sqs_queue_policy("https://sqs.eu-west-1.amazonaws.com/123456789012/mturk-events")
    )
    sns = json.loads(sns_topic_policy("arn:aws:sns:us-east-1:123456789012:mturk"))

    assert sqs["Statement"][0]["Resource"] == "arn:aws:sqs:eu-west-1:123456789012:mturk-events"
    assert sqs["Statement"][0]["Principal"] == {"Service": "mturk-requester.amazonaws.com"}
    assert sns["Statement"][0]["Action"] == "sns:Publish"


# --- "Wire emulator" fetches only the emulator's certificate (SSRF) ------------------------------

INTERNAL_SECRET = b"ami-id: internal metadata the lab admin must not read"


@pytest.fixture
def internal_service():
    """An internal HTTP service (think cloud metadata) that the dashboard can reach and the lab
    admin cannot."""
    from tests.httpstub import http_stub

    with http_stub() as stub:
        stub.route("/latest/meta-data", body=INTERNAL_SECRET)
        yield stub


def _wire(client, account):
    return client.post(
        reverse("notifications-wire-emulator", kwargs={"slug": account.slug}), follow=True
    )


def _nothing_stored(account) -> None:
    account.refresh_from_db()
    assert account.sns_trusted_certificate == ""
    assert not AuditEvent.objects.filter(action="notifications.wire_emulator_sns").exists()


def test_an_endpoint_with_a_query_cannot_read_an_internal_page(
    lab_admin_client, emulator_account, internal_service
):
    # Stored directly (as an account saved before the form refused such URLs would be).
    type(emulator_account).objects.filter(pk=emulator_account.pk).update(
        endpoint_url=internal_service.url + "/latest/meta-data?"
    )

    page = _wire(lab_admin_client, emulator_account).content.decode()

    assert "Could not wire the emulator" in page and "has a query" in page
    assert internal_service.requested == []
    assert INTERNAL_SECRET.decode() not in page
    _nothing_stored(emulator_account)


def test_a_redirect_from_the_endpoint_is_not_followed(
    lab_admin_client, emulator_account, internal_service
):
    internal_service.route(
        "/_emulator/sns/cert.pem",
        status=302,
        headers={"Location": internal_service.url + "/latest/meta-data"},
    )
    type(emulator_account).objects.filter(pk=emulator_account.pk).update(
        endpoint_url=internal_service.url
    )

    page = _wire(lab_admin_client, emulator_account).content.decode()

    assert "Could not wire the emulator" in page and "redirect" in page
    assert internal_service.requested == ["/_emulator/sns/cert.pem"]
    _nothing_stored(emulator_account)


@pytest.mark.parametrize(
    "body",
    [INTERNAL_SECRET, b"<html>" + INTERNAL_SECRET + b"</html>\n" + b"-----BEGIN CERTIFICATE-----"],
    ids=["not-a-certificate", "page-around-a-marker"],
)
def test_only_one_pem_certificate_is_ever_stored(
    lab_admin_client, emulator_account, internal_service, body
):
    internal_service.route("/_emulator/sns/cert.pem", body=body)
    type(emulator_account).objects.filter(pk=emulator_account.pk).update(
        endpoint_url=internal_service.url
    )

    page = _wire(lab_admin_client, emulator_account).content.decode()

    assert "did not answer with one PEM certificate" in page
    assert INTERNAL_SECRET.decode() not in page
    _nothing_stored(emulator_account)
    settings_page = lab_admin_client.get(
        reverse("account-edit", kwargs={"slug": emulator_account.slug})
    ).content.decode()
    assert INTERNAL_SECRET.decode() not in settings_page


def test_a_certificate_with_a_page_around_it_is_refused(
    lab_admin_client, emulator_account, fresh_emulator, internal_service
):
    pem = fresh_emulator.emulator.notifier.cert_pem().encode()
    internal_service.route("/_emulator/sns/cert.pem", body=INTERNAL_SECRET + b"\n" + pem)
    type(emulator_account).objects.filter(pk=emulator_account.pk).update(
        endpoint_url=internal_service.url
    )

    page = _wire(lab_admin_client, emulator_account).content.decode()

    assert "did not answer with one PEM certificate" in page
    _nothing_stored(emulator_account)


def test_an_oversized_answer_is_refused(lab_admin_client, emulator_account, internal_service):
    internal_service.route("/_emulator/sns/cert.pem", body=b"A" * (1024 * 1024))
    type(emulator_account).objects.filter(pk=emulator_account.pk).update(
        endpoint_url=internal_service.url
    )

    page = _wire(lab_admin_client, emulator_account).content.decode()

    assert "Could not wire the emulator" in page and "too large" in page
    _nothing_stored(emulator_account)


@pytest.mark.parametrize(
    ("endpoint", "problem"),
    [
        ("http://169.254.169.254/latest/meta-data?", "has a query"),
        ("http://127.0.0.1:8765/#", "has a fragment"),
        ("http://admin:pw@127.0.0.1:8765/", "user name or password"),
    ],
)
def test_the_account_form_refuses_endpoints_that_could_redirect_a_fetch(
    emulator_account, endpoint, problem
):
    from dashboard.forms import RequesterAccountForm

    form = RequesterAccountForm(
        data={
            "name": emulator_account.name,
            "slug": emulator_account.slug,
            "environment": "emulator",
            "endpoint_url": endpoint,
            "aws_access_key_id": emulator_account.aws_access_key_id,
            "is_active": "on",
        },
        instance=emulator_account,
    )

    assert not form.is_valid()
    assert problem in " ".join(form.errors["endpoint_url"])


def test_the_account_form_keeps_only_a_pasted_certificate(emulator_account, fresh_emulator):
    from dashboard.forms import RequesterAccountForm

    pem = fresh_emulator.emulator.notifier.cert_pem()
    data = {
        "name": emulator_account.name,
        "slug": emulator_account.slug,
        "environment": "emulator",
        "endpoint_url": emulator_account.endpoint_url,
        "aws_access_key_id": emulator_account.aws_access_key_id,
        "is_active": "on",
    }

    refused = RequesterAccountForm(
        data=dict(data, sns_trusted_certificate="notes\n" + pem), instance=emulator_account
    )
    accepted = RequesterAccountForm(
        data=dict(data, sns_trusted_certificate="\n" + pem + "\n\n"), instance=emulator_account
    )

    assert not refused.is_valid() and "sns_trusted_certificate" in refused.errors
    assert accepted.is_valid(), accepted.errors
    assert accepted.save().sns_trusted_certificate.strip() == pem.strip()
