"""Notifications through SQS: the emulator sends to moto's SQS; the consumer records each document
once and deletes the message only after its row is committed; the applier re-reads each HIT the
recorded events name, once however many name it."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from dashboard.models import NotificationEvent
from hits.models import Assignment
from mirror.events import CLAIM_SECONDS, apply_account_events, apply_pending_events
from mirror.sqs_consumer import consume_queue, sqs_queue_for
from mturk.sqs import SqsMessage, endpoint_and_region
from tests.hits.test_sync import create_hits, work

pytestmark = pytest.mark.django_db

EVENTS = [
    "AssignmentAccepted",
    "AssignmentSubmitted",
    "AssignmentApproved",
    "AssignmentReturned",
    "AssignmentAbandoned",
    "HITReviewable",
    "HITExpired",
]


@pytest.fixture
def sqs_account(emulator_account, sqs_queue_url):
    emulator_account.sqs_queue_url = sqs_queue_url
    emulator_account.save()
    return emulator_account


def wire(gateway, hit_id: str, queue_url: str) -> None:
    hit_type_id = gateway.get_hit(hit_id=hit_id).hit_type_id
    gateway.update_notification_settings(
        hit_type_id=hit_type_id, destination=queue_url, transport="SQS", event_types=EVENTS
    )


def test_events_through_sqs_reach_the_mirror_once(sqs_account, account_gateway, fresh_emulator):
    (hit_id,) = create_hits(account_gateway, 1)
    wire(account_gateway, hit_id, sqs_account.sqs_queue_url)
    assignment_id = work(fresh_emulator.control, hit_id, "AWORKERONE0001")
    assert fresh_emulator.control.post("notifications/drain", {"timeout": 10})

    counts = consume_queue(account=sqs_account, queue=sqs_queue_for(sqs_account))
    again = consume_queue(account=sqs_account, queue=sqs_queue_for(sqs_account))
    applied = apply_account_events(account=sqs_account, gateway=account_gateway)

    assert counts.received >= 2 and counts.recorded >= 2 and counts.deleted == counts.received
    assert again.received == 0
    # Every event names the one HIT: it is re-read once for all of them.
    assert applied.events_applied == counts.recorded and applied.hits_synced == 1
    assert Assignment.objects.filter(assignment_id=assignment_id, status="Submitted").exists()
    assert (
        NotificationEvent.objects.filter(account=sqs_account, applied_at__isnull=True).count() == 0
    )


class FakeQueue:
    """A queue that hands out given bodies once and remembers what was deleted (the consumer's
    contract with SQS, used to test ordering and duplicates deterministically)."""

    def __init__(self, bodies: list[str]) -> None:
        self.messages = [
            SqsMessage(message_id=str(n), receipt_handle=f"rh-{n}", body=b)
            for n, b in enumerate(bodies)
        ]
        self.deleted: list[str] = []
        self.lock = threading.Lock()  # the consumer keeps several receives in flight

    def receive(self, *, max_messages: int, wait_seconds: int) -> list[SqsMessage]:
        with self.lock:
            batch, self.messages = self.messages[:max_messages], self.messages[max_messages:]
        return batch

    def delete_batch(self, messages: list[SqsMessage]) -> list[SqsMessage]:
        with self.lock:
            self.deleted.extend(message.message_id for message in messages)
        return []


def _document(
    hit_id: str, event_type: str = "AssignmentSubmitted", doc_id: str | None = None
) -> str:
    return json.dumps(
        {
            "EventDocVersion": "2014-08-15",
            "EventDocId": doc_id or uuid.uuid4().hex,
            "CustomerId": "A1REQUESTER",
            "Events": [
                {
                    "EventType": event_type,
                    "EventTimestamp": "2026-11-23T10:00:00Z",
                    "HITTypeId": "3X",
                    "HITId": hit_id,
                }
            ],
        }
    )


def test_duplicates_and_out_of_order_documents_converge(
    sqs_account, account_gateway, fresh_emulator
):
    (hit_id,) = create_hits(account_gateway, 1)
    assignment_id = work(fresh_emulator.control, hit_id, "AWORKERONE0001")
    account_gateway.approve_assignment(assignment_id=assignment_id)
    approved, submitted = (
        _document(hit_id, "AssignmentApproved"),
        _document(hit_id, "AssignmentSubmitted"),
    )
    queue = FakeQueue([approved, submitted, approved, submitted])  # newest first, each twice

    counts = consume_queue(account=sqs_account, queue=queue)
    applied = apply_pending_events(account=sqs_account, gateway=account_gateway)

    assert (counts.received, counts.recorded, counts.duplicates) == (4, 2, 2)
    assert (applied.events_applied, applied.hits_synced) == (2, 1)
    assert queue.deleted == ["0", "1", "2", "3"]
    assert Assignment.objects.get(assignment_id=assignment_id).status == "Approved"


def test_messages_that_are_not_event_documents_are_kept_and_deleted(sqs_account, account_gateway):
    queue = FakeQueue(
        ["not json", json.dumps({"EventDocId": "x", "Events": [{"EventType": "Explode"}]})]
    )

    counts = consume_queue(account=sqs_account, queue=queue)
    applied = apply_pending_events(account=sqs_account, gateway=account_gateway)

    assert counts.invalid == 2 and queue.deleted == ["0", "1"] and applied.events_applied == 0
    kept = NotificationEvent.objects.filter(account=sqs_account)
    assert kept.count() == 2 and all(e.applied_at is None and e.error for e in kept)


def test_an_event_mturk_cannot_be_asked_about_waits_in_the_database_not_the_queue(
    sqs_account, account_gateway, fresh_emulator
):
    (hit_id,) = create_hits(account_gateway, 1)
    fresh_emulator.control.set_faults(fault_rate=1.0)
    queue = FakeQueue([_document(hit_id)])

    counts = consume_queue(account=sqs_account, queue=queue)
    applied = apply_pending_events(account=sqs_account, gateway=account_gateway)

    assert counts.recorded == 1 and queue.deleted == ["0"]
    assert (applied.events_applied, applied.left_for_retry) == (0, 1)
    event = NotificationEvent.objects.get(account=sqs_account)
    assert event.applied_at is None and "ServiceFault" in event.error and event.attempts == 1
    assert event.claim_token == "" and event.claimed_until is None  # released for the next try


def test_consume_notifications_command_drains_the_queue(
    sqs_account, account_gateway, fresh_emulator, capsys
):
    (hit_id,) = create_hits(account_gateway, 1)
    wire(account_gateway, hit_id, sqs_account.sqs_queue_url)
    work(fresh_emulator.control, hit_id, "AWORKERONE0001")
    fresh_emulator.control.post("notifications/drain", {"timeout": 10})

    call_command("consume_notifications", "--account", sqs_account.slug, "--once")

    out = capsys.readouterr().out
    assert f"{sqs_account.slug}: received " in out and "invalid 0, left for retry 0" in out
    assert Assignment.objects.filter(account=sqs_account).count() == 1


def test_queue_urls_name_their_endpoint_and_region():
    assert endpoint_and_region("https://sqs.eu-west-1.amazonaws.com/123456789012/q") == (
        "https://sqs.eu-west-1.amazonaws.com",
        "eu-west-1",
    )
    assert endpoint_and_region("http://127.0.0.1:5000/123456789012/q") == (
        "http://127.0.0.1:5000",
        "us-east-1",
    )
    with pytest.raises(ValueError):
        endpoint_and_region("ftp://example.org/q")


def test_events_that_met_a_retryable_error_are_retried_later(
    sqs_account, account_gateway, fresh_emulator
):
    (hit_id,) = create_hits(account_gateway, 1)
    assignment_id = work(fresh_emulator.control, hit_id, "AWORKERONE0001")
    fresh_emulator.control.set_faults(fault_rate=1.0)
    consume_queue(account=sqs_account, queue=FakeQueue([_document(hit_id)]))
    apply_pending_events(account=sqs_account, gateway=account_gateway)
    fresh_emulator.control.set_faults(fault_rate=0.0)

    applied = apply_pending_events(account=sqs_account, gateway=account_gateway)

    assert applied.events_applied == 1
    event = NotificationEvent.objects.get(account=sqs_account)
    assert event.applied_at is not None and event.attempts == 2 and event.error == ""
    assert Assignment.objects.filter(assignment_id=assignment_id).exists()


def test_an_error_stops_the_batch_and_releases_the_events_not_reached(
    sqs_account, account_gateway, fresh_emulator
):
    first, second = create_hits(account_gateway, 2)
    consume_queue(account=sqs_account, queue=FakeQueue([_document(first), _document(second)]))
    fresh_emulator.control.set_faults(fault_rate=1.0)

    applied = apply_pending_events(account=sqs_account, gateway=account_gateway)

    assert (applied.events_applied, applied.left_for_retry) == (0, 1)
    events = NotificationEvent.objects.filter(account=sqs_account).order_by("received_at", "pk")
    assert [(e.attempts, bool(e.error)) for e in events] == [(1, True), (0, False)]
    assert not events.exclude(claim_token="").exists()


def test_appliers_at_once_never_take_the_same_event(sqs_account, account_gateway):
    (hit_id,) = create_hits(account_gateway, 1)
    consume_queue(account=sqs_account, queue=FakeQueue([_document(hit_id) for _ in range(3)]))
    # Another applier holds the two oldest events (its claim has not run out).
    held = NotificationEvent.objects.order_by("received_at", "pk")[:2]
    until = timezone.now() + dt.timedelta(seconds=CLAIM_SECONDS)
    NotificationEvent.objects.filter(pk__in=[e.pk for e in held]).update(
        claim_token="other", claimed_until=until
    )

    applied = apply_pending_events(account=sqs_account, gateway=account_gateway)

    assert applied.events_applied == 1
    assert (
        NotificationEvent.objects.filter(claim_token="other", applied_at__isnull=True).count() == 2
    )


def test_a_claim_whose_applier_died_is_taken_again(sqs_account, account_gateway):
    (hit_id,) = create_hits(account_gateway, 1)
    consume_queue(account=sqs_account, queue=FakeQueue([_document(hit_id)]))
    NotificationEvent.objects.update(
        claim_token="dead", claimed_until=timezone.now() - dt.timedelta(seconds=1)
    )

    applied = apply_pending_events(account=sqs_account, gateway=account_gateway)

    assert applied.events_applied == 1
    event = NotificationEvent.objects.get()
    assert event.applied_at is not None and event.claim_token == "" and event.attempts == 1


def test_a_document_delivered_by_two_consumers_at_once_is_recorded_once(sqs_account):
    body = _document("3HITID", doc_id="doc-1")

    first = consume_queue(account=sqs_account, queue=FakeQueue([body, body]))
    second = consume_queue(account=sqs_account, queue=FakeQueue([body]))

    assert (first.recorded, first.duplicates, first.deleted) == (1, 1, 2)
    assert (second.recorded, second.duplicates, second.deleted) == (0, 1, 1)
    assert NotificationEvent.objects.filter(account=sqs_account).count() == 1


def test_receives_in_flight_record_every_message_once_and_delete_each(sqs_account):
    bodies = [_document(f"3HIT{n:03d}") for n in range(35)] + [_document("x", doc_id="bad")[:-1]]

    counts = consume_queue(account=sqs_account, queue=(queue := FakeQueue(bodies)), in_flight=3)

    assert (counts.received, counts.recorded, counts.invalid, counts.deleted) == (36, 35, 1, 36)
    assert sorted(queue.deleted, key=int) == [str(n) for n in range(36)]
    assert NotificationEvent.objects.filter(account=sqs_account).count() == 36
