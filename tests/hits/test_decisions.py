"""Review decisions against the emulator over real HTTP: each approval is made, and paid, once.

The emulator's truth is the judge: per assignment it counts approvals (`ApproveCount`) and payments
(`PaidCount`, `PaidAmount`), and it holds the account balance. Nothing of ours is mocked; faults
(throttling, service errors) are the emulator's own, switched on through its control API.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from dashboard.celery import app
from dashboard.enums import AuditOutcome, JobState
from dashboard.intents import MAX_ATTEMPTS, requeue_stale
from dashboard.jobs import run_job, start_job
from dashboard.models import AuditEvent, Job
from dashboard.mturk_access import gateway_for
from hits.enums import AssignmentStatus, DecisionAction, DecisionState
from hits.models import Assignment, Decision
from hits.services import (
    DecisionError,
    execute_decision,
    override_deadline,
    refusal,
    request_decisions,
)
from hits.sync import sync_full
from mirror.sync import run_sync
from mturk.errors import InvalidState
from mturk.fees import assignment_cost
from tests.hits.test_sync import create_hits, work
from workers.models import Worker

DAY = 86400
REWARD = Decimal("0.25")  # what create_hits pays per assignment
POPULATE_REWARD = Decimal("0.10")  # what /_emulator/populate pays per assignment


# --- helpers ---------------------------------------------------------------------------------------


def truth_by_id(control) -> dict[str, dict]:
    return {a["AssignmentId"]: a for a in control.truth("assignments")["assignments"]}


def balance(control) -> Decimal:
    return Decimal(control.truth("balance")["balance"]["AvailableBalance"])


def decide(account, assignment, action, feedback="", *, gateway, user=None) -> Decision:
    """Record one decision and carry it out, as the inline path does."""
    outcome = request_decisions(
        account=account,
        assignments=[assignment],
        action=action,
        feedback=feedback,
        requested_by=user,
    )
    assert outcome.skipped == [] and len(outcome.decisions) == 1
    decision = execute_decision(decision_id=outcome.decisions[0].pk, gateway=gateway)
    assert decision is not None
    return decision


@pytest.fixture
def submitted(emulator_account, account_gateway, fresh_emulator) -> list[Assignment]:
    """Three submitted assignments of one HIT (reward $0.25, three assignments), mirrored."""
    (hit_id,) = create_hits(account_gateway, 1, max_assignments=3)
    ids = [work(fresh_emulator.control, hit_id, f"AWORKERDECIDE{n}0{n}") for n in range(3)]
    sync_full(account=emulator_account, gateway=account_gateway)
    return [Assignment.objects.get(account=emulator_account, assignment_id=a) for a in ids]


# --- one decision at a time ------------------------------------------------------------------------


@pytest.mark.django_db
def test_approving_one_assignment_pays_once_and_is_audited(
    emulator_account, account_gateway, fresh_emulator, submitted, admin_user
):
    control = fresh_emulator.control
    target, untouched = submitted[0], submitted[1]
    before = balance(control)

    decision = decide(
        emulator_account,
        target,
        DecisionAction.APPROVE,
        "Thanks!",
        gateway=account_gateway,
        user=admin_user,
    )

    truth = truth_by_id(control)
    mturk = truth[target.assignment_id]
    assert (mturk["AssignmentStatus"], mturk["ApproveCount"], mturk["PaidCount"]) == (
        "Approved",
        1,
        1,
    )
    assert Decimal(mturk["PaidAmount"]) == REWARD
    assert mturk["RequesterFeedback"] == "Thanks!"
    assert before - balance(control) == assignment_cost(REWARD, 3) == Decimal("0.30")
    assert truth[untouched.assignment_id]["ApproveCount"] == 0

    assert (decision.state, decision.attempts, decision.error) == (DecisionState.DONE, 1, "")
    assert decision.finished_at is not None
    target.refresh_from_db()
    untouched.refresh_from_db()
    assert (target.status, target.requester_feedback) == (
        mturk["AssignmentStatus"],
        mturk["RequesterFeedback"],
    )
    assert target.approval_time is not None
    assert untouched.status == truth[untouched.assignment_id]["AssignmentStatus"] == "Submitted"
    assert Worker.objects.get(pk=target.worker_id).assignments_approved == 1

    event = AuditEvent.objects.get(action="assignment.approve")
    assert event.outcome == AuditOutcome.SUCCEEDED
    assert event.actor == admin_user and event.account == emulator_account
    assert event.target_ids == {
        "assignment": target.assignment_id,
        "hit": target.hit.hit_id,
        "worker": target.worker.worker_id,
    }
    # The request id is the emulator's x-amzn-RequestId for the ApproveAssignment call.
    assert event.mturk_request_id == decision.mturk_request_id
    assert uuid.UUID(event.mturk_request_id)


@pytest.mark.django_db
@pytest.mark.parametrize("feedback", ["", "   \n"])
def test_a_rejection_needs_a_reason_and_nothing_is_recorded_without_one(
    emulator_account, fresh_emulator, submitted, feedback
):
    with pytest.raises(DecisionError, match="needs a reason"):
        request_decisions(
            account=emulator_account,
            assignments=submitted[:1],
            action=DecisionAction.REJECT,
            feedback=feedback,
        )

    assert not Decision.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="assignment.").exists()
    mturk = truth_by_id(fresh_emulator.control)[submitted[0].assignment_id]
    assert mturk["AssignmentStatus"] == "Submitted"


@pytest.mark.django_db
def test_feedback_longer_than_mturk_allows_is_refused(emulator_account, submitted):
    with pytest.raises(DecisionError, match="1024"):
        request_decisions(
            account=emulator_account,
            assignments=submitted[:1],
            action=DecisionAction.REJECT,
            feedback="x" * 1025,
        )
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_rejecting_with_feedback_reaches_mturk_and_pays_nothing(
    emulator_account, account_gateway, fresh_emulator, submitted
):
    control = fresh_emulator.control
    target = submitted[0]
    before = balance(control)

    decision = decide(
        emulator_account,
        target,
        DecisionAction.REJECT,
        "  The answer field was left empty.  ",
        gateway=account_gateway,
    )

    mturk = truth_by_id(control)[target.assignment_id]
    assert mturk["AssignmentStatus"] == "Rejected"
    assert mturk["RequesterFeedback"] == "The answer field was left empty."
    assert (mturk["ApproveCount"], mturk["PaidCount"]) == (0, 0)
    assert balance(control) == before
    assert decision.state == DecisionState.DONE
    target.refresh_from_db()
    assert (target.status, target.requester_feedback) == (
        "Rejected",
        "The answer field was left empty.",
    )
    assert target.rejection_time is not None
    assert Worker.objects.get(pk=target.worker_id).assignments_rejected == 1
    event = AuditEvent.objects.get(action="assignment.reject")
    assert event.outcome == AuditOutcome.SUCCEEDED
    assert event.parameters["feedback"] == "The answer field was left empty."
    assert event.mturk_request_id == decision.mturk_request_id != ""


@pytest.mark.django_db
def test_a_rejection_can_be_undone_within_30_days(
    emulator_account, account_gateway, fresh_emulator, submitted
):
    control = fresh_emulator.control
    target = submitted[0]
    decide(emulator_account, target, DecisionAction.REJECT, "Wrong", gateway=account_gateway)
    before = balance(control)
    control.advance(29 * DAY)  # MTurk's clock: 29 days after submission, still inside the window
    target.refresh_from_db()

    assert refusal(target, DecisionAction.OVERRIDE) is None
    assert refusal(target, DecisionAction.APPROVE) == "it is already rejected"
    assert override_deadline(target) == target.submit_time + timedelta(days=30)
    decision = decide(
        emulator_account,
        target,
        DecisionAction.OVERRIDE,
        "Sorry, our mistake.",
        gateway=account_gateway,
    )

    mturk = truth_by_id(control)[target.assignment_id]
    assert decision.state == DecisionState.DONE
    assert mturk["AssignmentStatus"] == "Approved"
    assert (mturk["ApproveCount"], mturk["PaidCount"]) == (1, 1)
    assert mturk["RequesterFeedback"] == "Sorry, our mistake."
    assert before - balance(control) == assignment_cost(REWARD, 3)
    target.refresh_from_db()
    assert target.status == AssignmentStatus.APPROVED
    worker = Worker.objects.get(pk=target.worker_id)
    assert (worker.assignments_approved, worker.assignments_rejected) == (1, 0)
    assert AuditEvent.objects.filter(
        action="assignment.override", outcome=AuditOutcome.SUCCEEDED
    ).exists()


@pytest.mark.django_db
def test_undoing_a_rejection_is_refused_after_30_days(
    emulator_account, account_gateway, fresh_emulator, submitted
):
    control = fresh_emulator.control
    target = submitted[0]
    decide(emulator_account, target, DecisionAction.REJECT, "Wrong", gateway=account_gateway)
    control.advance(31 * DAY)
    # The mirror keeps MTurk's SubmitTime, and the session's emulated clock runs ahead of ours
    # (tests advance it), so a sync cannot make the submission look old to *our* clock: put the
    # mirror where MTurk's clock now is, 31 days after the submission.
    Assignment.objects.filter(pk=target.pk).update(submit_time=timezone.now() - timedelta(days=31))
    target.refresh_from_db()

    outcome = request_decisions(
        account=emulator_account, assignments=[target], action=DecisionAction.OVERRIDE
    )

    assert outcome.decisions == []
    assert outcome.skipped == [
        (
            target.assignment_id,
            "MTurk allows undoing a rejection only within 30 days of submission",
        )
    ]
    assert not Decision.objects.filter(action=DecisionAction.OVERRIDE).exists()
    assert override_deadline(target) < timezone.now()
    # MTurk agrees: its clock is past the window too, so the override itself is refused there.
    with pytest.raises(InvalidState, match="30 days"):
        account_gateway.approve_assignment(
            assignment_id=target.assignment_id, override_rejection=True
        )
    mturk = truth_by_id(control)[target.assignment_id]
    assert (mturk["AssignmentStatus"], mturk["ApproveCount"], mturk["PaidCount"]) == (
        "Rejected",
        0,
        0,
    )


@pytest.mark.django_db
def test_a_refusal_by_mturk_fails_the_decision_with_its_message_and_audits_it(
    emulator_account, account_gateway, fresh_emulator, submitted, staff_user
):
    """Non-retryable: our mirror still thinks the override is allowed, MTurk's clock says no."""
    control = fresh_emulator.control
    target = submitted[0]
    decide(emulator_account, target, DecisionAction.REJECT, "Wrong", gateway=account_gateway)
    control.advance(31 * DAY)
    target.refresh_from_db()
    before = balance(control)

    decision = decide(
        emulator_account,
        target,
        DecisionAction.OVERRIDE,
        gateway=account_gateway,
        user=staff_user,
    )

    assert decision.state == DecisionState.FAILED
    assert "more than 30 days ago" in decision.error
    assert decision.finished_at is not None and decision.attempts == 1
    event = AuditEvent.objects.get(action="assignment.override")
    assert event.outcome == AuditOutcome.FAILED
    assert "more than 30 days ago" in event.error
    assert event.actor == staff_user
    assert event.mturk_request_id == decision.mturk_request_id != ""
    mturk = truth_by_id(control)[target.assignment_id]
    assert (mturk["AssignmentStatus"], mturk["ApproveCount"], mturk["PaidCount"]) == (
        "Rejected",
        0,
        0,
    )
    assert balance(control) == before
    target.refresh_from_db()
    assert target.status == AssignmentStatus.REJECTED
    # A failed decision is closed: it does not block asking again.
    again = request_decisions(
        account=emulator_account, assignments=[target], action=DecisionAction.OVERRIDE
    )
    assert again.skipped == [] and len(again.decisions) == 1


