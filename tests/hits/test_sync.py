"""Sync services against the emulator over real HTTP: the mirror must equal MTurk's truth."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.enums import SyncKind
from dashboard.models import MTurkCallStats, SyncState
from hits import sync as hits_sync
from hits.enums import HITStatus
from hits.models import HIT, Assignment, HITType
from hits.sync import sync_full, sync_one_hit, sync_reviewable
from mirror.sync import AccountBusy, acquire_lease, release_lease, run_sync
from mturk.assignment_fetch import ProcessFetcher, ThreadFetcher
from mturk.gateway import MTurkGateway
from mturk.ratelimit import InProcessRateLimiter
from mturk.tokens import request_token
from tests.truth import mirror_differences
from workers.models import Worker

pytestmark = pytest.mark.django_db

HTML_QUESTION = (
    '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">'
    "<HTMLContent><![CDATA[<!DOCTYPE html><html><body><form name='mturk_form' method='post' action='https://www.mturk.com/mturk/externalSubmit'>"
    "<input type='hidden' name='assignmentId' value=''>"
    "<p>Is this a cat?</p><label><input type='radio' name='cat' value='yes'>Yes</label>"
    "<label><input type='radio' name='cat' value='no'>No</label>"
    "<textarea name='comment'></textarea><input type='submit'></form></body></html>]]></HTMLContent>"
    "<FrameHeight>450</FrameHeight></HTMLQuestion>"
)


def create_hits(
    gateway,
    count: int,
    *,
    max_assignments: int = 3,
    title: str = "Is this a cat?",
    annotation: str | None = None,
) -> list[str]:
    """`count` HITs of one HIT type; `annotation` may hold `{n}` for the HIT's number."""
    hit_ids = []
    for n in range(count):
        result = gateway.create_hit(
            title=title,
            requester_annotation=annotation.format(n=n) if annotation else None,
            description="Look at a picture and say whether it shows a cat.",
            reward="0.25",
            assignment_duration_seconds=600,
            lifetime_seconds=86400,
            max_assignments=max_assignments,
            question=HTML_QUESTION,
            token=request_token("test-hit", f"{title}-{annotation or ''}-{n}"),
        )
        hit_ids.append(result.hit.hit_id)
    return hit_ids


def work(control, hit_id: str, worker_id: str, answers: dict | None = None) -> str:
    """A hand-driven worker accepts and submits one assignment of the HIT."""
    control.add_worker(WorkerId=worker_id)
    assignment = control.accept(worker_id, hit_id)
    control.submit(
        assignment["AssignmentId"], answers or {"cat": "yes", "comment": "Fluffy <b>cat</b>"}
    )
    return assignment["AssignmentId"]


def test_full_sync_mirrors_hits_and_assignments(emulator_account, account_gateway, fresh_emulator):
    hit_ids = create_hits(account_gateway, 3)
    work(fresh_emulator.control, hit_ids[0], "AWORKERONE0001")
    work(fresh_emulator.control, hit_ids[0], "AWORKERTWO0002", {"cat": "no", "comment": ""})
    work(fresh_emulator.control, hit_ids[1], "AWORKERONE0001")

    counts = sync_full(account=emulator_account, gateway=account_gateway)

    assert (counts.hits_seen, counts.hits_created, counts.assignments_created) == (3, 3, 3)
    assert mirror_differences(emulator_account, fresh_emulator.control.truth()) == []
    assignment = Assignment.objects.get(worker__worker_id="AWORKERONE0001", hit__hit_id=hit_ids[0])
    assert assignment.answers == {"cat": "yes", "comment": "Fluffy <b>cat</b>"}
    assert assignment.answers_ok and assignment.work_time_seconds is not None
    assert HIT.objects.get(hit_id=hit_ids[0]).question_kind == "HTMLQuestion"
    assert HITType.objects.filter(account=emulator_account).count() == 1
    worker = Worker.objects.get(worker_id="AWORKERONE0001")
    assert (worker.assignments_submitted, worker.assignments_approved) == (2, 0)


