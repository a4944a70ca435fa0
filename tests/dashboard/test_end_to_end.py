"""End to end on PostgreSQL + Redis: a real Celery worker and beat, the emulator delivering to moto's
SQS and to the SNS webhook of a live server. A worker submits in the emulator and the assignment
reaches the database through each door on its own: (a) the scheduled sync, (b) SQS polled by beat,
(c) the SNS webhook, whose queued task the worker runs."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from celery.beat import Scheduler, Service
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connections

from dashboard.celery import app
from dashboard.models import NotificationEvent, SyncState
from hits.models import Assignment
from tests.hits.test_sync import create_hits, work
from tests.truth import mirror_differences

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"]
        or not settings.CELERY_BROKER_IS_REDIS,
        reason="end-to-end runs on PostgreSQL + Redis only (set DATABASE_URL=postgres://... "
        "and CELERY_BROKER_URL=redis://...)",
    ),
    # Each test ends by emptying the tables; the roles come back with the flush (dashboard/roles.py).
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


NEVER = 3600.0  # seconds: a beat entry that will not come due during a test
EVENTS = [
    "AssignmentAccepted",
    "AssignmentSubmitted",
    "AssignmentApproved",
    "AssignmentRejected",
    "HITReviewable",
]


def beat_schedule(**fast: float) -> dict:
    """The real schedule from settings, every entry at NEVER except the named ones."""
    schedule = {}
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        schedule[name] = dict(entry, schedule=fast.get(name.replace("-", "_"), NEVER))
    assert set(fast) <= {name.replace("-", "_") for name in schedule}, fast
    return schedule


@contextmanager
def celery_running(schedule: dict) -> Iterator[None]:
    """A real worker (thread, solo pool) and a real beat (thread) through the configured broker."""
    app.control.purge()  # nothing left over from another test reaches this one's worker
    before = app.conf.beat_schedule
    app.conf.beat_schedule = schedule
    beat = Service(app, max_interval=0.25, scheduler_cls=Scheduler)
    beat_thread = threading.Thread(target=beat.start, name="test-beat", daemon=True)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
        ):
            beat_thread.start()
            try:
                yield
            finally:
                beat.stop(wait=False)
                beat_thread.join(timeout=10)
    finally:
        app.conf.beat_schedule = before
        app.control.purge()
        connections.close_all()


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def submitted_through_the_emulator(emulator, gateway, wire: Callable[[str], None] | None = None):
    """A HIT (one assignment), optionally wired for notifications, then a worker's submission."""
    (hit_id,) = create_hits(gateway, 1, max_assignments=1, title=f"E2E {uuid.uuid4().hex[:8]}")
    if wire is not None:
        wire(gateway.get_hit(hit_id=hit_id).hit_type_id)
    assignment_id = work(emulator.control, hit_id, "AWORKERENDTOEND1")
    return hit_id, assignment_id


def arrived(account, assignment_id: str) -> Callable[[], bool]:
    return lambda: Assignment.objects.filter(
        account=account, assignment_id=assignment_id, status="Submitted"
    ).exists()


def test_a_submission_arrives_through_the_scheduled_sync_alone(
    emulator_account, account_gateway, fresh_emulator
):
    with celery_running(beat_schedule(sync_reviewable=1.0)):
        hit_id, assignment_id = submitted_through_the_emulator(fresh_emulator, account_gateway)
        wait_for(arrived(emulator_account, assignment_id), "the scheduled reviewable sync")

    state = SyncState.objects.get(account=emulator_account)
    assert state.last_reviewable_sync_at is not None and state.last_full_sync_at is None
    assert NotificationEvent.objects.filter(account=emulator_account).count() == 0
    assert mirror_differences(emulator_account, fresh_emulator.control.truth()) == []


def test_a_submission_arrives_through_sqs_alone(
    emulator_account, account_gateway, fresh_emulator, sqs_queue_url
):
    emulator_account.sqs_queue_url = sqs_queue_url
    emulator_account.save()

    def wire(hit_type_id: str) -> None:
        account_gateway.update_notification_settings(
            hit_type_id=hit_type_id, destination=sqs_queue_url, transport="SQS", event_types=EVENTS
        )

    with celery_running(beat_schedule(consume_notifications=1.0)):
        hit_id, assignment_id = submitted_through_the_emulator(
            fresh_emulator, account_gateway, wire
        )
        wait_for(arrived(emulator_account, assignment_id), "the SQS notification")

    events = NotificationEvent.objects.filter(account=emulator_account)
    assert events.exists() and {e.source for e in events} == {"sqs"}
    assert events.filter(applied_at__isnull=False).exists()
    assert events.filter(event_types__contains=["AssignmentSubmitted"]).exists()
    state = SyncState.objects.filter(account=emulator_account).first()
    assert state is None or (state.last_reviewable_sync_at, state.last_full_sync_at) == (None, None)
    assert mirror_differences(emulator_account, fresh_emulator.control.truth()) == []


def test_a_submission_arrives_through_the_sns_webhook_alone(
    emulator_account, account_gateway, fresh_emulator, live_server
):
    control = fresh_emulator.control
    topic_arn = f"arn:aws:sns:us-east-1:123456789012:mturk-e2e-{uuid.uuid4().hex[:12]}"
    emulator_account.sns_topic_arn = topic_arn
    emulator_account.sns_trusted_certificate = control.get("sns/cert.pem")
    emulator_account.save()
    endpoint = f"{live_server.url}/notifications/sns/{emulator_account.slug}/"

    def wire(hit_type_id: str) -> None:
        account_gateway.update_notification_settings(
            hit_type_id=hit_type_id, destination=topic_arn, transport="SNS", event_types=EVENTS
        )

    def confirmed() -> bool:
        subscriptions = control.get(f"sns/subscriptions?TopicArn={topic_arn}")["Subscriptions"]
        return any(s["Endpoint"] == endpoint and s["Confirmed"] for s in subscriptions)

    subscription = None
    try:
        with celery_running(beat_schedule()):  # no beat entry comes due: the webhook alone
            subscription = control.post(
                "sns/subscriptions", {"TopicArn": topic_arn, "Endpoint": endpoint}
            )
            assert subscription["PendingConfirmation"] is True
            # The webhook verifies the SubscriptionConfirmation and queues the task that GETs
            # the SubscribeURL; the worker runs it.
            wait_for(confirmed, "the subscription to be confirmed by the worker")
            hit_id, assignment_id = submitted_through_the_emulator(
                fresh_emulator, account_gateway, wire
            )
            wait_for(arrived(emulator_account, assignment_id), "the SNS notification")
    finally:
        if subscription is not None:
            control.get(f"sns/unsubscribe?SubscriptionArn={subscription['SubscriptionArn']}")

    events = NotificationEvent.objects.filter(account=emulator_account)
    assert events.exists() and {e.source for e in events} == {"sns"}
    assert events.filter(applied_at__isnull=False).exists()
    state = SyncState.objects.filter(account=emulator_account).first()
    assert state is None or (state.last_reviewable_sync_at, state.last_full_sync_at) == (None, None)
    assert state is None or state.webhook_rejections == 0
    assert mirror_differences(emulator_account, control.truth()) == []
