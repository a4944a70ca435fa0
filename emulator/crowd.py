"""The simulated crowd: workers who find HITs they may do, accept, work, then submit, return or walk away.

Every worker action is a timer on the emulated clock, so a crowd jumps with clock advances exactly
as it would have run in real time (same seed, same outcome). Its pace is `emu.crowd_speed`
(`--speed`): every pause a worker takes (before looking for work, while working, between tasks) is
divided by it, so at 10 the crowd works ten times faster than real people, while MTurk's own timers
(assignment deadlines, auto-approval, expiry) keep running on the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from emulator import answering
from emulator.operations.qualifications import grant, request_qualification
from emulator.state import ACCEPTED, HIT, Worker

if TYPE_CHECKING:
    from emulator.engine import Emulator

PROFILES: dict[str, dict[str, Any]] = {
    "careful": {"accuracy": 0.95, "speed": 0.7, "return_rate": 0.02, "abandon_rate": 0.01},
    "fast-and-sloppy": {"accuracy": 0.7, "speed": 2.5, "return_rate": 0.05, "abandon_rate": 0.01},
    "spammer": {"accuracy": 0.05, "speed": 6.0, "return_rate": 0.0, "abandon_rate": 0.0},
    "slow": {"accuracy": 0.9, "speed": 0.3, "return_rate": 0.05, "abandon_rate": 0.15},
}
ALIASES = {"fast": "fast-and-sloppy", "sloppy": "fast-and-sloppy"}
SLOPPY = {"fast-and-sloppy", "spammer"}
DEFAULT_MIX = {"careful": 0.5, "fast-and-sloppy": 0.25, "slow": 0.15, "spammer": 0.1}

BASE_WORK_SECONDS = 90.0
IDLE_SECONDS = 900.0
SCAN_LIMIT = 200
LOCALES = [
    ({"Country": "US", "Subdivision": "CA"}, 0.2),
    ({"Country": "US", "Subdivision": "NY"}, 0.15),
    ({"Country": "US", "Subdivision": "TX"}, 0.15),
    ({"Country": "US"}, 0.15),
    ({"Country": "IN"}, 0.15),
    ({"Country": "GB"}, 0.08),
    ({"Country": "CA"}, 0.07),
    ({"Country": "DE"}, 0.05),
]


def profile_name(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in PROFILES:
        raise ValueError(f"unknown worker profile {name!r}; choose from {', '.join(PROFILES)}")
    return name


def make_worker(
    emu: Emulator, spec: dict[str, Any] | None = None, mix: dict[str, float] | None = None
) -> Worker:
    spec = dict(spec or {})
    rng = emu.crowd_rng
    if "profile" in spec:
        profile = profile_name(spec["profile"])
    else:
        weights = {profile_name(k): float(v) for k, v in (mix or DEFAULT_MIX).items()}
        profile = rng.choices(list(weights), weights=list(weights.values()))[0]
    base = PROFILES[profile]
    locale = (
        spec.get("locale")
        or rng.choices([loc for loc, _ in LOCALES], weights=[w for _, w in LOCALES])[0]
    )
    worker_id = spec.get("WorkerId") or spec.get("worker_id") or emu.ids.worker()
    return Worker(
        worker_id=worker_id,
        profile=profile,
        accuracy=float(spec.get("accuracy", base["accuracy"])),
        speed=float(spec.get("speed", base["speed"])),
        return_rate=float(spec.get("return_rate", base["return_rate"])),
        abandon_rate=float(spec.get("abandon_rate", base["abandon_rate"])),
        locale=dict(locale),
        masters=bool(spec.get("masters", rng.random() < 0.1)),
        hits_approved=int(spec.get("hits_approved", rng.randint(50, 20000))),
        active=bool(spec.get("active", True)),
    )


def configure(
    emu: Emulator,
    *,
    count: int | None = None,
    workers: list[dict[str, Any]] | None = None,
    mix: dict[str, float] | None = None,
) -> list[Worker]:
    """Add `count` random workers (profiles drawn from `mix`) and/or the given worker specs
    (updating existing ids). A spec may grant qualifications: {"qualifications": {qtid: value}}."""
    added = []
    for spec in workers or []:
        existing = emu.state.workers.get(spec.get("WorkerId", ""))
        worker = make_worker(emu, spec)
        if existing is not None:
            worker.current_assignment = existing.current_assignment
        emu.state.workers[worker.worker_id] = worker
        for qtid, value in (spec.get("qualifications") or {}).items():
            qt = emu.state.qualification_types.get(qtid)
            if qt is None:
                raise ValueError(f"QualificationType {qtid} does not exist")
            grant(emu, qt, worker.worker_id, value)
        added.append(worker)
    for _ in range(count or 0):
        worker = make_worker(emu, mix=mix)
        emu.state.workers[worker.worker_id] = worker
        added.append(worker)
    if emu.crowd_running:
        for worker in added:
            _schedule(emu, worker, _after(emu, emu.crowd_rng.uniform(1, 30)))
    return added


def start(emu: Emulator) -> None:
    emu.crowd_running = True
    for worker in emu.state.workers.values():
        if worker.active:
            _schedule(emu, worker, _after(emu, emu.crowd_rng.uniform(1, 30)))


def stop(emu: Emulator) -> None:
    emu.crowd_running = False


def wake(emu: Emulator) -> None:
    """New work appeared: idle workers look soon instead of at their next idle poll."""
    if not emu.crowd_running:
        return
    soon = _after(emu, 30)
    for worker in emu.state.workers.values():
        if worker.active and worker.current_assignment is None and worker.next_action > soon:
            _schedule(emu, worker, _after(emu, emu.crowd_rng.uniform(1, 30)))


def _schedule(emu: Emulator, worker: Worker, when: float) -> None:
    worker.next_action = when
    emu.schedule(when, "worker", worker.worker_id)


def _after(emu: Emulator, seconds: float) -> float:
    """When a pause of `seconds` (as a real person would take) ends, at the crowd's pace."""
    return emu.now + seconds / emu.crowd_speed


