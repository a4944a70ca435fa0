"""Convergence under faults: a simulated crowd works through 200 HITs while the requester approves,
rejects, pays bonuses, blocks and qualifies workers through the gateway, and MTurk throttles, fails,
slows down, drops, duplicates and reorders notifications. Whatever door brings the news (scheduled
syncs alone, or SQS notifications plus a final sync), the database must end equal to the emulator's
truth, field by field."""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import boto3  # noqa: TID251 - tests set up AWS fixtures directly
import pytest
from botocore.retries.standard import ExponentialBackoff  # noqa: TID251 - retry timing only

from dashboard.enums import SyncKind
from dashboard.models import NotificationEvent
from hits.models import Assignment
from mirror.events import ApplyCounts, apply_account_events
from mirror.sqs_consumer import ConsumeCounts, consume_queue, sqs_queue_for
from mirror.sync import run_sync
from mturk.errors import MTurkError
from mturk.notifications import DEFAULT_EVENT_TYPES
from mturk.tokens import request_token
from tests.hits.test_sync import HTML_QUESTION
from tests.truth import (
    VISIBLE_ASSIGNMENT_STATUSES,
    mirror_differences,
    money_and_people_differences,
)

pytestmark = pytest.mark.django_db

T = TypeVar("T")

FAULTS = {
    "throttle_rate": 0.10,
    "fault_rate": 0.02,
    "latency_ms": 5,
    "drop_rate": 0.05,
    "duplicate_rate": 0.10,
    "reorder": 0.20,
}
NO_FAULTS = dict.fromkeys(FAULTS, 0)
LOCALE = "00000000000000000071"
HIT_COUNT = 200
CROWD = 30
STEPS = 10
STEP_SECONDS = 300


@pytest.fixture
def frozen_emulator(fresh_emulator, monkeypatch):
    """The fresh emulator with its clock stopped: emulated time moves only when the test advances
    it, so nothing changes at MTurk between the last sync and the final comparison.

    botocore's standard retry mode sleeps rand(0, 1) x 2**attempt seconds after a throttle; scaled
    down here (same retries, same attempt count, shorter sleeps) so hundreds of throttles take
    seconds, not minutes."""
    monkeypatch.setitem(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG, "throttling_base_scale", 0.01)
    fresh_emulator.control.post("clock", {"speed": 0})
    yield fresh_emulator
    fresh_emulator.control.post("crowd", {"running": False})
    fresh_emulator.control.set_faults(**NO_FAULTS)
    fresh_emulator.control.post("clock", {"speed": 1})


def retried(call: Callable[[], T], *, attempts: int = 10) -> T:
    """Call like a Celery task would be run: again after a retryable MTurk error (botocore has
    already retried MTURK_MAX_ATTEMPTS times inside the gateway)."""
    for attempt in range(attempts):
        try:
            return call()
        except MTurkError as exc:
            if not exc.retryable or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def sync_until_ok(account, kind: SyncKind, *, attempts: int = 10) -> None:
    """run_sync reports retryable failures instead of raising; retry it like the Celery task."""
    for _ in range(attempts):
        outcome = run_sync(account=account, kind=kind)
        if outcome.ok:
            return
        assert outcome.retryable, outcome.error
    raise AssertionError(f"{kind} sync still failing after {attempts} attempts: {outcome.error}")