def test_full_sync_with_fetch_processes_mirrors_the_same_and_counts_every_call(
    emulator_account, account_gateway, fresh_emulator, settings, monkeypatch
):
    """SYNC_FETCH_PROCESSES: the assignments are listed by spawned worker processes (the gateway's
    limiter must be one they can share: none here; Redis in production); the mirror and the call
    statistics come out as with threads."""
    settings.SYNC_FETCH_PROCESSES = 2
    hit_ids = create_hits(account_gateway, 5)
    for n, hit_id in enumerate(hit_ids[:4]):
        work(fresh_emulator.control, hit_id, f"AWORKERPROC{n:04d}")
    work(fresh_emulator.control, hit_ids[0], "AWORKERTWO0002", {"cat": "no", "comment": ""})
    seen: list[str] = []
    shareable = MTurkGateway(
        dataclasses.replace(
            account_gateway.config,
            rate_limiter=None,
            on_call=lambda call: seen.append(call.operation),
        )
    )
    started: list[int] = []
    original_init = ProcessFetcher.__init__

    def spy(self, gateway, processes):
        started.append(processes)
        original_init(self, gateway, processes)

    monkeypatch.setattr(ProcessFetcher, "__init__", spy)
    counts = sync_full(account=emulator_account, gateway=shareable)

    assert started == [2]
    assert (counts.hits_created, counts.assignments_created) == (5, 5)
    assert mirror_differences(emulator_account, fresh_emulator.control.truth()) == []
    # ListHITs: 1 page + the empty one; ListAssignmentsForHIT: 2 per HIT with work, 1 without.
    assert seen.count("ListHITs") == 2 and seen.count("ListAssignmentsForHIT") == 4 * 2 + 1


def test_fetch_processes_fall_back_to_threads_without_a_shared_limiter(account_gateway, settings):
    settings.SYNC_FETCH_PROCESSES = 2
    local = MTurkGateway(
        dataclasses.replace(account_gateway.config, rate_limiter=InProcessRateLimiter(1000))
    )
    fetcher = hits_sync._fetcher(local)
    try:
        assert isinstance(fetcher, ThreadFetcher)
    finally:
        fetcher.close()


def test_a_second_sync_with_nothing_changed_writes_nothing_and_lists_no_assignments(
    emulator_account, account_gateway, fresh_emulator
):
    hit_ids = create_hits(account_gateway, 2)
    work(fresh_emulator.control, hit_ids[0], "AWORKERONE0001")
    sync_full(account=emulator_account, gateway=account_gateway)
    calls_before = fresh_emulator.control.get("calls")["call_counts"]

    with CaptureQueriesContext(connection) as queries:
        counts = sync_full(account=emulator_account, gateway=account_gateway)

    calls_after = fresh_emulator.control.get("calls")["call_counts"]
    assert (
        counts.hits_created,
        counts.hits_updated,
        counts.assignments_created,
        counts.assignments_updated,
    ) == (0, 0, 0, 0)
    assert calls_after.get("ListAssignmentsForHIT", 0) == calls_before.get(
        "ListAssignmentsForHIT", 0
    )
    # The pagination minimum: one page of results and the empty page that ends the listing.
    assert calls_after["ListHITs"] == calls_before["ListHITs"] + 2
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []


def test_queries_per_page_are_bounded_not_per_row(
    emulator_account, account_gateway, fresh_emulator
):
    def queries_for(n_hits: int) -> int:
        fresh_emulator.control.reset(seed=7)
        Assignment.objects.filter(account=emulator_account).delete()
        HIT.objects.filter(account=emulator_account).delete()
        HITType.objects.filter(account=emulator_account).delete()
        Worker.objects.filter(account=emulator_account).delete()
        fresh_emulator.control.post("populate", {"HITs": n_hits, "AssignmentsPerHIT": 2})
        with CaptureQueriesContext(connection) as queries:
            sync_full(account=emulator_account, gateway=account_gateway)
        return len(queries.captured_queries)

    one_page, three_pages = queries_for(100), queries_for(300)

    # 100 HITs and 200 assignments in a few dozen queries (bulk writes), and three pages cost
    # three times one page: the count follows pages, not rows.
    assert one_page < 40
    assert three_pages <= 3 * one_page


def test_changes_at_mturk_reach_the_mirror(emulator_account, account_gateway, fresh_emulator):
    (hit_id,) = create_hits(account_gateway, 1, max_assignments=2)
    first = work(fresh_emulator.control, hit_id, "AWORKERONE0001")
    sync_full(account=emulator_account, gateway=account_gateway)
    account_gateway.approve_assignment(assignment_id=first, feedback="Thanks!")
    work(fresh_emulator.control, hit_id, "AWORKERTWO0002")

    counts = sync_reviewable(account=emulator_account, gateway=account_gateway)

    assert counts.hits_seen == 1  # both assignments submitted: the HIT is Reviewable
    assert mirror_differences(emulator_account, fresh_emulator.control.truth()) == []
    assert Assignment.objects.get(assignment_id=first).requester_feedback == "Thanks!"
    assert Worker.objects.get(worker_id="AWORKERONE0001").assignments_approved == 1


