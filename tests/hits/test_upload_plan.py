"""Planning an uploaded decisions file (hits.upload_plan) on data built through the emulator: a
marked export planned exactly, what is left out and why, and files refused as a whole."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.models import RequesterAccount
from hits.models import HIT, Assignment, HITType
from hits.results_format import java_date
from hits.upload_plan import PlannedDecision, parse_decisions_csv
from mirror.sync import run_sync
from tests.factories import RequesterAccountFactory
from tests.hits.test_results_export import Batch, export
from tests.hits.test_sync import create_hits, work
from workers.models import Worker

pytestmark = pytest.mark.django_db

# Reward 0.25 on HITs with 3 assignments: MTurk's 20% fee is $0.05, so one approval costs $0.30.
COST_PER_APPROVAL = Decimal("0.30")


@pytest.fixture
def batch(emulator_account, account_gateway, fresh_emulator) -> Batch:
    return Batch(emulator_account, account_gateway, fresh_emulator.control)


@pytest.fixture
def second_account(db, fresh_emulator) -> RequesterAccount:
    from dashboard.services import save_account

    account = RequesterAccountFactory.build(
        slug="emu-two",
        name="Second lab",
        endpoint_url=fresh_emulator.endpoint_url,
        aws_access_key_id="AKIAEMULATOR00000002",
    )
    save_account(account=account, secret_access_key="emulator-secret-key", actor_name="tests")
    return account


def csv_bytes(header: list[str], rows: list[list[str]], *, bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def decisions(rows: list[tuple[str, str, str]]) -> bytes:
    """A minimal decisions file: (AssignmentId, Approve, Reject) per row."""
    return csv_bytes(["AssignmentId", "Approve", "Reject"], [list(r) for r in rows])


def summary(plan) -> list[tuple]:
    return [(r.line, r.assignment_id, r.action, r.feedback, r.override) for r in plan.rows]


def plan_for(batch: Batch, data: bytes, **kwargs):
    kwargs.setdefault("now", batch.now())
    return parse_decisions_csv(account=batch.account, data=data, **kwargs)


def test_round_trip_marked_export_is_planned_exactly(batch):
    _, header, rows = export(batch.queryset())
    marks = {
        batch.plain_formula: ("", "You pasted a formula instead of an answer."),
        batch.plain: ("X", ""),
        batch.crowd: ("x", ""),
        # batch.multi stays unmarked
    }
    for row in rows:
        row["Approve"], row["Reject"] = marks.get(row["AssignmentId"], ("", ""))
    data = csv_bytes(header, [[row[c] for c in header] for row in rows])
    line_of = {row["AssignmentId"]: n for n, row in enumerate(rows, start=2)}

    plan = plan_for(batch, data)

    assert plan.ok and plan.errors == []
    expected = [
        (
            line_of[batch.plain_formula],
            batch.plain_formula,
            "reject",
            marks[batch.plain_formula][1],
        ),
        (line_of[batch.plain], batch.plain, "approve", ""),
        (line_of[batch.crowd], batch.crowd, "approve", ""),
    ]
    assert sorted(summary(plan)) == sorted((*e, False) for e in expected)
    assert (plan.matched, plan.to_approve, plan.to_reject, plan.unmarked) == (4, 2, 1, 1)
    assert plan.total_cost == 2 * COST_PER_APPROVAL
    assert all(
        r.assignment_pk == batch.row(r.assignment_id).pk and r.cost == COST_PER_APPROVAL
        for r in plan.rows
        if r.action == "approve"
    )
    assert plan.already_decided == plan.unknown_ids == plan.conflicts == []
    assert plan.duplicates == plan.invalid == plan.too_late == []


def test_planning_changes_nothing(batch, fresh_emulator):
    def snapshot():
        return (
            sorted(Assignment.objects.values_list("assignment_id", "status", "requester_feedback")),
            HIT.objects.count(),
            Worker.objects.count(),
            HITType.objects.count(),
        )

    before = snapshot()
    calls_before = fresh_emulator.control.get("calls")["call_counts"]
    data = decisions(
        [(batch.plain, "X", ""), (batch.crowd, "", "Wrong label."), (batch.multi, "X", "")]
    )

    with CaptureQueriesContext(connection) as queries:
        plan = plan_for(batch, data)

    assert plan.to_approve == 2 and plan.to_reject == 1
    assert snapshot() == before
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert fresh_emulator.control.get("calls")["call_counts"] == calls_before


def test_already_decided_assignments_are_reported_not_planned(batch):
    batch.gateway.approve_assignment(assignment_id=batch.plain)
    batch.gateway.reject_assignment(assignment_id=batch.crowd, feedback="Incomplete.")
    run_sync(account=batch.account, kind="full")
    assert batch.row(batch.plain).status == "Approved"
    assert batch.row(batch.crowd).status == "Rejected"

    plan = plan_for(
        batch,
        decisions(
            [
                (batch.plain, "X", ""),  # approving an approved one: no-op
                (batch.crowd, "", "Still incomplete."),  # rejecting a rejected one: no-op
                (batch.plain_formula, "X", ""),
            ]
        ),
    )

    assert summary(plan) == [(4, batch.plain_formula, "approve", "", False)]
    assert [(i.line, i.assignment_id) for i in plan.already_decided] == [
        (2, batch.plain),
        (3, batch.crowd),
    ]
    assert "already approved" in plan.already_decided[0].message
    assert "already rejected" in plan.already_decided[1].message

    # An approval cannot be turned into a rejection.
    plan = plan_for(batch, decisions([(batch.plain, "", "Changed my mind.")]))
    assert plan.rows == [] and plan.already_decided[0].line == 2


def test_rejections_can_be_overridden_within_30_days_of_submission(batch):
    batch.gateway.reject_assignment(assignment_id=batch.plain, feedback="Too fast.")
    run_sync(account=batch.account, kind="full")
    submitted = batch.row(batch.plain).submit_time
    data = decisions([(batch.plain, "X", "")])

    inside = plan_for(batch, data, now=submitted + timedelta(days=30))
    outside = plan_for(batch, data, now=submitted + timedelta(days=30, seconds=1))

    assert inside.rows == [
        PlannedDecision(
            2,
            batch.plain,
            "approve",
            override=True,
            cost=COST_PER_APPROVAL,
            assignment_pk=batch.row(batch.plain).pk,
        )
    ]
    assert inside.to_approve == 1 and inside.total_cost == COST_PER_APPROVAL
    assert outside.rows == [] and outside.total_cost == 0
    assert [(i.line, i.assignment_id) for i in outside.too_late] == [(2, batch.plain)]
    assert java_date(submitted + timedelta(days=30)) in outside.too_late[0].message


def test_submitted_assignments_past_auto_approval_are_already_decided(batch):
    auto = batch.row(batch.plain).auto_approval_time
    assert auto is not None
    plan = plan_for(
        batch,
        decisions([(batch.plain, "", "Bad."), (batch.crowd, "X", "")]),
        now=auto + timedelta(seconds=1),
    )
    assert plan.rows == []
    assert [i.assignment_id for i in plan.already_decided] == [batch.plain, batch.crowd]


def test_unknown_ids_and_ids_of_another_account_are_never_planned(batch, second_account):
    from dashboard.mturk_access import gateway_for

    (other_hit,) = create_hits(gateway_for(second_account), 1, title="Other lab's HIT")
    theirs = work(batch.control, other_hit, "AWORKERFOR0004")
    assert run_sync(account=second_account, kind="full").ok
    assert Assignment.objects.filter(account=second_account, assignment_id=theirs).exists()
    assert not Assignment.objects.filter(account=batch.account, assignment_id=theirs).exists()
    made_up = "3NOSUCHASSIGNMENT00000000000"

    plan = plan_for(
        batch,
        decisions([(batch.plain, "X", ""), (theirs, "X", ""), (made_up, "", "Nope.")]),
    )

    assert plan.ok
    assert summary(plan) == [(2, batch.plain, "approve", "", False)]
    assert [(i.line, i.assignment_id) for i in plan.unknown_ids] == [(3, theirs), (4, made_up)]
    assert plan.matched == 1

    # A file of only another account's ids is refused as a whole.
    foreign = decisions([(theirs, "X", "")])
    refused = plan_for(batch, foreign)
    assert not refused.ok and refused.rows == []
    assert "another account" in refused.errors[0]


def test_a_file_of_another_account_is_planned_for_that_account(batch, second_account):
    from dashboard.mturk_access import gateway_for

    (other_hit,) = create_hits(gateway_for(second_account), 1, title="Other lab's HIT")
    theirs = work(batch.control, other_hit, "AWORKERFOR0004")
    assert run_sync(account=second_account, kind="full").ok
    data = decisions([(theirs, "X", "")])

    assert not parse_decisions_csv(account=batch.account, data=data, now=batch.now()).ok
    plan = parse_decisions_csv(account=second_account, data=data, now=batch.now())
    assert plan.ok and summary(plan) == [(2, theirs, "approve", "", False)]


def test_conflicting_marks_are_not_planned(batch):
    plan = plan_for(
        batch,
        decisions([(batch.plain, "X", "Bad answer."), (batch.crowd, "X", "")]),
    )
    assert summary(plan) == [(3, batch.crowd, "approve", "", False)]
    assert [(i.line, i.assignment_id) for i in plan.conflicts] == [(2, batch.plain)]
    assert "both Approve and Reject" in plan.conflicts[0].message


def test_duplicate_rows_same_marks_act_once_different_marks_act_never(batch):
    plan = plan_for(
        batch,
        decisions(
            [
                (batch.plain, "X", ""),
                (batch.crowd, "", "Wrong."),
                (batch.plain, "x", ""),  # same mark (x and X both approve)
                (batch.crowd, "X", ""),  # different mark: conflict
                (batch.multi, "", "Too short."),
                (batch.multi, "", ""),  # marked once, blank once: conflict too
            ]
        ),
    )

    assert summary(plan) == [(2, batch.plain, "approve", "", False)]
    assert [(i.assignment_id, i.lines) for i in plan.duplicates] == [(batch.plain, (2, 4))]
    assert [(i.assignment_id, i.lines) for i in plan.conflicts] == [
        (batch.crowd, (3, 5)),
        (batch.multi, (6, 7)),
    ]
    assert plan.to_approve == 1 and plan.to_reject == 0


def test_invalid_marks_are_reported_with_their_lines(batch):
    reason_1024 = "r" * 1024
    plan = plan_for(
        batch,
        decisions(
            [
                (batch.plain, "yes", ""),
                (batch.crowd, "", "x"),
                (batch.multi, "", "r" * 1025),
                (batch.plain_formula, "", reason_1024),
                ("not-an-id", "X", ""),
                ("", "X", ""),
            ]
        ),
    )

    assert summary(plan) == [(5, batch.plain_formula, "reject", reason_1024, False)]
    invalid = {i.line: i for i in plan.invalid}
    assert sorted(invalid) == [2, 3, 4, 6, 7]
    assert "Approve must be" in invalid[2].message
    assert "requires a reason" in invalid[3].message
    assert "1025" in invalid[4].message and "1024" in invalid[4].message
    assert "not an MTurk assignment id" in invalid[6].message
    assert "no AssignmentId" in invalid[7].message


def test_reasons_mturk_would_refuse_are_invalid(batch):
    plan = plan_for(
        batch,
        decisions(
            [
                (batch.plain, "", "bad\x07bell"),
                (batch.crowd, "", "=HYPERLINK(1)"),
                # Tabs and line breaks are allowed in RequesterFeedback; surrounding space is trimmed.
                (batch.multi, "", "  Line one.\nLine\ttwo.  "),
                # An emoji is two UTF-16 units for MTurk's 1,024 limit.
                (batch.plain_formula, "", "\U0001f600" * 513),
            ]
        ),
    )
    assert summary(plan) == [(4, batch.multi, "reject", "Line one.\nLine\ttwo.", False)]
    assert [i.line for i in plan.invalid] == [2, 3, 6]
    assert "control characters" in plan.invalid[0].message
    assert "formula" in plan.invalid[1].message


def test_lines_are_where_each_record_starts_and_extra_columns_are_ignored(batch):
    data = csv_bytes(
        ["HITId", "AssignmentId", "Answer.comment", "Approve", "Reject", "Notes"],
        [
            ["H", batch.plain, "two\nlines", "X", "", "n"],
            ["H", batch.crowd, "one", "", "Wrong\nlabel.", "n"],
            ["H", batch.multi, "one", "X", "", "n"],
        ],
    )
    plan = plan_for(batch, data)
    assert summary(plan) == [
        (2, batch.plain, "approve", "", False),
        (4, batch.crowd, "reject", "Wrong\nlabel.", False),
        (6, batch.multi, "approve", "", False),
    ]


def test_utf8_with_bom_and_columns_in_any_order_are_accepted(batch):
    data = csv_bytes(
        ["Reject", "AssignmentId", "Approve"],
        [["Réponse hors sujet.", batch.plain, ""], ["", batch.crowd, "X"]],
        bom=True,
    )
    plan = plan_for(batch, data)
    assert plan.ok
    assert summary(plan) == [
        (2, batch.plain, "reject", "Réponse hors sujet.", False),
        (3, batch.crowd, "approve", "", False),
    ]


@pytest.mark.parametrize(
    ("data", "kwargs", "expected"),
    [
        pytest.param(b"", {}, "empty", id="empty"),
        pytest.param(b"\r\n \r\n", {}, "empty", id="blank-lines"),
        pytest.param(b'"AssignmentId","Approve","Reject"\r\n', {}, "no rows", id="header-only"),
        pytest.param(
            b'"AssignmentId","Approve"\r\n"3ABC","X"\r\n', {}, "Reject is missing", id="no-reject"
        ),
        pytest.param(
            b"HITId,WorkerId\r\nH,W\r\n",
            {},
            "AssignmentId, Approve, Reject are missing",
            id="not-results",
        ),
        pytest.param(
            b"AssignmentId;Approve;Reject\r\n3ABC;X;\r\n", {}, "comma delimited", id="semicolons"
        ),
        pytest.param(
            b"AssignmentId,Approve,Reject,Approve\r\n3ABC,X,,\r\n",
            {},
            "more than once",
            id="duplicate-column",
        ),
        pytest.param(
            "AssignmentId,Approve,Reject\r\n3ABC,,Réponse fausse\r\n".encode("latin-1"),
            {},
            "not UTF-8",
            id="latin-1",
        ),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", {}, "not UTF-8", id="binary"),
        pytest.param(b"AssignmentId,Approve,Reject\r\n3ABC\x00,X,\r\n", {}, "NUL", id="nul-bytes"),
        pytest.param(
            b'AssignmentId,Approve,Reject\r\n3ABC,X,"unclosed\r\n',
            {},
            "not valid CSV",
            id="unbalanced-quote",
        ),
        pytest.param(
            b"AssignmentId,Approve,Reject\r\n3ABC,X,\r\n" + b"3ABD,X,\r\n" * 200,
            {"max_bytes": 1000},
            "the limit is 1,000 bytes",
            id="oversize",
        ),
        pytest.param(
            b"AssignmentId,Approve,Reject\r\n" + b"3ABC,X,\r\n" * 6,
            {"max_rows": 5},
            "more than 5 rows",
            id="too-many-rows",
        ),
    ],
)
def test_bad_files_are_refused_with_a_clear_report(batch, data, kwargs, expected):
    plan = plan_for(batch, data, **kwargs)
    assert not plan.ok and plan.rows == []
    assert len(plan.errors) == 1 and expected in plan.errors[0], plan.errors
    assert plan.to_approve == plan.to_reject == 0 and plan.total_cost == 0


def test_a_huge_cell_is_refused_not_read(batch):
    data = b"AssignmentId,Approve,Reject,Answer.essay\r\n3ABC,X,," + b"a" * 200_000 + b"\r\n"
    plan = plan_for(batch, data)
    assert not plan.ok and "not valid CSV" in plan.errors[0]


def test_scope_limits_which_assignments_a_file_may_touch(batch):
    scope = Assignment.objects.filter(hit__hit_id=batch.hit_ids[0])
    plan = plan_for(batch, decisions([(batch.plain, "X", ""), (batch.crowd, "X", "")]), scope=scope)
    assert summary(plan) == [(2, batch.plain, "approve", "", False)]
    assert [i.assignment_id for i in plan.unknown_ids] == [batch.crowd]


def test_a_rejection_on_a_deleted_hit_cannot_be_overridden(batch):
    h0 = batch.hit_ids[0]
    for assignment_id in (batch.plain, batch.plain_formula):
        batch.gateway.reject_assignment(assignment_id=assignment_id, feedback="Too fast.")
    run_sync(account=batch.account, kind="full")
    # MTurk's idiom to end a HIT early: expire it, then delete it once it is Reviewable.
    batch.gateway.update_expiration(hit_id=h0, expire_at=datetime(2020, 1, 1, tzinfo=UTC))
    batch.gateway.delete_hit(hit_id=h0)
    run_sync(account=batch.account, kind="full")
    assert HIT.objects.get(hit_id=h0).disposed_at is not None
    submitted = batch.row(batch.plain).submit_time

    plan = plan_for(batch, decisions([(batch.plain, "X", "")]), now=submitted + timedelta(days=1))

    assert plan.rows == []
    assert [(i.line, i.assignment_id) for i in plan.too_late] == [(2, batch.plain)]
    assert "deleted" in plan.too_late[0].message