@pytest.mark.django_db
def test_a_second_request_for_the_same_assignment_is_skipped_and_the_database_refuses_it(
    emulator_account, account_gateway, fresh_emulator, submitted
):
    target = submitted[0]
    first = request_decisions(
        account=emulator_account, assignments=[target], action=DecisionAction.APPROVE
    )
    second = request_decisions(
        account=emulator_account, assignments=[target], action=DecisionAction.REJECT, feedback="No"
    )

    assert len(first.decisions) == 1
    assert second.decisions == []
    assert second.skipped == [(target.assignment_id, "a decision for it is already in progress")]
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            account=emulator_account, assignment=target, action=DecisionAction.APPROVE
        )
    # ...and with the first one `sending`, still refused.
    Decision.objects.filter(pk=first.decisions[0].pk).update(state=DecisionState.SENDING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(
            account=emulator_account, assignment=target, action=DecisionAction.APPROVE
        )
    assert Decision.objects.filter(assignment=target).count() == 1

    # Carrying out one decision twice (a duplicated message) sends it once.
    Decision.objects.filter(pk=first.decisions[0].pk).update(state=DecisionState.PENDING)
    done = execute_decision(decision_id=first.decisions[0].pk, gateway=account_gateway)
    repeat = execute_decision(decision_id=first.decisions[0].pk, gateway=account_gateway)

    assert done.state == DecisionState.DONE and repeat is None
    mturk = truth_by_id(fresh_emulator.control)[target.assignment_id]
    assert (mturk["ApproveCount"], mturk["PaidCount"]) == (1, 1)
    assert fresh_emulator.control.get("calls")["call_counts"]["ApproveAssignment"] == 1


@pytest.mark.django_db
def test_an_assignment_approved_elsewhere_meanwhile_ends_already_not_failed(
    emulator_account, account_gateway, fresh_emulator, submitted
):
    control = fresh_emulator.control
    target = submitted[0]
    outcome = request_decisions(
        account=emulator_account, assignments=[target], action=DecisionAction.APPROVE
    )
    # Someone approves it on MTurk's site (or another tool) after our intent was recorded.
    account_gateway.approve_assignment(assignment_id=target.assignment_id, feedback="From the site")
    before = balance(control)

    decision = execute_decision(decision_id=outcome.decisions[0].pk, gateway=account_gateway)

    mturk = truth_by_id(control)[target.assignment_id]
    assert decision.state == DecisionState.ALREADY
    assert decision.error == "" and decision.finished_at is not None
    assert (mturk["ApproveCount"], mturk["PaidCount"]) == (1, 1)
    assert balance(control) == before
    target.refresh_from_db()
    assert target.status == AssignmentStatus.APPROVED
    assert target.requester_feedback == mturk["RequesterFeedback"] == "From the site"
    assert round(target.approval_time.timestamp(), 3) == round(float(mturk["ApprovalTime"]), 3)
    event = AuditEvent.objects.get(action="assignment.approve")
    assert event.outcome == AuditOutcome.SUCCEEDED and event.parameters["already"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fault", "message"), [("throttle_rate", "Throttl"), ("fault_rate", "ServiceFault")]
)
def test_a_retryable_error_puts_the_decision_back_to_pending_and_it_succeeds_later(
    emulator_account, fresh_emulator, submitted, settings, fault, message
):
    settings.MTURK_MAX_ATTEMPTS = 1  # no botocore retry: the decision itself meets the error
    gateway = gateway_for(emulator_account)
    control = fresh_emulator.control
    target = submitted[0]
    outcome = request_decisions(
        account=emulator_account, assignments=[target], action=DecisionAction.APPROVE
    )
    control.set_faults(operations={"ApproveAssignment": {fault: 1.0}})

    waiting = execute_decision(decision_id=outcome.decisions[0].pk, gateway=gateway)

    assert waiting.state == DecisionState.PENDING
    assert message in waiting.error and waiting.finished_at is None and waiting.attempts == 1
    assert truth_by_id(control)[target.assignment_id]["ApproveCount"] == 0
    assert not AuditEvent.objects.filter(action="assignment.approve").exists()
    target.refresh_from_db()
    assert target.status == AssignmentStatus.SUBMITTED

    control.set_faults(operations={"ApproveAssignment": {fault: 0.0}})
    done = execute_decision(decision_id=outcome.decisions[0].pk, gateway=gateway)

    assert done.state == DecisionState.DONE
    assert (done.attempts, done.error) == (2, "")
    mturk = truth_by_id(control)[target.assignment_id]
    assert (mturk["ApproveCount"], mturk["PaidCount"]) == (1, 1)
    assert AuditEvent.objects.filter(action="assignment.approve").count() == 1


@pytest.mark.django_db
def test_a_decision_left_sending_by_a_dead_worker_is_taken_over_only_when_stale(
    emulator_account, account_gateway, fresh_emulator, submitted, settings
):
    """The dead worker's ApproveAssignment reached MTurk, but it died before recording it."""
    target = submitted[0]
    outcome = request_decisions(
        account=emulator_account, assignments=[target], action=DecisionAction.APPROVE
    )
    decision_id = outcome.decisions[0].pk
    Decision.objects.filter(pk=decision_id).update(
        state=DecisionState.SENDING, claimed_at=timezone.now(), attempts=1
    )
    account_gateway.approve_assignment(assignment_id=target.assignment_id)

    assert execute_decision(decision_id=decision_id, gateway=account_gateway) is None
    Decision.objects.filter(pk=decision_id).update(
        claimed_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 1)
    )
    decision = execute_decision(decision_id=decision_id, gateway=account_gateway)

    assert decision.state == DecisionState.ALREADY and decision.attempts == 2
    mturk = truth_by_id(fresh_emulator.control)[target.assignment_id]
    assert (mturk["ApproveCount"], mturk["PaidCount"]) == (1, 1)