def act(emu: Emulator, worker: Worker) -> None:
    if not emu.crowd_running or not worker.active:
        return
    rng = emu.crowd_rng
    if worker.current_assignment:
        a = emu.state.assignments.get(worker.current_assignment)
        worker.current_assignment = None
        if a is not None and a.status == ACCEPTED:
            roll = rng.random()
            if roll < worker.abandon_rate:
                pass  # walks away: the assignment deadline turns it into AssignmentAbandoned
            elif roll < worker.abandon_rate + worker.return_rate:
                emu.return_assignment(a)
            else:
                emu.submit(a, make_answer(emu, worker, emu.state.hits[a.hit_id]))
        _schedule(emu, worker, _after(emu, rng.uniform(2, 20)))
        return
    hit = _pick(emu, worker)
    if hit is None:
        _schedule(emu, worker, _after(emu, IDLE_SECONDS * rng.uniform(0.8, 1.2)))
        return
    a = emu.accept(worker.worker_id, hit)
    worker.current_assignment = a.assignment_id
    duration = a.deadline - a.accept_time
    work = BASE_WORK_SECONDS / max(worker.speed, 0.01) * rng.uniform(0.6, 1.4)
    # The deadline is MTurk's timer, on the clock: a worker who means to submit does so before it.
    finish = min(_after(emu, max(1.0, work)), emu.now + duration * 0.9)
    _schedule(emu, worker, finish)


def _pick(emu: Emulator, worker: Worker) -> HIT | None:
    candidates = emu.assignable_hits()
    if not candidates:
        return None
    # Workers prefer the oldest groups but not all the same one: start at a random early offset.
    start = emu.crowd_rng.randrange(min(len(candidates), 20))
    for hit_id in candidates[start : start + SCAN_LIMIT] + candidates[:start]:
        hit = emu.state.hits[hit_id]
        if emu.eligibility_problem(worker.worker_id, hit) is None:
            return hit
        _maybe_request_qualification(emu, worker, hit)
    return None


def _maybe_request_qualification(emu: Emulator, worker: Worker, hit: HIT) -> None:
    """A worker kept out by a requestable qualification may ask for it (taking its test)."""
    hit_type = emu.state.hit_types[hit.hit_type_id]
    for requirement in hit_type.qualification_requirements:
        qt = emu.state.qualification_types.get(requirement["QualificationTypeId"])
        if qt is None or qt.status != "Active" or not qt.is_requestable:
            continue
        if emu.state.qualification(qt.qualification_type_id, worker.worker_id) is not None:
            continue
        if any(
            r.worker_id == worker.worker_id and r.qualification_type_id == qt.qualification_type_id
            for r in emu.state.qualification_requests.values()
        ):
            continue
        if worker.profile == "spammer" or emu.crowd_rng.random() < 0.5:
            answer = None
            if qt.test:
                answer = generate(emu, qt.test, worker, None, None, None)
            try:
                request_qualification(emu, worker.worker_id, qt, answer)
            except Exception:
                pass
        return


def make_answer(emu: Emulator, worker: Worker, hit: HIT) -> str:
    params = {p["Name"]: p["Value"] for p in hit.layout_parameters or []}
    return generate(
        emu,
        hit.question or "",
        worker,
        emu.state.ground_truth.get(hit.hit_id),
        emu.state.answer_specs.get(hit.hit_type_id),
        params,
    )


def generate(
    emu: Emulator,
    question: str,
    worker: Worker,
    truth: Mapping[str, Any] | None,
    spec: Mapping[str, Any] | None,
    params: Mapping[str, str] | None,
) -> str:
    """The answer XML this worker submits for `question`.

    The only failure expected here is the one `answering.generate_answer` documents: ``ValueError``
    for a question it cannot read (CreateHIT validates questions, so only a question that bypassed
    it, e.g. from a hand-edited state file, gets there); such a question gets a fallback answer.
    Anything else is a bug in the generator and propagates.
    """
    try:
        return answering.generate_answer(
            question,
            rng=emu.crowd_rng,
            accuracy=worker.accuracy,
            ground_truth=truth,
            answer_spec=spec,
            layout_parameters=params or None,
            sloppy=worker.profile in SLOPPY,
        )
    except ValueError:
        return fallback_answer(truth, emu.crowd_rng.random() < worker.accuracy)


def fallback_answer(truth: Mapping[str, Any] | None, correct: bool) -> str:
    """Used when emulator.answering cannot read a question, and for /populate's bulk answers."""
    fields = dict(truth or {"answer": "answer"})
    parts = []
    for key, value in fields.items():
        text = value if isinstance(value, str) else str(value)
        if not correct:
            text = f"not {text}"
        parts.append(
            f"<Answer><QuestionIdentifier>{escape(str(key))}</QuestionIdentifier>"
            f"<FreeText>{escape(text)}</FreeText></Answer>"
        )
    return (
        '<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="http://mechanicalturk.'
        'amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd">'
        + "".join(parts)
        + "</QuestionFormAnswers>"
    )