def test_auto_approval_and_expiry_are_picked_up(emulator_account, account_gateway, fresh_emulator):
    hit_ids = create_hits(account_gateway, 2, max_assignments=1)
    work(fresh_emulator.control, hit_ids[0], "AWORKERONE0001")
    sync_full(account=emulator_account, gateway=account_gateway)

    fresh_emulator.control.advance(31 * 86400)  # past auto-approval (30 days) and expiry (1 day)
    sync_full(account=emulator_account, gateway=account_gateway)

    assert mirror_differences(emulator_account, fresh_emulator.control.truth()) == []
    assert Assignment.objects.get(hit__hit_id=hit_ids[0]).status == "Approved"
    assert HIT.objects.get(hit_id=hit_ids[1]).status == HITStatus.REVIEWABLE


def test_hits_gone_from_mturk_are_marked_disposed_not_deleted(
    emulator_account, account_gateway, fresh_emulator
):
    hit_ids = create_hits(account_gateway, 2, max_assignments=1)
    sync_full(account=emulator_account, gateway=account_gateway)
    account_gateway.update_expiration(
        hit_id=hit_ids[0],
        expire_at=__import__("datetime").datetime(2020, 1, 1, tzinfo=__import__("datetime").UTC),
    )
    account_gateway.delete_hit(hit_id=hit_ids[0])

    counts = sync_full(account=emulator_account, gateway=account_gateway)

    hit = HIT.objects.get(hit_id=hit_ids[0])
    assert counts.hits_disposed == 1
    assert hit.status == HITStatus.DISPOSED and hit.disposed_at is not None
    assert HIT.objects.get(hit_id=hit_ids[1]).disposed_at is None


def test_sync_one_hit_reads_the_hit_and_its_assignments(
    emulator_account, account_gateway, fresh_emulator
):
    (hit_id,) = create_hits(account_gateway, 1)
    assignment_id = work(fresh_emulator.control, hit_id, "AWORKERONE0001")

    sync_one_hit(account=emulator_account, gateway=account_gateway, hit_id=hit_id)
    missing = sync_one_hit(
        account=emulator_account, gateway=account_gateway, hit_id="3NOSUCHHIT0000000000000000000"
    )

    assert Assignment.objects.filter(assignment_id=assignment_id, hit__hit_id=hit_id).exists()
    assert missing.hits_disposed == 0


def test_new_hits_come_back_as_saved_rows_with_their_keys(
    emulator_account, account_gateway, fresh_emulator, monkeypatch
):
    """upsert_hits hands back the rows it created (keys read back, nothing else): they must be
    usable as saved rows, and a row a concurrent sync inserted between our read and our insert
    keeps that row's key."""
    from hits.sync import upsert_hits

    first_id, second_id = create_hits(account_gateway, 2)
    records_ = [account_gateway.get_hit(hit_id=hit_id) for hit_id in (first_id, second_id)]
    insert = HIT.objects.bulk_create
    theirs: list[HIT] = []

    def racing_insert(objs, **kwargs):
        if not theirs:  # another sync gets the first HIT in first
            theirs.append(HIT(account=emulator_account, hit_id=first_id, hit_type=objs[0].hit_type))
            insert(theirs)
        return insert(objs, **kwargs)

    monkeypatch.setattr(HIT.objects, "bulk_create", racing_insert)
    hits, counts, _ = upsert_hits(account=emulator_account, hit_records=records_)

    assert counts.hits_created == 2 and HIT.objects.filter(account=emulator_account).count() == 2
    assert hits[first_id].pk == HIT.objects.get(hit_id=first_id).pk
    new = hits[second_id]
    assert new.pk == HIT.objects.get(hit_id=second_id).pk
    assert not new._state.adding and new._state.db == "default"
    new.annotation = "saved again"
    new.save(update_fields=["annotation"])  # an UPDATE of the existing row, not an INSERT
    assert HIT.objects.get(hit_id=second_id).annotation == "saved again"


def test_malformed_answers_are_kept_raw_and_flagged(
    emulator_account, account_gateway, fresh_emulator
):
    from hits.sync import upsert_assignments, upsert_hits
    from mturk import records

    (hit_id,) = create_hits(account_gateway, 1)
    hits, _, _ = upsert_hits(
        account=emulator_account, hit_records=[account_gateway.get_hit(hit_id=hit_id)]
    )
    broken = records.Assignment.from_api(
        {
            "AssignmentId": "3BROKENASSIGNMENT0000000000001",
            "WorkerId": "AWORKERONE0001",
            "HITId": hit_id,
            "AssignmentStatus": "Submitted",
            "Answer": "<QuestionFormAnswers><Answer>",
        }
    )

    upsert_assignments(account=emulator_account, hits=hits, assignment_records=[broken])

    row = Assignment.objects.get(assignment_id="3BROKENASSIGNMENT0000000000001")
    assert row.answer_xml == "<QuestionFormAnswers><Answer>"
    assert row.answers_ok is False and row.answers_error