@pytest.mark.django_db
def test_the_janitor_sends_inline_decisions_whose_message_was_lost(
    emulator_account, fresh_emulator, submitted, eager_celery
):
    outcome = request_decisions(
        account=emulator_account, assignments=submitted[:2], action=DecisionAction.APPROVE
    )
    lost, fresh = outcome.decisions
    Decision.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=2))

    assert requeue_stale(Decision) == 1
    assert requeue_stale(Decision) == 0

    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert (lost.state, fresh.state) == (DecisionState.DONE, DecisionState.PENDING)
    truth = truth_by_id(fresh_emulator.control)
    assert truth[submitted[0].assignment_id]["ApproveCount"] == 1
    assert truth[submitted[1].assignment_id]["ApproveCount"] == 0


@pytest.mark.django_db
def test_decisions_stranded_by_a_crashed_job_are_sent_by_the_janitor(
    emulator_account, fresh_emulator, submitted, eager_celery
):
    with transaction.atomic():
        job = start_job(account=emulator_account, kind="review.decide", title="Approve 2")
        request_decisions(
            account=emulator_account,
            assignments=submitted[:2],
            action=DecisionAction.APPROVE,
            job=job,
        )
    # The handler crashes before sending anything: the stored secret cannot be decrypted.
    good_secret = emulator_account.aws_secret_access_key_encrypted
    type(emulator_account).objects.filter(pk=emulator_account.pk).update(
        aws_secret_access_key_encrypted="not-a-fernet-token"
    )
    assert run_job(job_id=job.pk) == JobState.FAILED
    assert Decision.objects.filter(job=job, state=DecisionState.PENDING).count() == 2
    # An admin repairs the credentials; a minute later the janitor runs.
    type(emulator_account).objects.filter(pk=emulator_account.pk).update(
        aws_secret_access_key_encrypted=good_secret
    )
    Decision.objects.filter(job=job).update(created_at=timezone.now() - timedelta(minutes=2))

    assert requeue_stale(Decision) == 2

    assert set(Decision.objects.filter(job=job).values_list("state", flat=True)) == {
        DecisionState.DONE
    }
    truth = truth_by_id(fresh_emulator.control)
    assert [truth[a.assignment_id]["ApproveCount"] for a in submitted] == [1, 1, 0]
    # ...and they no longer block a new decision on those assignments.
    assert requeue_stale(Decision) == 0


