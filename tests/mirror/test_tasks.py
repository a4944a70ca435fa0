"""The beat's sync task: a sync that meets another sync of the same account waits its turn."""

from __future__ import annotations

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
