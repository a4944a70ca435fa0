"""The SNS webhook: verified, recorded once, applied once; everything else refused with nothing applied."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from dashboard.enums import Environment
from dashboard.models import NotificationEvent, SyncState
from hits.models import HIT, Assignment
from mirror.sns_receiver import (
    REFUSED,
    build_verifier,
    confirm_subscription,
    verifier_for,
    verifier_key,
)
from tests.hits.test_sync import create_hits, work
from tests.vectors import SNS_VECTORS

pytestmark = pytest.mark.django_db

TOPIC = "arn:aws:sns:us-east-1:123456789012:mturk-events"
VECTORS = SNS_VECTORS


@pytest.fixture
def sns_account(emulator_account, fresh_emulator):
    emulator_account.sns_topic_arn = TOPIC
    emulator_account.sns_trusted_certificate = fresh_emulator.emulator.notifier.cert_pem()
    emulator_account.save()
    return emulator_account


def event_document(
    hit_id: str, assignment_id: str | None = None, event_type: str = "AssignmentSubmitted"
) -> dict:
    event = {
        "EventType": event_type,
        "EventTimestamp": "2026-11-23T10:00:00Z",
        "HITTypeId": "3HITTYPE",
        "HITId": hit_id,
    }
    if assignment_id:
        event["AssignmentId"] = assignment_id
    return {
        "EventDocVersion": "2014-08-15",
        "EventDocId": uuid.uuid4().hex,
        "CustomerId": "A1REQUESTER",
        "Events": [event],
    }


def _timestamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def signed(
    emulator,
    document: dict,
    *,
    version: str = "2",
    topic: str = TOPIC,
    age: dt.timedelta = dt.timedelta(0),
    message_id: str | None = None,
) -> dict:
    message = {
        "Type": "Notification",
        "MessageId": message_id or str(uuid.uuid4()),
        "TopicArn": topic,
        "Subject": "1700000000000",
        "Message": json.dumps(document),
        "Timestamp": _timestamp(dt.datetime.now(dt.UTC) - age),
        "UnsubscribeURL": f"{emulator.endpoint_url}/_emulator/sns/unsubscribe",
    }
    return emulator.emulator.notifier.sign(message, version)


def signed_confirmation(emulator, subscribe_url: str, *, topic: str = TOPIC) -> dict:
    message = {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": "token-" + uuid.uuid4().hex,
        "TopicArn": topic,
        "Message": f"You have chosen to subscribe to the topic {topic}.",
        "SubscribeURL": subscribe_url,
        "Timestamp": _timestamp(dt.datetime.now(dt.UTC)),
    }
    return emulator.emulator.notifier.sign(message, "1")


def post(client, slug: str, message: dict | str | bytes, message_type: str | None = None, **extra):
    body = message if isinstance(message, str | bytes) else json.dumps(message)
    headers = {
        "x-amz-sns-message-type": message_type
        or (message.get("Type") if isinstance(message, dict) else "Notification")
    }
    return client.post(
        reverse("sns-webhook", kwargs={"slug": slug}),
        data=body,
        content_type="text/plain; charset=UTF-8",
        headers=headers,
        **extra,
    )


@pytest.mark.parametrize("version", ["1", "2"])
def test_valid_messages_are_applied_once(
    client,
    sns_account,
    account_gateway,
    fresh_emulator,
    eager_celery,
    version,
    django_capture_on_commit_callbacks,
):
    (hit_id,) = create_hits(account_gateway, 1)
    assignment_id = work(fresh_emulator.control, hit_id, "AWORKERONE0001")
    message = signed(fresh_emulator, event_document(hit_id, assignment_id), version=version)

    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, sns_account.slug, message)
    with django_capture_on_commit_callbacks(execute=True):
        replay = post(client, sns_account.slug, message)

    assert (first.status_code, first.json()) == (200, {"status": "recorded"})
    assert (replay.status_code, replay.json()) == (200, {"status": "duplicate"})
    event = NotificationEvent.objects.get(account=sns_account)
    assert event.applied_at is not None and event.attempts == 1 and event.source == "sns"
    assert Assignment.objects.filter(assignment_id=assignment_id, account=sns_account).exists()


def _refused(response, status: int, account) -> None:
    assert response.status_code == status
    assert NotificationEvent.objects.filter(account=account, applied_at__isnull=False).count() == 0
    assert Assignment.objects.filter(account=account).count() == 0


def test_tampered_body_is_refused(client, sns_account, fresh_emulator, account_gateway):
    (hit_id,) = create_hits(account_gateway, 1)
    message = signed(fresh_emulator, event_document(hit_id))
    message["Message"] = message["Message"].replace("AssignmentSubmitted", "AssignmentApproved")

    response = post(client, sns_account.slug, message)

    _refused(response, 403, sns_account)
    assert NotificationEvent.objects.count() == 0
    state = SyncState.objects.get(account=sns_account)
    assert state.webhook_rejections == 1 and "signature" in state.last_webhook_rejection


def test_wrong_topic_is_refused(client, sns_account, fresh_emulator, account_gateway):
    (hit_id,) = create_hits(account_gateway, 1)
    message = signed(
        fresh_emulator,
        event_document(hit_id),
        topic="arn:aws:sns:us-east-1:123456789012:someone-else",
    )

    _refused(post(client, sns_account.slug, message), 403, sns_account)
    assert NotificationEvent.objects.count() == 0


def test_malformed_json_oversize_unknown_account_and_wrong_method(client, sns_account):
    _refused(post(client, sns_account.slug, "{not json", "Notification"), 400, sns_account)
    _refused(post(client, sns_account.slug, "x" * (300 * 1024), "Notification"), 413, sns_account)
    _refused(post(client, "no-such-account", "{}", "Notification"), 400, sns_account)
    assert client.get(reverse("sns-webhook", kwargs={"slug": sns_account.slug})).status_code == 405
    assert SyncState.objects.get(account=sns_account).webhook_rejections == 2


def test_signed_but_not_an_event_document_is_refused_and_kept(client, sns_account, fresh_emulator):
    message = signed(fresh_emulator, {"hello": "world"})

    response = post(client, sns_account.slug, message)

    assert response.status_code == 400, response.json()
    assert "not an MTurk event document" in response.json()["error"]
    kept = NotificationEvent.objects.get(account=sns_account)
    assert (
        kept.event_doc_id.startswith("invalid-")
        and kept.applied_at is None
        and "EventDocId" in kept.error
    )


def test_header_type_must_match_body(client, sns_account, fresh_emulator, account_gateway):
    (hit_id,) = create_hits(account_gateway, 1)
    message = signed(fresh_emulator, event_document(hit_id))

    _refused(
        post(client, sns_account.slug, message, message_type="SubscriptionConfirmation"),
        400,
        sns_account,
    )


def test_emulator_account_without_trusted_certificate_refuses_everything(
    client, emulator_account, fresh_emulator, account_gateway
):
    emulator_account.sns_topic_arn = TOPIC
    emulator_account.save()
    (hit_id,) = create_hits(account_gateway, 1)

    _refused(
        post(client, emulator_account.slug, signed(fresh_emulator, event_document(hit_id))),
        403,
        emulator_account,
    )


@pytest.fixture
def aws_account(emulator_account):
    """A sandbox account: trusts SNS's own certificates, fetched from sns.<region>.amazonaws.com."""
    emulator_account.environment = Environment.SANDBOX
    emulator_account.endpoint_url = ""
    emulator_account.save()
    return emulator_account