@pytest.mark.django_db
def test_a_job_gives_up_on_a_decision_after_repeated_retryable_errors(
    emulator_account, fresh_emulator, submitted
):
    with transaction.atomic():
        job = start_job(account=emulator_account, kind="review.decide", title="Approve 2")
        outcome = request_decisions(
            account=emulator_account,
            assignments=submitted[:2],
            action=DecisionAction.APPROVE,
            job=job,
        )
    worn, fine = outcome.decisions
    Decision.objects.filter(pk=worn.pk).update(attempts=MAX_ATTEMPTS)

    assert run_job(job_id=job.pk) == JobState.SUCCEEDED

    job.refresh_from_db()
    worn.refresh_from_db()
    assert (job.total, job.done, job.failed) == (2, 1, 1)
    assert worn.state == DecisionState.GAVE_UP and "Gave up" in worn.error
    # Giving up is a decision's end too: it leaves an audit event.
    assert AuditEvent.objects.filter(
        action="assignment.approve",
        outcome="failed",
        target_ids__assignment=worn.assignment.assignment_id,
    ).exists()
    truth = truth_by_id(fresh_emulator.control)
    assert truth[submitted[0].assignment_id]["ApproveCount"] == 0
    assert truth[submitted[1].assignment_id]["ApproveCount"] == 1


