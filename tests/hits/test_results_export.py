"""The batch results download (hits.results_export, with hits.results_format) on data built through
the emulator: the Requester website's columns and values, CSV injection, JSON lines, streaming."""

from __future__ import annotations

import csv
import inspect
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.models import RequesterAccount
from hits import results_export
from hits.models import HIT, Assignment, HITType
from hits.results_export import iter_results_csv, iter_results_jsonl
from hits.results_format import java_date
from mirror.sync import run_sync
from tests.hits.test_sync import create_hits, work

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


def export(queryset) -> tuple[str, list[str], list[dict[str, str]]]:
    text = "".join(iter_results_csv(queryset))
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    return text, header, [dict(zip(header, cells, strict=True)) for cells in reader]


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
        assert results_export.csv_safe(value) == "'" + value
    assert results_export.csv_safe("fine = ok") == "fine = ok"


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
    monkeypatch.setattr(results_export, "_ROWS_PER_CHUNK", 5)
    chunks = list(iter_results_csv(batch.queryset()))
    assert len(chunks) == 1 + 3  # header, 5 + 5 + 2 rows
    with CaptureQueriesContext(connection) as queries:
        lines = "".join(iter_results_jsonl(batch.queryset())).splitlines()
    assert len(lines) == 12 and len(queries.captured_queries) == 1
