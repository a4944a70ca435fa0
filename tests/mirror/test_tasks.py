"""The mirror's tasks: a sync that meets another sync of the same account waits its turn; the
notification tasks hand work on (one apply task per account and window, consuming goes on while a
backlog remains)."""

from __future__ import annotations

import time

import pytest
from celery.signals import task_retry

from mirror.sync import acquire_lease, release_lease
from mirror.tasks import BUSY_RETRIES, task_sync_account

pytestmark = pytest.mark.django_db


def test_a_sync_that_finds_the_account_busy_is_retried_before_it_is_skipped(emulator_account):
    retried: list[str] = []

    def note(sender=None, reason=None, **kwargs):
        retried.append(str(reason))

    task_retry.connect(note, weak=False)
    token = acquire_lease(emulator_account)
    try:
        busy = task_sync_account.apply(
            kwargs={"account_id": emulator_account.pk, "kind": "active"}
        ).get()
    finally:
        release_lease(emulator_account, token)
        task_retry.disconnect(note)
    free = task_sync_account.apply(
        kwargs={"account_id": emulator_account.pk, "kind": "active"}
    ).get()

    # The beats of the 60 s reviewable pass and the 120 s active pass fall due together: the one
    # that loses the lease must run later, not be dropped every time.
    assert len(retried) == BUSY_RETRIES
    assert busy == {"skipped": "busy"}
    assert free["ok"] is True


def _queued(monkeypatch) -> list[tuple[str, dict, float | None]]:
    """Replace the notification tasks' enqueueing with a list of what would have been queued."""
    from mirror import tasks

    queued: list[tuple[str, dict, float | None]] = []
    for task in (tasks.task_apply_pending_events, tasks.task_consume_notifications):
        monkeypatch.setattr(
            task, "delay", lambda task=task, **kw: queued.append((task.name, kw, None))
        )
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda kwargs, countdown=None, task=task: queued.append((task.name, kwargs, countdown)),
        )
    return queued


def test_one_apply_task_per_account_and_window(monkeypatch, settings, emulator_account):
    from django.core.cache import cache

    from mirror.tasks import request_apply

    settings.NOTIFICATIONS_APPLY_DELAY_SECONDS = 0.3
    cache.clear()
    queued = _queued(monkeypatch)

    for _ in range(50):  # 50 webhook posts within the window
        request_apply(emulator_account.pk)
    request_apply(emulator_account.pk + 1)
    time.sleep(0.35)
    request_apply(emulator_account.pk)  # the window has closed: a new one opens

    # Each task runs when its window closes, so it finds every event the window recorded.
    assert queued == [
        ("mirror.apply_pending_events", {"account_id": emulator_account.pk}, 0.3),
        ("mirror.apply_pending_events", {"account_id": emulator_account.pk + 1}, 0.3),
        ("mirror.apply_pending_events", {"account_id": emulator_account.pk}, 0.3),
    ]


def test_consuming_hands_pending_events_to_the_applier_and_goes_on_while_a_backlog_remains(
    monkeypatch, emulator_account
):
    from mirror import tasks

    queued = _queued(monkeypatch)
    emulator_account.sqs_queue_url = "http://127.0.0.1:1/123456789012/q"
    emulator_account.save()
    full = {"received": tasks.CONSUME_BATCHES * 10, "pending": 3}
    monkeypatch.setattr(tasks, "consume_account", lambda **kw: full)

    tasks.task_consume_notifications(account_id=emulator_account.pk)
    monkeypatch.setattr(tasks, "consume_account", lambda **kw: {"received": 4, "pending": 0})
    tasks.task_consume_notifications(account_id=emulator_account.pk)

    assert queued == [
        ("mirror.apply_pending_events", {"account_id": emulator_account.pk}, None),
        ("mirror.consume_notifications", {"account_id": emulator_account.pk}, None),
    ]


def test_an_apply_event_task_queued_by_an_earlier_version_applies_its_account(
    emulator_account, account_gateway, fresh_emulator
):
    from dashboard.models import NotificationEvent
    from hits.models import HIT
    from mirror.events import record_event_document
    from mirror.tasks import task_apply_event
    from tests.hits.test_sync import create_hits
    from tests.mirror.test_sqs import _document

    (hit_id,) = create_hits(account_gateway, 1)
    event, _ = record_event_document(
        account=emulator_account, raw=_document(hit_id), source="sns", sns_message_id="m-1"
    )

    result = task_apply_event(event_id=event.pk)

    assert result is not None and result["events_applied"] == 1
    assert NotificationEvent.objects.get(pk=event.pk).applied_at is not None
    assert HIT.objects.filter(account=emulator_account, hit_id=hit_id).exists()
    assert task_apply_event(event_id=event.pk + 999) is None