# --- in bulk -----------------------------------------------------------------------------------------


@pytest.fixture
def five_hundred(emulator_account, fresh_emulator) -> list[Assignment]:
    """500 HITs with one submitted assignment each ($0.10 reward), mirrored by a full sync."""
    fresh_emulator.control.post("populate", {"HITs": 500, "AssignmentsPerHIT": 1})
    assert run_sync(account=emulator_account, kind="full").ok
    assignments = list(
        Assignment.objects.filter(account=emulator_account, status=AssignmentStatus.SUBMITTED)
    )
    assert len(assignments) == 500
    return assignments


def start_bulk_approval(account, assignments, user) -> Job:
    """What the review page does: the job and its decisions in one transaction, so the job is
    enqueued (on commit) only when its decisions exist."""
    with transaction.atomic():
        job = start_job(
            account=account,
            kind="review.decide",
            title=f"Approve {len(assignments)} assignments",
            created_by=user,
        )
        outcome = request_decisions(
            account=account,
            assignments=assignments,
            action=DecisionAction.APPROVE,
            requested_by=user,
            job=job,
        )
    assert outcome.skipped == [] and len(outcome.decisions) == len(assignments)
    return job


def assert_each_approved_and_paid_once(control, assignments, balance_before) -> None:
    truth = truth_by_id(control)
    counts = [
        (
            truth[a.assignment_id]["ApproveCount"],
            truth[a.assignment_id]["PaidCount"],
            Decimal(truth[a.assignment_id]["PaidAmount"]),
        )
        for a in assignments
    ]
    wrong = [
        (a.assignment_id, c)
        for a, c in zip(assignments, counts, strict=True)
        if c != (1, 1, POPULATE_REWARD)
    ]
    assert wrong == [], f"{len(wrong)} assignments not approved and paid exactly once: {wrong[:5]}"
    spent = balance_before - balance(control)
    assert spent == len(assignments) * assignment_cost(POPULATE_REWARD, 1) == Decimal("60.00")


