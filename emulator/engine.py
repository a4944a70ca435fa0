"""The emulator core: one lock, the emulated clock, timers, state transitions, payments and events.

Every API or control call runs inside `transaction()`: it takes the lock, fires every timer that is
due on the emulated clock (expiry, abandonment, auto-approval, auto-disposal, crowd actions) in time
order, runs the call, then hands the notification events it produced to the notifier outside the lock.
A timer goes to the handler registered for its kind (`TIMER_HANDLERS`, `register_timer`, at the end).
"""

from __future__ import annotations

import collections
import heapq
import html
import logging
import random
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from emulator import crowd, review_policies
from emulator import requirements as reqs
from emulator.clock import Clock
from emulator.faults import Faults
from emulator.protocol import (
    IdFactory,
    RequestError,
    epoch,
    fee_cents,
    format_money,
    invalid_param,
    iso,
    not_found,
    wrong_status,
)
from emulator.state import (
    ABANDONED,
    ACCEPTED,
    APPROVED,
    ASSIGNABLE,
    DISPOSED,
    HIT,
    REJECTED,
    RETURNED,
    REVIEWABLE,
    REVIEWING,
    SUBMITTED,
    UNASSIGNABLE,
    Assignment,
    HITType,
    State,
    Worker,
)

if TYPE_CHECKING:
    from emulator.notifications import Notifier

log = logging.getLogger(__name__)

DAY = 86400
TOKEN_LIFETIME = DAY
OVERRIDE_WINDOW = 30 * DAY
AUTO_DISPOSE_AFTER = 120 * DAY
EVENTS_PER_DOCUMENT = 10
INVALID_STATE = "AWS.MechanicalTurk.InvalidAssignmentState"


@dataclass(frozen=True)
class Started:
    """What the emulator was started with (the command line): all that a reset keeps."""

    seed: int = 0
    crowd_speed: float = 1.0
    """How many times faster than real people the simulated crowd works."""
    clock_speed: float = 1.0
    """Emulated seconds per real second (1: the API's clock is the wall clock)."""
    crowd: int = 0
    """Simulated workers started (and running) with the emulator."""