def test_run_sync_records_health_and_call_stats(emulator_account, fresh_emulator, account_gateway):
    create_hits(account_gateway, 2)

    outcome = run_sync(account=emulator_account, kind=SyncKind.FULL)
    balance = run_sync(account=emulator_account, kind=SyncKind.BALANCE)

    state = SyncState.objects.get(account=emulator_account)
    emulator_account.refresh_from_db()
    assert outcome.ok and balance.ok
    assert state.last_full_sync_at is not None and emulator_account.last_synced_at is not None
    assert state.available_balance is not None
    stats = {
        row.operation: row.calls for row in MTurkCallStats.objects.filter(account=emulator_account)
    }
    # One page of HITs, then MTurk's empty last page.
    assert stats["ListHITs"] == 2 and stats["GetAccountBalance"] == 1
    assert state.lock_token == ""


def test_mturk_errors_are_recorded_not_raised(emulator_account, fresh_emulator):
    fresh_emulator.control.set_faults(fault_rate=1.0)

    outcome = run_sync(account=emulator_account, kind=SyncKind.BALANCE)

    state = SyncState.objects.get(account=emulator_account)
    assert not outcome.ok and outcome.retryable
    assert "ServiceFault" in state.last_error or "ServiceFault" in outcome.error
    assert state.lock_token == ""  # the lease is released on failure too


def test_two_syncs_of_one_account_never_overlap(emulator_account):
    token = acquire_lease(emulator_account)
    try:
        with pytest.raises(AccountBusy):
            run_sync(account=emulator_account, kind=SyncKind.BALANCE)
        assert acquire_lease(emulator_account) is None
    finally:
        release_lease(emulator_account, token)
    assert run_sync(account=emulator_account, kind=SyncKind.BALANCE).ok


# --- Freshness without notifications: the active pass (issue 10, item 12) ------------------------


def _call_counts(emulator) -> dict[str, int]:
    return dict(emulator.control.get("calls")["call_counts"])


def _calls_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in after.items() if n != before.get(op, 0)}


def test_the_active_pass_finds_new_submissions_on_open_hits_with_few_calls(
    emulator_account, fresh_emulator
):
    # 250 open HITs of 3 assignments, 1 submitted each, mirrored; then 3 HITs get a second one.
    fresh_emulator.control.post(
        "populate", {"HITs": 250, "MaxAssignments": 3, "AssignmentsPerHIT": 1}
    )
    assert run_sync(account=emulator_account, kind=SyncKind.FULL).ok
    hit_ids = sorted(HIT.objects.filter(account=emulator_account).values_list("hit_id", flat=True))
    moved = [hit_ids[7], hit_ids[130], hit_ids[249]]
    for n, hit_id in enumerate(moved):
        work(fresh_emulator.control, hit_id, f"AWORKERACTIVE{n:04d}")

    # ListReviewableHITs cannot see them: 2 of 3 submitted, the HITs are still Assignable.
    assert run_sync(account=emulator_account, kind=SyncKind.REVIEWABLE).ok
    assert Assignment.objects.filter(hit__hit_id__in=moved).count() == 3
    before = _call_counts(fresh_emulator)
    outcome = run_sync(account=emulator_account, kind=SyncKind.ACTIVE)
    calls = _calls_between(before, _call_counts(fresh_emulator))

    # The pagination minimum (MTurk ends every listing with an empty page): 3 pages of HITs plus
    # the empty one, and the assignments of only the 3 HITs that moved (a page and the empty one).
    assert calls == {"ListHITs": 3 + 1, "ListAssignmentsForHIT": 3 * 2}
    assert outcome.ok and outcome.details["hits_seen"] == 250
    assert (outcome.details["hits_updated"], outcome.details["assignments_created"]) == (3, 3)
    assert Assignment.objects.filter(hit__hit_id__in=moved).count() == 6
    assert mirror_differences(emulator_account, fresh_emulator.control.truth()) == []
    state = SyncState.objects.get(account=emulator_account)
    assert state.last_active_sync_at is not None

    # Nothing moved since: the next pass reads the HIT pages and no assignments.
    before = _call_counts(fresh_emulator)
    assert run_sync(account=emulator_account, kind=SyncKind.ACTIVE).ok
    assert _calls_between(before, _call_counts(fresh_emulator)) == {"ListHITs": 3 + 1}


def test_the_active_pass_is_on_the_beat_schedule(settings):
    assert settings.CELERY_BEAT_SCHEDULE["sync-active"] == {
        "task": "mirror.sync_all_accounts",
        "schedule": settings.SYNC_ACTIVE_INTERVAL_SECONDS,
        "kwargs": {"kind": "active"},
    }
    # Every two minutes by default, so a submission shows within five even when a pass is skipped.
    assert settings.SYNC_ACTIVE_INTERVAL_SECONDS == 120