def assert_job_done(job: Job, n: int) -> None:
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.total, job.done, job.failed) == (n, n, 0)
    assert job.result["done"] + job.result["already"] == n and job.result["failed"] == 0
    states = set(Decision.objects.filter(job=job).values_list("state", flat=True))
    assert states <= {DecisionState.DONE, DecisionState.ALREADY}
    assert AuditEvent.objects.filter(action="assignment.approve").count() == n


@pytest.mark.django_db
@pytest.mark.slow
@pytest.mark.parametrize(
    "faults",
    [
        pytest.param({}, id="no-faults"),
        pytest.param({"throttle_rate": 0.1, "fault_rate": 0.02}, id="faults"),
    ],
)
def test_bulk_approval_of_500_runs_each_approval_exactly_once(
    emulator_account, fresh_emulator, five_hundred, admin_user, faults
):
    control = fresh_emulator.control
    before = balance(control)
    job = start_bulk_approval(emulator_account, five_hundred, admin_user)
    if faults:
        control.set_faults(seed=11, **faults)

    assert run_job(job_id=job.pk) == JobState.SUCCEEDED

    control.set_faults(throttle_rate=0, fault_rate=0)
    assert_each_approved_and_paid_once(control, five_hundred, before)
    assert_job_done(job, 500)
    mirror = Assignment.objects.filter(account=emulator_account)
    assert mirror.filter(status=AssignmentStatus.APPROVED).count() == 500
    calls = control.get("calls")
    if faults:  # the faults did happen, and were absorbed
        errors = calls["error_counts"]
        assert errors.get("Throttled", 0) > 10 and errors.get("ServiceFault", 0) > 0
    else:  # not even a refused duplicate was sent
        assert calls["call_counts"]["ApproveAssignment"] == 500


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_bulk_approval_of_500_through_a_real_worker_and_the_configured_broker(
    emulator_account, fresh_emulator, five_hundred, admin_user
):
    control = fresh_emulator.control
    before = balance(control)
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=30, loglevel="WARNING"
    ):
        job = start_bulk_approval(emulator_account, five_hundred, admin_user)
        deadline = time.monotonic() + 120
        while not Job.objects.get(pk=job.pk).is_finished and time.monotonic() < deadline:
            time.sleep(0.2)
    connections.close_all()

    assert_job_done(job, 500)
    assert job.attempts == 1
    assert_each_approved_and_paid_once(control, five_hundred, before)
    assert control.get("calls")["call_counts"]["ApproveAssignment"] == 500