class Emulator:
    def __init__(
        self,
        *,
        seed: int = 0,
        speed: float = 1.0,
        clock_speed: float = 1.0,
        crowd: int = 0,
        state: State | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("the crowd's speed must be > 0")
        self.started = Started(seed=seed, crowd_speed=speed, clock_speed=clock_speed, crowd=crowd)
        self.lock = threading.RLock()
        self.seed = seed
        self.clock = Clock(speed=clock_speed)
        # The crowd's pace only: MTurk's own timers (deadlines, auto-approval, expiry) stay on the
        # clock, which is the wall clock unless a test moves it.
        self.crowd_speed = float(speed)
        self.rng = random.Random(seed)
        self.ids = IdFactory(self.rng)
        self.crowd_rng = random.Random(seed * 7919 + 1)
        self.faults = Faults(seed)
        self.notifier: Notifier | None = None
        self.crowd_running = False
        self.event_log: collections.deque[dict[str, Any]] = collections.deque(maxlen=5000)
        self.dirty = False
        self.boto3_calls: dict[str, int] = {}
        # CreateHITType's "same properties, same id": property fingerprint -> HITTypeId.
        self.hit_type_index: dict[str, str] = {}
        self.base_url = "http://127.0.0.1"
        self._reviews: dict[str, list[int]] | None = None
        # HITId -> cents on hold for its submitted assignments (only HITs that have any), and the
        # sum: GetAccountBalance reads the total instead of scanning every HIT. Built on first use.
        self._holds: dict[str, int] | None = None
        self._on_hold_cents = 0
        self._batches: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._assignable: dict[str, None] = {}
        self.state = State()
        self._now = self.clock.now()
        self.load_state(state or State())

    # --- lifecycle -------------------------------------------------------------------------------

    def load_state(self, state: State) -> None:
        with self.lock:
            self.state = state
            self.hit_type_index = {}
            self._reviews = None
            self._holds = None
            if state.clock_time and state.clock_time > max(self._now, self.clock.now()):
                # Never run the clock backwards: a state saved by a clock that was ahead (advanced,
                # or accelerated) continues from its saved time, so its records stay in the past.
                # Otherwise the clock stays on the wall clock.
                self.clock.set(state.clock_time)
            self._now = max(self._now, self.clock.now())
            self._assignable = {
                h.hit_id: None for h in state.hits.values() if h.status == ASSIGNABLE
            }

    def reset(self, *, seed: int | None = None, balance_cents: int | None = None) -> None:
        """A fresh emulator, as if just started with the same command line (optionally another
        seed and balance): no state, no faults, no SNS subscriptions or pending deliveries, the
        clock back on the wall clock at its starting speed, the crowd of the command line."""
        with self.lock:
            self.seed = self.started.seed if seed is None else seed
            self.rng.seed(self.seed)
            self.crowd_rng.seed(self.seed * 7919 + 1)
            self.faults.configure(
                {
                    "seed": self.seed,
                    "throttle_rate": 0,
                    "fault_rate": 0,
                    "latency_ms": 0,
                    "drop_rate": 0,
                    "duplicate_rate": 0,
                    "reorder": 0,
                    "operations": {},
                }
            )
            self.crowd_running = False
            self.crowd_speed = self.started.crowd_speed
            self.event_log.clear()
            self._batches.clear()
            if self.notifier is not None:
                self.notifier.reset(rng_seed=self.seed * 31 + 7)
            # Nothing stamped by the old clock survives, so it may go back to the wall clock.
            self.clock.reset(speed=self.started.clock_speed)
            self._now = self.clock.now()
            state = State()
            state.clock_time = self._now
            if balance_cents is not None:
                state.balance_cents = balance_cents
            self.load_state(state)
            self.start_crowd()
            self.dirty = True

    def start_crowd(self) -> None:
        """The crowd of the command line (`--crowd N`), working."""
        if self.started.crowd:
            with self.transaction():
                crowd.configure(self, count=self.started.crowd)
                crowd.start(self)

    @property
    def now(self) -> float:
        return self._now

    @contextmanager
    def transaction(self, *, mutating: bool = True) -> Iterator[float]:
        """Lock, fire due timers, run the body, then publish its events outside the lock.

        `mutating=False` (reads) keeps the state clean for the periodic snapshot unless a timer fired.
        """
        with self.lock:
            self.advance_to(self.clock.now())
            try:
                yield self._now
            finally:
                batches = self._batches
                self._batches = {}
                if mutating:
                    self.dirty = True
                self.state.clock_time = self._now
        self._publish(batches)

    def advance_to(self, now: float) -> None:
        """Fire every timer due by `now`, each at its own emulated time."""
        timers = self.state.timers
        while timers and timers[0][0] <= now:
            when, _, kind, ref = heapq.heappop(timers)
            self.dirty = True
            self._now = max(self._now, when)
            try:
                self._fire(kind, ref, when)
            except Exception:
                # A timer (e.g. a crowd action) must never fail the API call that happened to run it.
                log.exception("timer %s for %s failed", kind, ref)
        self._now = max(self._now, now)

    def next_timer(self) -> float | None:
        timers = self.state.timers
        return timers[0][0] if timers else None

    def schedule(self, when: float, kind: str, ref: str) -> None:
        heapq.heappush(self.state.timers, [when, self.state.next_seq(), kind, ref])

    def _fire(self, kind: str, ref: str, when: float) -> None:
        handler = TIMER_HANDLERS.get(kind)
        if handler is None:
            log.warning("no handler for timer kind %r (ref %s); ignored", kind, ref)
            return
        handler(self, ref, when)

    # --- ids and tokens ------------------------------------------------------------------------------

    def check_token(self, group: str, token: str | None) -> dict[str, Any] | None:
        if not token:
            return None
        record = self.state.tokens.get(f"{group}|{token}")
        if record and record["time"] + TOKEN_LIFETIME > self._now:
            return record
        return None

    def remember_token(self, group: str, token: str | None, **data: Any) -> None:
        if not token:
            return
        if len(self.state.tokens) > 10000:
            # Forget tokens older than MTurk's 24 h so the table stays small.
            self.state.tokens = {
                k: v for k, v in self.state.tokens.items() if v["time"] + TOKEN_LIFETIME > self._now
            }
        self.state.tokens[f"{group}|{token}"] = {"time": self._now, **data}

    # --- lookups -------------------------------------------------------------------------------------

    def get_hit(self, hit_id: str) -> HIT:
        hit = self.state.hits.get(hit_id)
        if hit is None:
            raise not_found("Hit", hit_id)
        return hit

    def get_hit_type(self, hit_type_id: str) -> HITType:
        hit_type = self.state.hit_types.get(hit_type_id)
        if hit_type is None:
            raise not_found("HITType", hit_type_id)
        return hit_type

    def get_assignment(self, assignment_id: str) -> Assignment:
        a = self.state.assignments.get(assignment_id)
        if a is None or a.status in (RETURNED, ABANDONED):
            raise not_found("Assignment", assignment_id)
        return a

    def ensure_worker(self, worker_id: str) -> Worker:
        worker = self.state.workers.get(worker_id)
        if worker is None:
            worker = Worker(worker_id=worker_id, active=False)
            self.state.workers[worker_id] = worker
        return worker

    # --- HIT status ---------------------------------------------------------------------------------

    def refresh(self, hit: HIT) -> None:
        """Derive the HIT status from its counters and expiry, emitting HITReviewable on entry.
        Every transition that moves a HIT's counters, type or size ends here, so this is also where
        its share of the on-hold balance is brought up to date."""
        self._update_hold(hit)
        if hit.status == DISPOSED:
            return
        old = hit.status
        expired = self._now >= hit.expiration
        if not expired and hit.available > 0:
            new = ASSIGNABLE
        elif hit.n_pending > 0:
            new = UNASSIGNABLE
        else:
            new = REVIEWING if hit.reviewing else REVIEWABLE
        if new in (ASSIGNABLE, UNASSIGNABLE):
            hit.reviewing = False
        hit.status = new
        if new == ASSIGNABLE:
            if hit.hit_id not in self._assignable:
                self._assignable[hit.hit_id] = None
                crowd.wake(self)
        else:
            self._assignable.pop(hit.hit_id, None)
        if new == REVIEWABLE and old not in (REVIEWABLE, REVIEWING):
            self.emit("HITReviewable", hit)
            review_policies.apply_hit_policy(self, hit)

    def assignable_hits(self) -> list[str]:
        return list(self._assignable)

    def _expired(self, hit: HIT) -> None:
        if not hit.expired_notified:
            hit.expired_notified = True
            self.emit("HITExpired", hit)
        self.refresh(hit)

    def schedule_expiry(self, hit: HIT) -> None:
        self.schedule(hit.expiration, "expire", hit.hit_id)
        self.schedule(hit.expiration + AUTO_DISPOSE_AFTER, "dispose", hit.hit_id)

    def set_expiration(self, hit: HIT, expire_at: float) -> None:
        if hit.status == DISPOSED:
            raise RequestError(
                f"HIT {hit.hit_id} has been deleted and cannot be updated.",
                "AWS.MechanicalTurk.InvalidHITState",
            )
        if expire_at <= self._now:
            if hit.expiration > self._now:
                hit.expiration = self._now
                hit.expired_notified = False
                self.schedule_expiry(hit)
            self._expired(hit)
            return
        was_expired = self._now >= hit.expiration
        hit.expiration = expire_at
        hit.expired_notified = False
        self.schedule_expiry(hit)
        if was_expired:
            hit.reviewing = False
            self.emit("HITExtended", hit)
        self.refresh(hit)

    def add_assignments(self, hit: HIT, count: int) -> None:
        if hit.status == DISPOSED:
            raise RequestError(
                f"HIT {hit.hit_id} has been deleted and cannot be extended.",
                "AWS.MechanicalTurk.InvalidHITState",
            )
        if hit.max_assignments < 10 <= hit.max_assignments + count:
            raise RequestError(
                f"HIT {hit.hit_id} was created with fewer than 10 assignments and cannot be "
                f"extended to 10 or more (it has {hit.max_assignments}; asked for {count} more).",
                "AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease",
            )
        if self._now - hit.creation_time > 365 * DAY:
            raise RequestError(
                f"HIT {hit.hit_id} is too old to be extended.",
                "AWS.MechanicalTurk.HITTooOldForExtension",
            )
        hit.max_assignments += count
        hit.reviewing = False
        self.emit("HITExtended", hit)
        self.refresh(hit)

    def dispose(self, hit: HIT) -> None:
        hit.status = DISPOSED
        hit.reviewing = False
        self._update_hold(hit)
        self._assignable.pop(hit.hit_id, None)
        self.emit("HITDisposed", hit)

    # --- assignment transitions ------------------------------------------------------------------------

    def eligibility_problem(self, worker_id: str, hit: HIT) -> str | None:
        """Why this worker may not accept this HIT now, or None."""
        if hit.status != ASSIGNABLE:
            return f"HIT {hit.hit_id} is not assignable (status {hit.status})."
        if worker_id in self.state.blocks:
            return f"Worker {worker_id} is blocked by this requester."
        for aid in hit.assignment_ids:
            a = self.state.assignments[aid]
            if a.worker_id == worker_id and a.status not in (RETURNED, ABANDONED):
                return f"Worker {worker_id} already has an assignment for HIT {hit.hit_id}."
        hit_type = self.state.hit_types[hit.hit_type_id]
        for requirement in hit_type.qualification_requirements:
            exists, value, locale = self.worker_qualification(
                worker_id, requirement["QualificationTypeId"]
            )
            if not reqs.meets(requirement, exists, value, locale):
                return (
                    f"Worker {worker_id} does not meet the qualification requirement on "
                    f"{requirement['QualificationTypeId']}."
                )
        return None

    def worker_qualification(
        self, worker_id: str, qtid: str
    ) -> tuple[bool, int | None, dict[str, str] | None]:
        granted = self.state.qualification(qtid, worker_id)
        if granted is not None:
            if granted.status != "Granted":
                return False, None, None
            return True, granted.integer_value, granted.locale_value
        worker = self.state.workers.get(worker_id)
        if worker is None:
            return False, None, None
        if qtid == reqs.LOCALE:
            return True, None, worker.locale
        if qtid == reqs.PERCENT_APPROVED:
            return True, self.percent_approved(worker_id), None
        if qtid == reqs.NUMBER_APPROVED:
            return True, worker.hits_approved, None
        if qtid == reqs.ADULT:
            return True, 1, None
        if qtid in reqs.MASTERS:
            return (worker.masters, 1 if worker.masters else None, None)
        return False, None, None

    def _review_counts(self) -> dict[str, list[int]]:
        """WorkerId -> [approved, rejected], built once from the state and kept up to date."""
        if self._reviews is None:
            self._reviews = {}
            for a in self.state.assignments.values():
                if a.status in (APPROVED, REJECTED):
                    counts = self._reviews.setdefault(a.worker_id, [0, 0])
                    counts[0 if a.status == APPROVED else 1] += 1
        return self._reviews

    def _count_review(self, worker_id: str, approved: int, rejected: int) -> None:
        if self._reviews is None:
            return  # not built yet: building later reads the already-updated state
        counts = self._reviews.setdefault(worker_id, [0, 0])
        counts[0] += approved
        counts[1] += rejected

    def percent_approved(self, worker_id: str) -> int:
        approved, rejected = self._review_counts().get(worker_id, (0, 0))
        if approved + rejected == 0:
            return 100
        return int(100 * approved / (approved + rejected))

    def accept(self, worker_id: str, hit: HIT) -> Assignment:
        problem = self.eligibility_problem(worker_id, hit)
        if problem:
            raise RequestError(problem, "AWS.MechanicalTurk.NotEligible")
        self.ensure_worker(worker_id)
        hit_type = self.state.hit_types[hit.hit_type_id]
        a = Assignment(
            assignment_id=self.ids.entity(),
            hit_id=hit.hit_id,
            worker_id=worker_id,
            seq=self.state.next_seq(),
            status=ACCEPTED,
            accept_time=self._now,
            deadline=self._now + hit_type.assignment_duration,
        )
        self.state.assignments[a.assignment_id] = a
        hit.assignment_ids.append(a.assignment_id)
        hit.n_pending += 1
        self.schedule(a.deadline, "deadline", a.assignment_id)
        self.emit("AssignmentAccepted", hit, a.assignment_id)
        self.refresh(hit)
        return a

    def _require_accepted(self, a: Assignment) -> HIT:
        if a.status != ACCEPTED:
            raise RequestError(
                f"Assignment {a.assignment_id} is {a.status}; only an accepted assignment can be "
                "submitted, returned or abandoned.",
                INVALID_STATE,
            )
        return self.state.hits[a.hit_id]

    def submit(self, a: Assignment, answer_xml: str) -> None:
        hit = self._require_accepted(a)
        if self._now > a.deadline:
            self.abandon(a)
            raise RequestError(
                f"Assignment {a.assignment_id} passed its deadline and was abandoned.",
                INVALID_STATE,
            )
        hit_type = self.state.hit_types[hit.hit_type_id]
        a.status = SUBMITTED
        a.answer = answer_xml
        a.submit_time = self._now
        a.auto_approval_time = self._now + hit_type.auto_approval_delay
        hit.n_pending -= 1
        hit.n_submitted += 1
        self.schedule(a.auto_approval_time, "autoapprove", a.assignment_id)
        self.emit("AssignmentSubmitted", hit, a.assignment_id)
        review_policies.apply_assignment_policy(self, hit, a)
        self.refresh(hit)

    def return_assignment(self, a: Assignment) -> None:
        hit = self._require_accepted(a)
        a.status = RETURNED
        hit.n_pending -= 1
        self.emit("AssignmentReturned", hit, a.assignment_id)
        self.refresh(hit)

    def abandon(self, a: Assignment) -> None:
        hit = self._require_accepted(a)
        a.status = ABANDONED
        hit.n_pending -= 1
        self.emit("AssignmentAbandoned", hit, a.assignment_id)
        worker = self.state.workers.get(a.worker_id)
        if worker and worker.current_assignment == a.assignment_id:
            worker.current_assignment = None
        self.refresh(hit)

    # --- the balance on hold ---------------------------------------------------------------------------

    def _hold_of(self, hit: HIT) -> int:
        """What approving the HIT's submitted assignments would cost (reward plus fee)."""
        if hit.status == DISPOSED or not hit.n_submitted:
            return 0
        reward, fee = self.assignment_cost(hit)
        return hit.n_submitted * (reward + fee)

    def _update_hold(self, hit: HIT) -> None:
        holds = self._holds
        if holds is None:
            return  # not built yet: building later reads the already-updated state
        new = self._hold_of(hit)
        old = holds.pop(hit.hit_id, 0)
        if new:
            holds[hit.hit_id] = new
        self._on_hold_cents += new - old

    def on_hold_cents(self) -> int:
        """The OnHoldBalance: a running total, so reading it costs the same at any number of HITs
        (one scan of the state the first time, e.g. after a restore)."""
        if self._holds is None:
            holds = {}
            for hit in self.state.hits.values():
                cents = self._hold_of(hit)
                if cents:
                    holds[hit.hit_id] = cents
            self._holds = holds
            self._on_hold_cents = sum(holds.values())
        return self._on_hold_cents

    def assignment_cost(self, hit: HIT) -> tuple[int, int]:
        """(reward, fee) in cents: 20% commission, 40% for HITs with 10 or more assignments."""
        reward = self.state.hit_types[hit.hit_type_id].reward_cents
        return reward, fee_cents(reward, 40 if hit.max_assignments >= 10 else 20)

    def charge(self, amount_cents: int, what: str) -> None:
        if self.state.balance_cents < amount_cents:
            raise RequestError(
                f"Insufficient funds: {what} costs ${format_money(amount_cents)} but the available "
                f"balance is ${format_money(self.state.balance_cents)}.",
                "AWS.MechanicalTurk.InsufficientFunds",
            )
        self.state.balance_cents -= amount_cents

    def approve(self, a: Assignment, feedback: str | None, *, override: bool = False) -> None:
        hit = self.state.hits[a.hit_id]
        if a.status == REJECTED and override:
            if hit.status == DISPOSED:
                raise RequestError(
                    f"HIT {hit.hit_id} has been deleted; its rejected assignments can no longer be approved.",
                    INVALID_STATE,
                )
            if a.submit_time is not None and self._now > a.submit_time + OVERRIDE_WINDOW:
                raise RequestError(
                    f"Assignment {a.assignment_id} was submitted more than 30 days ago; the "
                    "rejection can no longer be overridden.",
                    INVALID_STATE,
                )
        elif a.status != SUBMITTED:
            raise wrong_status("Submitted", INVALID_STATE)
        reward, fee = self.assignment_cost(hit)
        self.charge(reward + fee, f"approving assignment {a.assignment_id}")
        previous = a.status
        a.status = APPROVED
        a.approval_time = self._now
        a.approve_count += 1
        a.paid_count += 1
        a.paid_cents += reward
        if feedback is not None:
            a.requester_feedback = feedback
        if previous == SUBMITTED:
            hit.n_submitted -= 1
            self._count_review(a.worker_id, 1, 0)
        else:
            hit.n_rejected -= 1
            self._count_review(a.worker_id, 1, -1)
        hit.n_approved += 1
        self.emit("AssignmentApproved", hit, a.assignment_id)
        self.refresh(hit)

    def reject(self, a: Assignment, feedback: str) -> None:
        if a.status != SUBMITTED:
            raise wrong_status("Submitted", INVALID_STATE)
        hit = self.state.hits[a.hit_id]
        a.status = REJECTED
        a.rejection_time = self._now
        a.requester_feedback = feedback
        hit.n_submitted -= 1
        hit.n_rejected += 1
        self._count_review(a.worker_id, 0, 1)
        self.emit("AssignmentRejected", hit, a.assignment_id)
        self.refresh(hit)

    # --- layouts -------------------------------------------------------------------------------------------

    def render_layout(self, layout_id: str, parameters: list[dict[str, str]] | None) -> str:
        layout = self.state.layouts.get(layout_id)
        if layout is None:
            raise invalid_param(f"HITLayoutId {layout_id} does not exist.")
        given = {p["Name"]: p["Value"] for p in parameters or []}
        names = set(layout.get("Parameters") or [])
        template = layout.get("Template") or ""
        names |= set(re.findall(r"\$\{([A-Za-z0-9_.-]+)\}", template))
        missing = sorted(names - set(given))
        if missing:
            raise invalid_param(f"HITLayoutParameters is missing values for: {', '.join(missing)}.")
        unknown = sorted(set(given) - names)
        if unknown:
            raise invalid_param(
                f"HITLayoutParameters names not used in layout {layout_id}: {', '.join(unknown)}."
            )
        content = re.sub(
            r"\$\{([A-Za-z0-9_.-]+)\}", lambda m: html.escape(given[m.group(1)]), template
        )
        content = content.replace("]]>", "]]]]><![CDATA[>")
        return (
            '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
            f'2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA[{content}]]></HTMLContent>'
            f"<FrameHeight>{int(layout.get('FrameHeight', 0))}</FrameHeight></HTMLQuestion>"
        )

    # --- rendering -----------------------------------------------------------------------------------------

    def render_hit(self, hit: HIT) -> dict[str, Any]:
        hit_type = self.state.hit_types[hit.hit_type_id]
        data: dict[str, Any] = {
            "HITId": hit.hit_id,
            "HITTypeId": hit.hit_type_id,
            "HITGroupId": hit.hit_group_id,
            "CreationTime": epoch(hit.creation_time),
            "Title": hit_type.title,
            "Description": hit_type.description,
            "Question": hit.question,
            "HITStatus": hit.status,
            "MaxAssignments": hit.max_assignments,
            "Reward": format_money(hit_type.reward_cents),
            "AutoApprovalDelayInSeconds": hit_type.auto_approval_delay,
            "Expiration": epoch(hit.expiration),
            "AssignmentDurationInSeconds": hit_type.assignment_duration,
            "QualificationRequirements": hit_type.qualification_requirements,
            "HITReviewStatus": "NotReviewed",
            "NumberOfAssignmentsPending": hit.n_pending,
            "NumberOfAssignmentsAvailable": hit.available,
            "NumberOfAssignmentsCompleted": hit.n_approved + hit.n_rejected,
        }
        if hit.layout_id:
            data["HITLayoutId"] = hit.layout_id
        if hit_type.keywords is not None:
            data["Keywords"] = hit_type.keywords
        if hit.requester_annotation is not None:
            data["RequesterAnnotation"] = hit.requester_annotation
        return data

    def render_assignment(self, a: Assignment) -> dict[str, Any]:
        data: dict[str, Any] = {
            "AssignmentId": a.assignment_id,
            "WorkerId": a.worker_id,
            "HITId": a.hit_id,
            "AssignmentStatus": a.status,
            "AcceptTime": epoch(a.accept_time),
            "Deadline": epoch(a.deadline),
        }
        for key, value in (
            ("AutoApprovalTime", a.auto_approval_time),
            ("SubmitTime", a.submit_time),
            ("ApprovalTime", a.approval_time),
            ("RejectionTime", a.rejection_time),
        ):
            if value is not None:
                data[key] = epoch(value)
        if a.answer is not None:
            data["Answer"] = a.answer
        if a.requester_feedback is not None:
            data["RequesterFeedback"] = a.requester_feedback
        return data

    # --- notifications ------------------------------------------------------------------------------------

    def emit(self, event_type: str, hit: HIT, assignment_id: str | None = None) -> None:
        hit_type = self.state.hit_types.get(hit.hit_type_id)
        if hit_type is None or not hit_type.notification_active or not hit_type.notification:
            return
        spec = hit_type.notification
        if event_type not in spec.get("EventTypes", []):
            return
        event = {
            "EventType": event_type,
            "EventTimestamp": iso(self._now),
            "HITTypeId": hit.hit_type_id,
            "HITId": hit.hit_id,
        }
        if assignment_id:
            event["AssignmentId"] = assignment_id
        self.queue_event(spec, event)

    def queue_event(self, spec: dict[str, Any], event: dict[str, Any]) -> None:
        key = (spec["Transport"], spec["Destination"], spec["Version"])
        self._batches.setdefault(key, []).append(event)

    def _publish(self, batches: dict[tuple[str, str, str], list[dict[str, Any]]]) -> None:
        for (transport, destination, version), events in batches.items():
            # Several events may share one document, as MTurk does.
            for start in range(0, len(events), EVENTS_PER_DOCUMENT):
                chunk = events[start : start + EVENTS_PER_DOCUMENT]
                record: dict[str, Any] = {
                    "Transport": transport,
                    "Destination": destination,
                    "EventDocVersion": version,
                    "Events": chunk,
                }
                if self.notifier is None:
                    record["EventDocId"] = None
                    record["Delivered"] = False
                else:
                    try:
                        record["EventDocId"] = self.notifier.publish(
                            transport=transport,
                            destination=destination,
                            event_doc_version=version,
                            customer_id=self.state.customer_id,
                            events=chunk,
                        )
                        record["Delivered"] = True
                    except Exception as exc:  # a broken destination must not fail the API call
                        record["EventDocId"] = None
                        record["Delivered"] = False
                        record["Error"] = str(exc)
                with self.lock:
                    self.event_log.append(record)


# --- timers ----------------------------------------------------------------------------------------
#
# Every timer in `state.timers` is [when, seq, kind, ref]; `Emulator.advance_to` hands each due one
# to the handler registered for its kind. A handler checks that the timer is still current (the
# object's time still equals `when`): rescheduling leaves the old timer in the heap.

TimerHandler: TypeAlias = Callable[[Emulator, str, float], None]
"""(emulator, the timer's ref (a HIT, assignment or worker id), the time it was due for) -> None"""

TIMER_HANDLERS: dict[str, TimerHandler] = {}


def register_timer(kind: str, handler: TimerHandler) -> None:
    """Make `handler` fire the timers of this kind (one handler per kind)."""
    if kind in TIMER_HANDLERS:
        raise ValueError(f"timer kind {kind!r} already has a handler")
    TIMER_HANDLERS[kind] = handler


def _expire(emu: Emulator, ref: str, when: float) -> None:
    hit = emu.state.hits.get(ref)
    if hit and hit.status != DISPOSED and hit.expiration == when:
        emu._expired(hit)


def _deadline(emu: Emulator, ref: str, when: float) -> None:
    a = emu.state.assignments.get(ref)
    if a and a.status == ACCEPTED and a.deadline == when:
        emu.abandon(a)


def _autoapprove(emu: Emulator, ref: str, when: float) -> None:
    a = emu.state.assignments.get(ref)
    if a and a.status == SUBMITTED and a.auto_approval_time == when:
        try:
            emu.approve(a, None)
        except RequestError:
            # Not enough funds: MTurk keeps the assignment pending; try again in an hour.
            a.auto_approval_time = when + 3600
            emu.schedule(a.auto_approval_time, "autoapprove", a.assignment_id)


def _dispose_or_retry(emu: Emulator, hit: HIT, when: float) -> None:
    if hit.status in (REVIEWABLE, REVIEWING) and hit.n_submitted == 0:
        emu.dispose(hit)
    else:
        # Still has work under review: look again tomorrow.
        emu.schedule(when + DAY, "dispose-retry", hit.hit_id)


def _dispose(emu: Emulator, ref: str, when: float) -> None:
    hit = emu.state.hits.get(ref)
    if hit and hit.status != DISPOSED and hit.expiration + AUTO_DISPOSE_AFTER == when:
        _dispose_or_retry(emu, hit, when)


def _dispose_retry(emu: Emulator, ref: str, when: float) -> None:
    hit = emu.state.hits.get(ref)
    if hit and hit.status != DISPOSED:
        _dispose_or_retry(emu, hit, when)


def _worker_action(emu: Emulator, ref: str, when: float) -> None:
    worker = emu.state.workers.get(ref)
    if worker and worker.next_action == when:
        crowd.act(emu, worker)


register_timer("expire", _expire)
register_timer("deadline", _deadline)
register_timer("autoapprove", _autoapprove)
register_timer("dispose", _dispose)
register_timer("dispose-retry", _dispose_retry)
register_timer("worker", _worker_action)
