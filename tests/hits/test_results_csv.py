"""The batch results CSV round trip (hits.results_csv) on data built through the emulator: export in
the Requester website's format, JSON lines, streaming, and planning an uploaded decisions file."""

from __future__ import annotations

import csv
import inspect
import io
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.models import RequesterAccount
from hits import results_csv
from hits.models import HIT, Assignment, HITType
from hits.results_csv import (
    PlannedDecision,
    iter_results_csv,
    iter_results_jsonl,
    java_date,
    parse_decisions_csv,
)
from mirror.sync import run_sync
from tests.factories import RequesterAccountFactory
from tests.hits.test_sync import create_hits, work
from workers.models import Worker

pytestmark = pytest.mark.django_db

# Written out from reference/mturk-protocol.md §6 rather than imported, so a slip in the module's
# own list cannot hide here.
REFERENCE_HEADER = [
    "HITId",
    "HITTypeId",
    "Title",
    "Description",
    "Keywords",
    "Reward",
    "CreationTime",
    "MaxAssignments",
    "RequesterAnnotation",
    "AssignmentDurationInSeconds",
    "AutoApprovalDelayInSeconds",
    "Expiration",
    "NumberOfSimilarHITs",
    "LifetimeInSeconds",
    "AssignmentId",
    "WorkerId",
    "AssignmentStatus",
    "AcceptTime",
    "SubmitTime",
    "AutoApprovalTime",
    "ApprovalTime",
    "RejectionTime",
    "RequesterFeedback",
    "WorkTimeInSeconds",
    "LifetimeApprovalRate",
    "Last30DaysApprovalRate",
    "Last7DaysApprovalRate",
]
JAVA_DATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{2} \d{2}:\d{2}:\d{2} UTC \d{4}"
)
# Reward 0.25 on HITs with 3 assignments: MTurk's 20% fee is $0.05, so one approval costs $0.30.
COST_PER_APPROVAL = Decimal("0.30")
INJECTION = '=HYPERLINK("http://evil.example/","click")'


class Batch:
    """Three HITs worked by three workers through the emulator, mirrored by a full sync:
    a plain form (one answer is a formula), a crowd-form (nested names) and a multi-select."""

    def __init__(self, account: RequesterAccount, gateway, control) -> None:
        self.account = account
        self.gateway = gateway
        self.control = control
        self.hit_ids = create_hits(gateway, 3)
        h0, h1, h2 = self.hit_ids
        self.plain_formula = work(
            control, h0, "AWORKERONE0001", {"cat": "yes", "comment": INJECTION}
        )
        self.plain = work(control, h0, "AWORKERTWO0002", {"cat": "no", "comment": "plain"})
        crowd = [{"sentiment": {"label": "positive"}, "notes": "ok"}]
        self.crowd = work(control, h1, "AWORKERONE0001", {"taskAnswers": json.dumps(crowd)})
        self.multi = work(control, h2, "AWORKERTRE0003", {"colors": ["red", "blue"]})
        self.ids = [self.plain_formula, self.plain, self.crowd, self.multi]
        outcome = run_sync(account=account, kind="full")
        assert outcome.ok, outcome
        # GetHIT does not return HITLayoutParameters: the publishing service records a HIT's input
        # values when it creates the HIT. Stand in for it here.
        HIT.objects.filter(hit_id=h0).update(
            layout_parameters={"image_url": "https://img.example/1.jpg", "label": "cat"}
        )
        HIT.objects.filter(hit_id=h1).update(layout_parameters={"image_url": "https://x/2.jpg"})
        HIT.objects.filter(hit_id=h2).update(layout_parameters={"text": "-1 is negative"})

    def queryset(self):
        return Assignment.objects.filter(account=self.account).order_by("assignment_id")

    def row(self, assignment_id: str) -> Assignment:
        return Assignment.objects.select_related("hit").get(
            account=self.account, assignment_id=assignment_id
        )

    def now(self) -> datetime:
        """The emulator's clock (other tests may have moved it past the real time)."""
        return datetime.fromtimestamp(self.control.get("clock")["now"], tz=UTC)


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


def export(queryset) -> tuple[str, list[str], list[dict[str, str]]]:
    text = "".join(iter_results_csv(queryset))
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    return text, header, [dict(zip(header, cells, strict=True)) for cells in reader]


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


# --- export ----------------------------------------------------------------------------------------


def test_java_date_is_utc_in_javas_toString_style():
    pdt = datetime(2012, 6, 8, 9, 21, 50, tzinfo=UTC) + timedelta(hours=7)
    assert java_date(pdt) == "Fri Jun 08 16:21:50 UTC 2012"
    assert java_date(None) == ""