class Requester:
    """The requester's side of the run, all through the gateway, decided by a seeded generator."""

    def __init__(self, gateway, control, seed: int) -> None:
        self.gateway = gateway
        self.control = control
        self.rng = random.Random(seed)
        self.reviewed: set[str] = set()
        self.bonused: set[str] = set()
        self.blocked: list[str] = []
        self.qualification_types: list[str] = []

    def set_up(self, crowd_ids: list[str]) -> list[tuple[str, int, int]]:
        """A qualification type with scores for half the crowd, and three HIT types (plain, locale,
        and the custom qualification). Returns (hit type id, lifetime, max assignments) each."""
        qtype = retried(
            lambda: self.gateway.create_qualification_type(
                name="Cat expertise", description="Score on our cat test (0-100)."
            )
        )
        self.qualification_types.append(qtype.qualification_type_id)
        for worker_id in crowd_ids[::2]:
            self.grant(qtype.qualification_type_id, worker_id, self.rng.randint(0, 100))
        common = {
            "description": "Look at a picture and say whether it shows a cat.",
            "assignment_duration_seconds": 600,
        }
        plain = retried(
            lambda: self.gateway.create_hit_type(
                title="Is this a cat?",
                reward="0.25",
                auto_approval_delay_seconds=1200,
                keywords="cat, image",
                **common,
            )
        )
        local = retried(
            lambda: self.gateway.create_hit_type(
                title="Is this a cat? (US and GB)",
                reward="0.30",
                auto_approval_delay_seconds=86400,
                qualification_requirements=[
                    {
                        "QualificationTypeId": LOCALE,
                        "Comparator": "In",
                        "LocaleValues": [{"Country": "US"}, {"Country": "GB"}],
                        "ActionsGuarded": "Accept",
                    }
                ],
                **common,
            )
        )
        expert = retried(
            lambda: self.gateway.create_hit_type(
                title="Is this a rare cat breed?",
                reward="0.50",
                auto_approval_delay_seconds=86400,
                qualification_requirements=[
                    {
                        "QualificationTypeId": qtype.qualification_type_id,
                        "Comparator": "GreaterThanOrEqualTo",
                        "IntegerValues": [50],
                        "ActionsGuarded": "Accept",
                    }
                ],
                **common,
            )
        )
        # The expert HITs expire mid-run (HITExpired), the others outlive it.
        return [(plain, 86400, 1), (local, 86400, 2), (expert, 1500, 1)]

    def create_hits(self, hit_types: list[tuple[str, int, int]]) -> list[str]:
        plan = [hit_types[0]] * 120 + [hit_types[1]] * 50 + [hit_types[2]] * 30
        assert len(plan) == HIT_COUNT
        hit_ids = []
        for n, (hit_type_id, lifetime, max_assignments) in enumerate(plan):
            result = retried(
                functools.partial(
                    self.gateway.create_hit_with_hit_type,
                    hit_type_id=hit_type_id,
                    lifetime_seconds=lifetime,
                    max_assignments=max_assignments,
                    question=HTML_QUESTION,
                    requester_annotation=f"picture-{n}",
                    token=request_token("convergence-hit", n),
                )
            )
            hit_ids.append(result.hit.hit_id)
        return hit_ids

    def grant(self, qualification_type_id: str, worker_id: str, value: int) -> None:
        retried(
            lambda: self.gateway.associate_qualification_with_worker(
                qualification_type_id=qualification_type_id,
                worker_id=worker_id,
                integer_value=value,
            )
        )

    def act(self, step: int, crowd_ids: list[str]) -> None:
        """Review what the crowd submitted since the last step, and manage people now and then."""
        truth = self.control.truth("assignments")["assignments"]
        submitted = sorted(
            (a for a in truth if a["AssignmentStatus"] == "Submitted"),
            key=lambda a: a["AssignmentId"],
        )
        for a in submitted:
            if a["AssignmentId"] in self.reviewed:
                continue
            self.reviewed.add(a["AssignmentId"])
            roll = self.rng.random()
            if roll < 0.35:
                retried(
                    lambda a=a: self.gateway.approve_assignment(
                        assignment_id=a["AssignmentId"],
                        feedback="Thanks!" if self.rng.random() < 0.5 else None,
                    )
                )
                if self.rng.random() < 0.3:
                    self.bonus(a, "A careful answer, thank you.")
            elif roll < 0.45:
                retried(
                    lambda a=a: self.gateway.reject_assignment(
                        assignment_id=a["AssignmentId"],
                        feedback="The answer does not match the picture.",
                    )
                )
                if self.rng.random() < 0.3:
                    # Partial pay for rejected work: bonuses are not only for approved assignments.
                    self.bonus(a, "For the time you spent, although the answer was wrong.")
            elif roll < 0.50:
                # A bonus before review (the assignment stays Submitted).
                self.bonus(a, "Early bonus for a quick answer.")
        if step == 2:
            for worker_id in crowd_ids[-2:]:
                retried(
                    lambda worker_id=worker_id: self.gateway.create_worker_block(
                        worker_id=worker_id, reason="Too many wrong answers."
                    )
                )
                self.blocked.append(worker_id)
        if step == 4:
            retried(lambda: self.gateway.delete_worker_block(worker_id=self.blocked[0]))
            qtype_id = self.qualification_types[0]
            for worker_id in crowd_ids[1:8:2]:
                self.grant(qtype_id, worker_id, self.rng.randint(40, 100))
            for worker_id in crowd_ids[0:6:2]:
                self.grant(qtype_id, worker_id, self.rng.randint(0, 100))  # a new score
            retried(
                lambda: self.gateway.disassociate_qualification_from_worker(
                    qualification_type_id=qtype_id, worker_id=crowd_ids[10], reason="Retest"
                )
            )
        if step == 6:
            second = retried(
                lambda: self.gateway.create_qualification_type(
                    name="Dog expertise", description="Score on our dog test (0-100)."
                )
            )
            self.qualification_types.append(second.qualification_type_id)
            for worker_id in crowd_ids[:5]:
                self.grant(second.qualification_type_id, worker_id, self.rng.randint(0, 100))

    def bonus(self, assignment: dict[str, Any], reason: str) -> None:
        assignment_id = assignment["AssignmentId"]
        if assignment_id in self.bonused:
            return
        self.bonused.add(assignment_id)
        amount = Decimal(self.rng.choice(["0.10", "0.25", "0.50"]))
        retried(
            lambda: self.gateway.send_bonus(
                worker_id=assignment["WorkerId"],
                assignment_id=assignment_id,
                amount=amount,
                reason=reason,
                token=request_token("convergence-bonus", assignment_id),
            )
        )