def _vector(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "path", [p for p in VECTORS if not _vector(p).get("lambda_format")], ids=lambda p: p.stem
)
def test_real_aws_signed_messages_pass_the_signature_check(client, aws_account, monkeypatch, path):
    vector = _vector(path)
    message = vector["message"]
    aws_account.sns_topic_arn = message["TopicArn"]
    aws_account.save()
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return vector["cert_pem"].encode()

    # AWS signed these years ago: the webhook's age limit applies as if now were the message time.
    signed_at = dt.datetime.fromisoformat(message["Timestamp"].replace("Z", "+00:00"))
    monkeypatch.setattr(
        "mirror.sns_receiver._verifiers",
        {
            verifier_key(aws_account): build_verifier(
                fetch_certificate=fetch, now=lambda: signed_at + dt.timedelta(minutes=5)
            )
        },
    )

    response = post(client, aws_account.slug, message)
    tampered = dict(message, Timestamp=message["Timestamp"].replace("0", "1", 1))
    refused = post(client, aws_account.slug, tampered)

    assert fetched and fetched[0] == vector["signing_cert_url"]
    if message["Type"] == "SubscriptionConfirmation":
        assert response.status_code == 200 and response.json() == {"status": "confirmation"}
    else:
        # Authentic, but AWS's test messages are not MTurk event documents: refused after the check.
        assert (
            response.status_code == 400
            and "not an MTurk event document" in response.json()["error"]
        )
    assert refused.status_code == 403