def test_csv_has_the_websites_columns_in_order_and_every_value_quoted(batch):
    text, header, rows = export(batch.queryset())

    assert header == [
        *REFERENCE_HEADER,
        "Input.image_url",
        "Input.label",
        "Input.text",
        "Answer.cat",
        "Answer.colors",
        "Answer.comment",
        "Answer.notes",
        "Answer.sentiment.label",
        "Approve",
        "Reject",
    ]
    assert text.startswith('"HITId","HITTypeId","Title",')
    # Re-writing the parsed cells with QUOTE_ALL gives the same text: every value was quoted.
    again = io.StringIO()
    writer = csv.writer(again, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([[row[c] for c in header] for row in rows])
    assert again.getvalue() == text
    assert [row["AssignmentId"] for row in rows] == sorted(batch.ids)


def test_csv_values_dates_inputs_and_answers(batch):
    _, _, rows = export(batch.queryset())
    by_id = {row["AssignmentId"]: row for row in rows}

    plain = by_id[batch.plain]
    mirror = batch.row(batch.plain)
    hit = mirror.hit
    assert plain["HITId"] == hit.hit_id
    assert plain["HITTypeId"] == HITType.objects.get(account=batch.account).hit_type_id
    assert plain["Title"] == "Is this a cat?"
    assert plain["Reward"] == "$0.25"
    assert plain["MaxAssignments"] == "3"
    assert plain["AssignmentDurationInSeconds"] == "600"
    assert plain["LifetimeInSeconds"] == "86400"
    assert plain["WorkerId"] == "AWORKERTWO0002"
    assert plain["AssignmentStatus"] == "Submitted"
    for column in ("CreationTime", "Expiration", "AcceptTime", "SubmitTime", "AutoApprovalTime"):
        assert JAVA_DATE.fullmatch(plain[column]), (column, plain[column])
    assert plain["SubmitTime"] == java_date(mirror.submit_time)
    assert plain["CreationTime"] == java_date(hit.created_at_mturk)
    assert plain["WorkTimeInSeconds"] == str(mirror.work_time_seconds)
    for column in (
        "ApprovalTime",
        "RejectionTime",
        "RequesterFeedback",
        "NumberOfSimilarHITs",
        "LifetimeApprovalRate",
        "Last30DaysApprovalRate",
        "Last7DaysApprovalRate",
        "Approve",
        "Reject",
    ):
        assert plain[column] == "", column
    assert (plain["Input.image_url"], plain["Input.label"], plain["Input.text"]) == (
        "https://img.example/1.jpg",
        "cat",
        "",
    )
    assert (plain["Answer.cat"], plain["Answer.comment"], plain["Answer.colors"]) == (
        "no",
        "plain",
        "",
    )

    crowd = by_id[batch.crowd]
    assert (crowd["Answer.sentiment.label"], crowd["Answer.notes"]) == ("positive", "ok")
    assert crowd["Answer.cat"] == ""
    # A multi-valued answer is joined with "|", as MTurk records a checkbox group.
    assert batch.row(batch.multi).answers["colors"] == ["red", "blue"]
    assert by_id[batch.multi]["Answer.colors"] == "red|blue"


def test_csv_cells_a_spreadsheet_would_execute_get_a_quote_prefix(batch):
    _, _, rows = export(batch.queryset())
    by_id = {row["AssignmentId"]: row for row in rows}

    assert batch.row(batch.plain_formula).answers["comment"] == INJECTION
    assert by_id[batch.plain_formula]["Answer.comment"] == "'" + INJECTION
    assert by_id[batch.multi]["Input.text"] == "'-1 is negative"
    for value in ("+1", "@SUM(A1)", "\tx", "\r=1"):
        assert results_csv.csv_safe(value) == "'" + value
    assert results_csv.csv_safe("fine = ok") == "fine = ok"


def test_jsonl_carries_the_same_information_exactly(batch):
    lines = "".join(iter_results_jsonl(batch.queryset())).splitlines()
    records = [json.loads(line) for line in lines]

    assert [r["AssignmentId"] for r in records] == sorted(batch.ids)
    by_id = {r["AssignmentId"]: r for r in records}
    for assignment_id in batch.ids:
        mirror = batch.row(assignment_id)
        record = by_id[assignment_id]
        assert record["Answer"] == mirror.answers
        assert record["Input"] == mirror.hit.layout_parameters
        assert datetime.fromisoformat(record["SubmitTime"]) == mirror.submit_time
        assert datetime.fromisoformat(record["CreationTime"]) == mirror.hit.created_at_mturk
        assert record["ApprovalTime"] is None
        assert record["Reward"] == "0.25"
        assert record["WorkerId"] == mirror.worker.worker_id
        assert record["LifetimeInSeconds"] == 86400
        assert set(REFERENCE_HEADER) <= set(record)
    # No spreadsheet prefix in JSON: values are exact.
    assert by_id[batch.plain_formula]["Answer"]["comment"] == INJECTION
    assert by_id[batch.multi]["Answer"]["colors"] == ["red", "blue"]


def test_export_streams_with_a_constant_number_of_queries(batch, monkeypatch):
    def queries_to_export() -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            chunks = list(iter_results_csv(batch.queryset()))
        return len(queries.captured_queries), chunks

    with CaptureQueriesContext(connection) as queries:
        generator = iter_results_csv(batch.queryset())
    assert inspect.isgenerator(generator) and queries.captured_queries == []
    assert inspect.isgenerator(iter_results_jsonl(batch.queryset()))

    few, chunks = queries_to_export()
    for hit_id in create_hits(batch.gateway, 4, title="More cats"):
        work(batch.control, hit_id, "AWORKERONE0001")
        work(batch.control, hit_id, "AWORKERTWO0002")
    run_sync(account=batch.account, kind="full")
    assert batch.queryset().count() == 12
    many, _ = queries_to_export()

    assert few == many == 2  # one pass for the column union, one streamed pass for the rows
    assert chunks[0].count("\r\n") == 1 and chunks[0].startswith('"HITId"')  # header alone
    # Rows are yielded in chunks as they are read, not collected first.
    monkeypatch.setattr(results_csv, "_ROWS_PER_CHUNK", 5)
    chunks = list(iter_results_csv(batch.queryset()))
    assert len(chunks) == 1 + 3  # header, 5 + 5 + 2 rows
    with CaptureQueriesContext(connection) as queries:
        lines = "".join(iter_results_jsonl(batch.queryset())).splitlines()
    assert len(lines) == 12 and len(queries.captured_queries) == 1


# --- upload planning ------------------------------------------------------------------------------


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
