"""The emulator's data: plain records kept in insertion (sequence) order, serialisable to JSON."""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# Internal assignment phases. Only the last three are visible through the API; the others show up
# as notification events and in the HIT counters.
ACCEPTED, RETURNED, ABANDONED = "Accepted", "Returned", "Abandoned"
SUBMITTED, APPROVED, REJECTED = "Submitted", "Approved", "Rejected"
VISIBLE_ASSIGNMENT_STATUSES = (SUBMITTED, APPROVED, REJECTED)

ASSIGNABLE, UNASSIGNABLE, REVIEWABLE, REVIEWING, DISPOSED = (
    "Assignable",
    "Unassignable",
    "Reviewable",
    "Reviewing",
    "Disposed",
)


@dataclass
class HITType:
    hit_type_id: str
    title: str
    description: str
    reward_cents: int
    assignment_duration: int
    auto_approval_delay: int
    keywords: str | None = None
    qualification_requirements: list[dict[str, Any]] = field(default_factory=list)
    notification: dict[str, Any] | None = None
    notification_active: bool = False
    creation_time: float = 0.0
    seq: int = 0


@dataclass
class HIT:
    hit_id: str
    hit_type_id: str
    hit_group_id: str
    seq: int
    creation_time: float
    expiration: float
    max_assignments: int
    question: str | None = None
    requester_annotation: str | None = None
    layout_id: str | None = None
    layout_parameters: list[dict[str, str]] | None = None
    assignment_review_policy: dict[str, Any] | None = None
    hit_review_policy: dict[str, Any] | None = None
    status: str = ASSIGNABLE
    reviewing: bool = False
    n_pending: int = 0
    n_submitted: int = 0
    n_approved: int = 0
    n_rejected: int = 0
    assignment_ids: list[str] = field(default_factory=list)
    expired_notified: bool = False
    assignment_review_results: list[dict[str, Any]] = field(default_factory=list)
    assignment_review_actions: list[dict[str, Any]] = field(default_factory=list)
    hit_review_results: list[dict[str, Any]] = field(default_factory=list)
    hit_review_actions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def available(self) -> int:
        return max(
            self.max_assignments
            - self.n_pending
            - self.n_submitted
            - self.n_approved
            - self.n_rejected,
            0,
        )


@dataclass
class Assignment:
    assignment_id: str
    hit_id: str
    worker_id: str
    seq: int
    status: str
    accept_time: float
    deadline: float
    submit_time: float | None = None
    auto_approval_time: float | None = None
    approval_time: float | None = None
    rejection_time: float | None = None
    answer: str | None = None
    requester_feedback: str | None = None
    approve_count: int = 0
    paid_count: int = 0
    paid_cents: int = 0
    known_answer_score: int | None = None


@dataclass
class QualificationType:
    qualification_type_id: str
    name: str
    description: str
    status: str
    creation_time: float
    seq: int
    keywords: str | None = None
    retry_delay: int | None = None
    test: str | None = None
    answer_key: str | None = None
    test_duration: int | None = None
    auto_granted: bool = False
    auto_granted_value: int | None = None
    is_requestable: bool = True
    system: bool = False


@dataclass
class Qualification:
    qualification_type_id: str
    worker_id: str
    integer_value: int | None
    grant_time: float
    seq: int
    status: str = "Granted"
    locale_value: dict[str, str] | None = None


@dataclass
class QualificationRequest:
    qualification_request_id: str
    qualification_type_id: str
    worker_id: str
    submit_time: float
    seq: int
    test: str | None = None
    answer: str | None = None


@dataclass
class Bonus:
    worker_id: str
    bonus_cents: int
    assignment_id: str
    hit_id: str
    reason: str
    grant_time: float
    seq: int


@dataclass
class Block:
    worker_id: str
    reason: str
    seq: int


@dataclass
class Worker:
    """A simulated worker of the crowd (or one that only exists through the control API)."""

    worker_id: str
    profile: str = "careful"
    accuracy: float = 0.9
    speed: float = 1.0
    return_rate: float = 0.02
    abandon_rate: float = 0.01
    locale: dict[str, str] = field(default_factory=lambda: {"Country": "US"})
    masters: bool = False
    hits_approved: int = 500
    active: bool = True
    next_action: float = 0.0
    current_assignment: str | None = None


RECORD_TYPES = {
    "hit_types": HITType,
    "hits": HIT,
    "assignments": Assignment,
    "qualification_types": QualificationType,
    "qualifications": Qualification,
    "qualification_requests": QualificationRequest,
    "bonuses": Bonus,
    "blocks": Block,
    "workers": Worker,
}