def set_up(emulator, gateway, *, seed: int) -> dict[str, Any]:
    """A crowd (not working yet), faults on, a qualification type with scores and three HIT types."""
    control = emulator.control
    crowd = control.post(
        "crowd",
        {
            "count": CROWD,
            "running": False,
            # More slow workers than the default mix: they return and walk away more often.
            "mix": {"careful": 0.4, "fast-and-sloppy": 0.2, "slow": 0.3, "spammer": 0.1},
        },
    )["added"]
    crowd_ids = [w["WorkerId"] for w in crowd]
    control.set_faults(seed=seed, **FAULTS)
    requester = Requester(gateway, control, seed)
    hit_types = requester.set_up(crowd_ids)
    return {"requester": requester, "crowd_ids": crowd_ids, "hit_types": hit_types}


def work_through(emulator, setup: dict[str, Any], *, door: Callable[[int], None]) -> None:
    """Create the HITs, then STEPS x (advance the clock, let the requester act, open the door);
    then stop the crowd and let deadlines and auto-approvals pass, and open the door once more."""
    control = emulator.control
    setup["hit_ids"] = setup["requester"].create_hits(setup["hit_types"])
    control.post("crowd", {"running": True})
    for step in range(STEPS):
        control.advance(STEP_SECONDS)
        setup["requester"].act(step, setup["crowd_ids"])
        door(step)
    control.post("crowd", {"running": False})
    # Past the auto-approval delay of the plain HITs and the deadline of every open assignment.
    control.advance(1300)
    door(STEPS)


def final_syncs(account) -> None:
    for kind in (SyncKind.FULL, SyncKind.BLOCKS, SyncKind.BONUSES, SyncKind.QUALIFICATIONS):
        sync_until_ok(account, kind)


def assert_converged(emulator, account) -> dict[str, Any]:
    emulator.control.set_faults(**NO_FAULTS)  # the truth route is not subject to faults anyway
    truth = emulator.control.truth()
    assert mirror_differences(account, truth) == []
    assert money_and_people_differences(account, truth) == []
    return truth


def assert_the_run_was_a_real_one(truth: dict[str, Any], setup: dict[str, Any]) -> None:
    """The scenario exercised what it claims: faults fired, work of every kind happened."""
    statuses = [a["AssignmentStatus"] for a in truth["assignments"]]
    assert len(truth["hits"]) == HIT_COUNT
    assert statuses.count("Submitted") >= 10
    assert statuses.count("Approved") >= 50 and statuses.count("Rejected") >= 5
    assert "Returned" in statuses and "Abandoned" in statuses
    assert "Reviewable" in {h["HITStatus"] for h in truth["hits"]}
    expert_type = setup["hit_types"][2][0]
    expert_workers = {
        a["WorkerId"]
        for a in truth["assignments"]
        for h in truth["hits"]
        if h["HITId"] == a["HITId"] and h["HITTypeId"] == expert_type
    }
    assert expert_workers, "nobody qualified for the expert HITs"
    assert len(truth["bonuses"]) >= 10 and len(truth["blocks"]) == 1
    assert len(truth["qualification_types"]) == 2 and len(truth["qualifications"]) >= 15
    errors = truth["error_counts"]
    assert errors.get("Throttled", 0) >= 20 and errors.get("ServiceFault", 0) >= 3