def test_foreign_certificate_urls_are_refused_without_fetching(client, aws_account, monkeypatch):
    vector = _vector(VECTORS[0])
    aws_account.sns_topic_arn = vector["message"]["TopicArn"]
    aws_account.save()
    fetched: list[str] = []
    signed_at = dt.datetime.fromisoformat(vector["message"]["Timestamp"].replace("Z", "+00:00"))
    monkeypatch.setattr(
        "mirror.sns_receiver._verifiers",
        {
            verifier_key(aws_account): build_verifier(
                fetch_certificate=lambda url: fetched.append(url) or vector["cert_pem"].encode(),
                now=lambda: signed_at,
            )
        },
    )

    for url in [
        "http://sns.us-east-1.amazonaws.com/cert.pem",
        "https://sns.evil.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com.evil.com/x.pem",
        "https://sns.us-east-1.amazonaws.com/cert.txt",
    ]:
        response = post(client, aws_account.slug, dict(vector["message"], SigningCertURL=url))
        assert response.status_code == 403, url
    assert fetched == []


def test_subscription_confirmation_is_fetched_only_from_trusted_hosts(sns_account, fresh_emulator):
    assert (
        confirm_subscription(
            account=sns_account, subscribe_url="https://evil.example.com/confirm?Token=x"
        )
        is False
    )
    assert (
        confirm_subscription(
            account=sns_account, subscribe_url="http://127.0.0.1:1/_emulator/sns/confirm?Token=x"
        )
        is False
    )


def test_verifiers_are_shared_per_trust_setting(sns_account, aws_account):
    assert verifier_for(aws_account) is verifier_for(aws_account)


# --- Unknown slugs answer like real ones (issue 10, item 7) ---------------------------------------


def test_unknown_and_real_slugs_get_the_same_answers(
    client, sns_account, fresh_emulator, account_gateway
):
    (hit_id,) = create_hits(account_gateway, 1)
    other_signer = signed(fresh_emulator, event_document(hit_id))
    other_signer["Signature"] = other_signer["Signature"][::-1]  # a forgery
    bodies = [
        ("{not json", "Notification"),
        ("[]", "Notification"),
        ("{}", "Notification"),
        (json.dumps(other_signer), "Notification"),
        (json.dumps(signed(fresh_emulator, event_document(hit_id), topic=TOPIC + "-x")), None),
    ]
    inactive = type(sns_account).objects.create(
        name="Old lab", slug="old-lab", environment="emulator", endpoint_url="http://127.0.0.1:1/"
    )
    inactive.is_active = False
    inactive.save()

    for body, message_type in bodies:
        answers = {
            slug: post(client, slug, body, message_type or "Notification")
            for slug in (sns_account.slug, "no-such-lab", inactive.slug)
        }
        first = answers[sns_account.slug]
        assert first.status_code in (400, 403), body
        for slug, answer in answers.items():
            assert (answer.status_code, answer.json()) == (first.status_code, first.json()), slug

    assert post(client, "no-such-lab", other_signer).json() == {"error": REFUSED}
    # Rejections are counted for the real account only, with the real reason kept there.
    assert SyncState.objects.get(account=sns_account).webhook_rejections == len(bodies)
    assert not SyncState.objects.filter(account=inactive).exists()
    assert NotificationEvent.objects.count() == 0


# --- Old messages and SNS MessageId (item 8) ------------------------------------------------------


def test_messages_older_than_the_limit_are_refused(
    client, sns_account, fresh_emulator, account_gateway, settings
):
    (hit_id,) = create_hits(account_gateway, 1)

    old = post(
        client,
        sns_account.slug,
        signed(fresh_emulator, event_document(hit_id), age=dt.timedelta(hours=2)),
    )
    recent = post(
        client,
        sns_account.slug,
        signed(fresh_emulator, event_document(hit_id), age=dt.timedelta(minutes=10)),
    )
    settings.SNS_MAX_MESSAGE_AGE_SECONDS = 300
    stricter = post(
        client,
        sns_account.slug,
        signed(fresh_emulator, event_document(hit_id), age=dt.timedelta(minutes=10)),
    )

    assert (old.status_code, old.json()) == (403, {"error": REFUSED})
    assert recent.status_code == 200 and recent.json() == {"status": "recorded"}
    assert stricter.status_code == 403
    state = SyncState.objects.get(account=sns_account)
    assert state.webhook_rejections == 2 and "too old" in state.last_webhook_rejection
    assert NotificationEvent.objects.filter(account=sns_account).count() == 1


def test_real_aws_vectors_are_refused_at_todays_date(client, aws_account, monkeypatch):
    vector = _vector(VECTORS[0])
    aws_account.sns_topic_arn = vector["message"]["TopicArn"]
    aws_account.save()
    fetched: list[str] = []
    monkeypatch.setattr(
        "mirror.sns_receiver._verifiers",
        {
            verifier_key(aws_account): build_verifier(
                fetch_certificate=lambda url: fetched.append(url) or vector["cert_pem"].encode()
            )
        },
    )

    response = post(client, aws_account.slug, vector["message"])

    assert response.status_code == 403
    assert "too old" in SyncState.objects.get(account=aws_account).last_webhook_rejection
    assert fetched == []  # the age is checked before any certificate is fetched