class State:
    """All MTurk-side data of one requester account. Callers hold the emulator lock."""

    def __init__(self) -> None:
        self.seq = 0
        self.hit_types: dict[str, HITType] = {}
        self.hits: dict[str, HIT] = {}
        self.assignments: dict[str, Assignment] = {}
        self.qualification_types: dict[str, QualificationType] = {}
        # keyed "<QualificationTypeId>|<WorkerId>"
        self.qualifications: dict[str, Qualification] = {}
        self.qualification_requests: dict[str, QualificationRequest] = {}
        self.bonuses: dict[str, Bonus] = {}
        self.blocks: dict[str, Block] = {}
        self.workers: dict[str, Worker] = {}
        self.balance_cents = 1_000_000
        self.tokens: dict[str, dict[str, Any]] = {}
        self.layouts: dict[str, dict[str, Any]] = {}
        self.answer_specs: dict[str, Any] = {}
        self.ground_truth: dict[str, dict[str, Any]] = {}
        self.call_counts: dict[str, int] = {}
        self.error_counts: dict[str, int] = {}
        self.messages: list[dict[str, Any]] = []
        self.email_notifications: list[dict[str, Any]] = []
        self.timers: list[list[Any]] = []
        # "<QualificationTypeId>|<WorkerId>" -> last request time, for RetryDelayInSeconds.
        self.qualification_request_times: dict[str, float] = {}
        self.customer_id = "A1EMULATORREQ"
        self.clock_time: float | None = None
        # ListHITs must page 100,000 HITs quickly: the sequence numbers of HITs in order, for bisect.
        self.hit_seqs: list[int] = []
        self.hit_by_seq: dict[int, str] = {}

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def add_hit(self, hit: HIT) -> None:
        self.hits[hit.hit_id] = hit
        self.hit_seqs.append(hit.seq)
        self.hit_by_seq[hit.seq] = hit.hit_id

    def hits_after(self, after_seq: int) -> Iterator[HIT]:
        start = bisect.bisect_right(self.hit_seqs, after_seq)
        for seq in self.hit_seqs[start:]:
            yield self.hits[self.hit_by_seq[seq]]

    def hit_assignments(self, hit: HIT) -> list[Assignment]:
        return [self.assignments[a] for a in hit.assignment_ids]

    def qualification(self, qualification_type_id: str, worker_id: str) -> Qualification | None:
        return self.qualifications.get(f"{qualification_type_id}|{worker_id}")

    # --- persistence -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            name: [dict(vars(record)) for record in getattr(self, name).values()]
            for name in RECORD_TYPES
        }
        for name in (
            "seq",
            "balance_cents",
            "tokens",
            "layouts",
            "answer_specs",
            "ground_truth",
            "call_counts",
            "error_counts",
            "messages",
            "email_notifications",
            "timers",
            "qualification_request_times",
            "customer_id",
            "clock_time",
        ):
            data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        state = cls()
        known = {
            name: {f.name for f in dataclasses.fields(rt)} for name, rt in RECORD_TYPES.items()
        }
        for name, record_type in RECORD_TYPES.items():
            table = getattr(state, name)
            for raw in data.get(name, []):
                record = record_type(**{k: v for k, v in raw.items() if k in known[name]})
                table[_key(name, record)] = record
        for hit in sorted(state.hits.values(), key=lambda h: h.seq):
            state.hit_seqs.append(hit.seq)
            state.hit_by_seq[hit.seq] = hit.hit_id
        for name in (
            "seq",
            "balance_cents",
            "tokens",
            "layouts",
            "answer_specs",
            "ground_truth",
            "call_counts",
            "error_counts",
            "messages",
            "email_notifications",
            "timers",
            "qualification_request_times",
            "customer_id",
            "clock_time",
        ):
            if name in data:
                setattr(state, name, data[name])
        return state


def _key(table: str, record: Any) -> str:
    if table == "hit_types":
        return record.hit_type_id
    if table == "hits":
        return record.hit_id
    if table == "assignments":
        return record.assignment_id
    if table == "qualification_types":
        return record.qualification_type_id
    if table == "qualifications":
        return f"{record.qualification_type_id}|{record.worker_id}"
    if table == "qualification_requests":
        return record.qualification_request_id
    if table == "bonuses":
        return str(record.seq)
    if table in ("blocks", "workers"):
        return record.worker_id
    raise KeyError(table)