@pytest.mark.slow
def test_scheduled_syncs_alone_converge_under_faults(frozen_emulator, emulator_account):
    from dashboard.mturk_access import gateway_for

    gateway = gateway_for(emulator_account)
    setup = set_up(frozen_emulator, gateway, seed=21)

    def scheduled_syncs(step: int) -> None:
        # What beat would have run by now: reviewable often, the rest less often.
        sync_until_ok(emulator_account, SyncKind.REVIEWABLE)
        if step % 3 == 2:
            sync_until_ok(emulator_account, SyncKind.FULL)
        if step == 5:
            for kind in (SyncKind.BLOCKS, SyncKind.BONUSES, SyncKind.QUALIFICATIONS):
                sync_until_ok(emulator_account, kind)

    work_through(frozen_emulator, setup, door=scheduled_syncs)
    final_syncs(emulator_account)

    truth = assert_converged(frozen_emulator, emulator_account)
    assert_the_run_was_a_real_one(truth, setup)
    assert NotificationEvent.objects.filter(account=emulator_account).count() == 0


def _short_visibility(queue_url: str) -> None:
    """Messages left in the queue (a delete that failed) come back after 1 s, not SQS's 30 s."""
    from mturk.sqs import endpoint_and_region

    endpoint, region = endpoint_and_region(queue_url)
    boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "1"})


@pytest.mark.slow
def test_sqs_notifications_and_a_final_sync_converge_under_faults(
    frozen_emulator, emulator_account, sqs_queue_url
):
    from dashboard.mturk_access import gateway_for

    _short_visibility(sqs_queue_url)
    emulator_account.sqs_queue_url = sqs_queue_url
    emulator_account.save()
    gateway = gateway_for(emulator_account)
    setup = set_up(frozen_emulator, gateway, seed=22)
    # Every event type the dashboard wires by default except AssignmentAccepted: accepted work is
    # invisible until submitted, and re-reading a HIT per accept only slows the run down.
    event_types = [e for e in DEFAULT_EVENT_TYPES if e != "AssignmentAccepted"]
    for hit_type_id, _, _ in setup["hit_types"]:
        retried(
            lambda hit_type_id=hit_type_id: gateway.update_notification_settings(
                hit_type_id=hit_type_id,
                destination=sqs_queue_url,
                transport="SQS",
                event_types=event_types,
            )
        )
    totals = ConsumeCounts()
    applied = ApplyCounts()

    def consume(step: int) -> None:
        assert frozen_emulator.control.post("notifications/drain", {"timeout": 15})["drained"]
        counts = consume_queue(
            account=emulator_account, queue=sqs_queue_for(emulator_account), wait_seconds=0
        )
        for name, value in counts.__dict__.items():
            setattr(totals, name, getattr(totals, name) + value)
        applied.add(apply_account_events(account=emulator_account, gateway=gateway))

    work_through(frozen_emulator, setup, door=consume)
    time.sleep(1.2)  # messages SQS failed to delete are visible again
    consume(STEPS + 1)

    # Before any sync, the notifications alone brought most of the work in (a dropped document
    # is caught up by the next event about the same HIT, or by the final sync).
    truth = frozen_emulator.control.truth("assignments")
    visible = {
        a["AssignmentId"]: a["AssignmentStatus"]
        for a in truth["assignments"]
        if a["AssignmentStatus"] in VISIBLE_ASSIGNMENT_STATUSES
    }
    mirrored = dict(
        Assignment.objects.filter(account=emulator_account).values_list("assignment_id", "status")
    )
    agreeing = sum(mirrored.get(aid) == status for aid, status in visible.items())
    assert agreeing >= 0.8 * len(visible), (agreeing, len(visible))

    final_syncs(emulator_account)

    truth = assert_converged(frozen_emulator, emulator_account)
    assert_the_run_was_a_real_one(truth, setup)
    # Every document recorded once, each one MTurk published (nothing invented), and some never
    # arrived (dropped): the final sync, not the notifications, closed that gap.
    events = NotificationEvent.objects.filter(account=emulator_account)
    recorded = set(events.values_list("event_doc_id", flat=True))
    published = {e["EventDocId"] for e in truth["events"] if e["Transport"] == "SQS"}
    assert events.count() == totals.recorded and totals.invalid == 0
    assert recorded <= published and 0 < len(published - recorded) < 0.2 * len(published)
    assert totals.duplicates > 0  # duplicated deliveries were received and recorded only once
    assert applied.left_for_retry > 0 or not events.filter(applied_at__isnull=True).exists()
