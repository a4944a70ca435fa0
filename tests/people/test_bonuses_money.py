"""Money tests against the emulator: every ledger row is paid exactly once, by the emulator's
truth, through throttling and service faults, a worker killed in the middle of a job, a file
uploaded again, a double-submitted confirmation, a retried send, and a row whose UniqueRequestToken
MTurk has forgotten (older than 24 hours). Nothing of ours is mocked; only the waits between
retries are skipped (botocore's backoff and the job loop's breather), so faults cost no time."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import intent_jobs, intents
from dashboard.enums import IntentState, JobState
from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import Progress, requeue_stale_jobs
from dashboard.models import AuditEvent, Job
from dashboard.mturk_access import account_gateway
from mturk.errors import MTurkError
from mturk.fees import bonus_cost
from people.jobs import bonuses as bonus_jobs
from people.models import Bonus, BonusRun
from people.services.bonuses import execute_bonus, request_bonus
from tests.hits.test_decisions import balance
from tests.people.bonus_fixtures import (
    bonus_csv,
    payments_per_row,
    populate_and_sync,
    truth_bonuses,
)

DAY = 86400


class WorkerKilled(BaseException):
    """The worker process dies: nothing after this point runs (not even `except Exception`)."""


class _NoSleep:
    """The `time` module without its waits."""

    def __getattr__(self, name: str):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        return None


@pytest.fixture
def no_backoff(monkeypatch):
    # botocore waits between its own retries (only mturk/ imports botocore, hence the path).
    monkeypatch.setattr("botocore.endpoint.time", _NoSleep())
    monkeypatch.setattr(intent_jobs, "time", _NoSleep())


def send_until_accepted(gateway, bonus: Bonus) -> None:
    """SendBonus for the row as a worker would, through the faults, until MTurk takes it."""
    while True:
        try:
            gateway.send_bonus(
                worker_id=bonus.worker_id,
                assignment_id=bonus.assignment_id,
                amount=bonus.amount,
                reason=bonus.reason,
                token=bonus.unique_request_token,
            )
            return
        except MTurkError as exc:
            if not exc.retryable:
                raise


@pytest.mark.slow
@pytest.mark.django_db
def test_a_bulk_bonus_of_1000_rows_pays_each_row_once_through_faults_a_killed_worker_a_new_upload_and_a_double_submit(  # noqa: E501
    lab_admin_client,
    emulator_account,
    fresh_emulator,
    eager_celery,
    no_backoff,
    django_capture_on_commit_callbacks,
):
    control = fresh_emulator.control
    assignments = populate_and_sync(fresh_emulator, emulator_account, 1000)
    rows = [
        (a.worker.worker_id, a.assignment_id, f"{i % 5 + 1}.{i % 100:02d}", f"Bonus {i % 3}")
        for i, a in enumerate(assignments)
    ]
    expected = Counter((w, a, Decimal(amount), reason) for w, a, amount, reason in rows)
    data = bonus_csv(rows)
    before = balance(control)

    upload_url = reverse("bonus-upload", args=[emulator_account.slug])
    response = lab_admin_client.post(upload_url, {"file": _file(data)})
    assert response.status_code == 302
    run = BonusRun.objects.get()
    token = lab_admin_client.get(response["Location"]).context["form"].initial["confirmation"]
    confirm_url = reverse("bonus-run-confirm", args=[emulator_account.slug, run.pk])
    with django_capture_on_commit_callbacks(execute=False):  # its worker is the one below
        assert lab_admin_client.post(confirm_url, {"confirmation": token}).status_code == 302
    job = Job.objects.get()
    assert Bonus.objects.filter(job=job).count() == 1000

    control.set_faults(seed=5, throttle_rate=0.1, fault_rate=0.1, latency_ms=1)

    # A first worker takes the job, pays 300 rows, and dies while paying the 301st: MTurk has
    # paid it, the ledger still says `sending`.
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), attempts=1
    )
    job.refresh_from_db()
    finished = 0

    def dying_send(bonus_id: int, gateway):
        nonlocal finished
        if finished == 300:
            bonus = intents.claim(Bonus, bonus_id, reclaim_sending=True)
            assert bonus is not None
            send_until_accepted(gateway, bonus)
            raise WorkerKilled
        bonus = bonus_jobs._send(bonus_id, gateway)
        if bonus is not None and bonus.state in (IntentState.DONE, IntentState.ALREADY):
            finished += 1
        return bonus

    with pytest.raises(WorkerKilled):
        carry_out_intents(job, Progress(job), model=Bonus, send=dying_send)
    killed_row = Bonus.objects.get(job=job, state=IntentState.SENDING)
    assert len(truth_bonuses(control)) == 301

    # Time passes: the job's heartbeat and the row's claim are old. The janitor hands the job to
    # another worker (inline here), which finishes it without paying the 301st row again.
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    Bonus.objects.filter(pk=killed_row.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert job.pk in requeue_stale_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.attempts == 2 and (job.total, job.done, job.failed) == (1000, 1000, 0)
    killed_row.refresh_from_db()
    assert killed_row.state == IntentState.ALREADY and killed_row.attempts == 2

    # The confirmation posted again shows the same job; the file uploaded again pays nothing.
    again = lab_admin_client.post(confirm_url, {"confirmation": token})
    assert again.status_code == 302 and again["Location"] == job.get_absolute_url()
    response = lab_admin_client.post(upload_url, {"file": _file(data)})
    assert response.status_code == 400
    problems = response.context["plan"].problems
    assert len(problems) == 1000
    assert all(p.message.startswith("Already in the bonus ledger") for p in problems)
    assert Job.objects.count() == 1 and BonusRun.objects.count() == 1

    control.set_faults(throttle_rate=0, fault_rate=0, latency_ms=0)
    errors = control.get("calls")["error_counts"]
    assert errors.get("Throttled", 0) > 50 and errors.get("ServiceFault", 0) > 50  # faults happened
    assert payments_per_row(control) == expected  # each row paid exactly once, as written
    states = Counter(Bonus.objects.values_list("state", flat=True))
    assert states == {IntentState.DONE: 999, IntentState.ALREADY: 1}
    assert AuditEvent.objects.filter(action="bonus.send", outcome="succeeded").count() == 1000
    spent = before - balance(control)
    assert spent == sum((bonus_cost(amount) * n for (_w, _a, amount, _r), n in expected.items()))


def _file(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("bonuses.csv", data, content_type="text/csv")


@pytest.mark.django_db
def test_a_row_paid_but_left_sending_past_mturks_24_hours_is_found_paid_and_not_sent_again(
    emulator_account, fresh_emulator, admin_user, django_capture_on_commit_callbacks
):
    control = fresh_emulator.control
    (assignment,) = populate_and_sync(fresh_emulator, emulator_account, 1)
    with django_capture_on_commit_callbacks(execute=False):  # its task dies with the worker
        bonus = request_bonus(
            account=emulator_account,
            assignment=assignment,
            amount="2.00",
            reason="Thanks",
            requested_by=admin_user,
        )
    with account_gateway(emulator_account) as gateway:
        claimed = intents.claim(Bonus, bonus.pk)
        assert claimed is not None
        send_until_accepted(gateway, claimed)  # MTurk pays; the worker dies before recording it
        Bonus.objects.filter(pk=bonus.pk).update(claimed_at=timezone.now() - timedelta(days=1))
        control.advance(25 * 3600)  # MTurk forgets the token after 24 hours

        result = execute_bonus(bonus_id=bonus.pk, gateway=gateway)

        assert result is not None
        assert result.state == IntentState.ALREADY and result.attempts == 2
        calls = control.get("calls")["call_counts"]
        assert calls["SendBonus"] == 1 and calls["ListBonusPayments"] >= 1
        assert len(truth_bonuses(control)) == 1
        event = AuditEvent.objects.get(action="bonus.send")
        assert event.outcome == "succeeded" and event.parameters["already"] is True

        # The token alone would not have saved us: MTurk has forgotten it and pays again.
        assert (
            gateway.send_bonus(
                worker_id=bonus.worker_id,
                assignment_id=bonus.assignment_id,
                amount=bonus.amount,
                reason=bonus.reason,
                token=bonus.unique_request_token,
            ).outcome
            == "sent"
        )
    assert len(truth_bonuses(control)) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("pay_again", [False, True])
def test_a_send_retried_after_an_error_pays_once_and_a_pay_again_row_is_not_taken_for_the_first(
    emulator_account,
    fresh_emulator,
    admin_user,
    no_backoff,
    django_capture_on_commit_callbacks,
    pay_again,
):
    """A retry first looks at ListBonusPayments; the ledger's finished rows with the same worker,
    amount and reason account for the payments it finds, so a deliberate second payment of the
    same amount and reason is still made."""
    control = fresh_emulator.control
    (assignment,) = populate_and_sync(fresh_emulator, emulator_account, 1)
    request = {
        "account": emulator_account,
        "assignment": assignment,
        "amount": "1.00",
        "reason": "Thanks",
    }
    with account_gateway(emulator_account) as gateway:
        if pay_again:
            with django_capture_on_commit_callbacks(execute=False):
                first = request_bonus(**request, requested_by=admin_user)
            assert execute_bonus(bonus_id=first.pk, gateway=gateway).state == IntentState.DONE
        with django_capture_on_commit_callbacks(execute=False):
            bonus = request_bonus(
                **request,
                pay_again=pay_again,
                pay_again_reason="Second task" if pay_again else "",
                requested_by=admin_user,
            )
        control.set_faults(operations={"SendBonus": {"fault_rate": 1.0}})
        assert execute_bonus(bonus_id=bonus.pk, gateway=gateway).state == IntentState.PENDING
        control.set_faults(operations={})
        retried = execute_bonus(bonus_id=bonus.pk, gateway=gateway)
    assert retried.state == IntentState.DONE and retried.attempts == 2
    assert len(truth_bonuses(control)) == (2 if pay_again else 1)


@pytest.mark.django_db
def test_the_janitor_sends_a_single_bonus_whose_task_was_lost_once(
    emulator_account, fresh_emulator, admin_user, eager_celery, django_capture_on_commit_callbacks
):
    (assignment,) = populate_and_sync(fresh_emulator, emulator_account, 1)
    with django_capture_on_commit_callbacks(execute=False):  # the task's message is lost
        bonus = request_bonus(
            account=emulator_account,
            assignment=assignment,
            amount="0.75",
            reason="Thanks",
            requested_by=admin_user,
        )
    Bonus.objects.filter(pk=bonus.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    assert intents.requeue_stale(Bonus) == 1  # beat; the task runs inline (eager)
    assert intents.requeue_stale(Bonus) == 0  # nothing left to send

    bonus.refresh_from_db()
    assert bonus.state == IntentState.DONE
    assert [b["BonusAmount"] for b in truth_bonuses(fresh_emulator.control)] == ["0.75"]