def test_a_message_id_is_recorded_once_even_with_a_new_document(
    client,
    sns_account,
    fresh_emulator,
    account_gateway,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    first_hit, second_hit = create_hits(account_gateway, 2)
    message_id = str(uuid.uuid4())

    with django_capture_on_commit_callbacks(execute=True):
        first = post(
            client,
            sns_account.slug,
            signed(fresh_emulator, event_document(first_hit), message_id=message_id),
        )
    with django_capture_on_commit_callbacks(execute=True):
        again = post(
            client,
            sns_account.slug,
            signed(fresh_emulator, event_document(second_hit), message_id=message_id),
        )

    assert first.json() == {"status": "recorded"} and again.json() == {"status": "duplicate"}
    event = NotificationEvent.objects.get(account=sns_account)
    assert event.sns_message_id == message_id
    assert not HIT.objects.filter(account=sns_account, hit_id=second_hit).exists()


def test_one_message_id_per_account_is_enforced_by_the_database(sns_account):
    from django.db import IntegrityError, transaction

    NotificationEvent.objects.create(
        account=sns_account, event_doc_id="a", sns_message_id="m-1", source="sns", document="{}"
    )
    NotificationEvent.objects.create(
        account=sns_account, event_doc_id="b", source="sqs", document="{}"
    )
    NotificationEvent.objects.create(  # SQS rows carry no MessageId: blanks never collide
        account=sns_account, event_doc_id="c", source="sqs", document="{}"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        NotificationEvent.objects.create(
            account=sns_account, event_doc_id="d", sns_message_id="m-1", source="sns", document="{}"
        )


# --- Subscription confirmations (item 9) ----------------------------------------------------------


def test_a_confirmation_for_a_foreign_host_is_refused_at_once(
    client, sns_account, fresh_emulator, eager_celery, django_capture_on_commit_callbacks
):
    message = signed_confirmation(fresh_emulator, "https://evil.example.com/confirm?Token=x")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(client, sns_account.slug, message)

    assert (response.status_code, response.json()) == (403, {"error": REFUSED})
    assert callbacks == []  # no confirmation task queued
    state = SyncState.objects.get(account=sns_account)
    assert state.webhook_rejections == 1 and "SubscribeURL" in state.last_webhook_rejection
    assert "evil.example.com" in state.last_webhook_rejection


def test_a_confirmation_from_the_emulator_is_confirmed_through_the_bounded_fetch(
    client, sns_account, fresh_emulator, eager_celery, django_capture_on_commit_callbacks
):
    subscription = fresh_emulator.control.post(
        "sns/subscriptions", {"TopicArn": TOPIC, "Endpoint": "http://127.0.0.1:9/unused/"}
    )
    message = signed_confirmation(fresh_emulator, subscription["SubscribeURL"])

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, sns_account.slug, message)

    assert response.json() == {"status": "confirmation"}
    subscriptions = fresh_emulator.control.get(f"sns/subscriptions?TopicArn={TOPIC}")
    assert [
        s["Confirmed"]
        for s in subscriptions["Subscriptions"]
        if s["SubscriptionArn"] == subscription["SubscriptionArn"]
    ] == [True]


def test_confirming_refuses_redirects_from_a_trusted_host(sns_account):
    from tests.httpstub import http_stub

    with http_stub() as stub:
        stub.route("/_emulator/sns/confirm", status=302, headers={"Location": stub.url + "/x"})
        type(sns_account).objects.filter(pk=sns_account.pk).update(endpoint_url=stub.url)
        sns_account.refresh_from_db()

        assert (
            confirm_subscription(
                account=sns_account, subscribe_url=stub.url + "/_emulator/sns/confirm?Token=t"
            )
            is False
        )
        assert stub.requested == ["/_emulator/sns/confirm?Token=t"]


# --- Content-Length (item 11) ---------------------------------------------------------------------


@pytest.mark.parametrize("length", ["abc", "-1", "²", "1e3", " "])
def test_a_malformed_content_length_is_a_400_not_a_500(client, sns_account, length):
    client.raise_request_exception = False

    response = post(client, sns_account.slug, "{}", "Notification", CONTENT_LENGTH=length)
    unknown = post(client, "no-such-lab", "{}", "Notification", CONTENT_LENGTH=length)

    assert response.status_code == 400
    assert "Content-Length" in response.json()["error"]
    assert (unknown.status_code, unknown.json()) == (400, response.json())
    assert SyncState.objects.get(account=sns_account).webhook_rejections == 1
