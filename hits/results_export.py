"""The batch results download: a Requester website CSV and JSON lines, streamed.

Pure services: nothing here writes to the database or calls MTurk. Views stream the exports; the
user may fill in the CSV's Approve and Reject columns and upload it back (:mod:`hits.upload_plan`).

Format (reference/mturk-protocol.md §6, columns and dates from :mod:`hits.results_format`):

- Columns in the Requester website's order (:data:`~hits.results_format.BASE_COLUMNS`), then
  ``Input.<name>`` for the union of the HITs' input values (``HIT.inputs`` or ``HIT.layout_parameters``) and
  ``Answer.<field>`` for the union of the answer fields, each sorted by name, then ``Approve`` and
  ``Reject`` (left empty, for the user to fill in and upload back).
- Every value is double-quoted. Dates are Java ``Date.toString`` style in UTC
  (``Fri Jun 08 16:21:50 UTC 2012``). Rewards are written ``$0.25``, as the website shows them.
  An answer with several values (a list) is joined with ``|``, which is how MTurk itself records a
  checkbox group posted by a plain form.
- CSV injection: a spreadsheet opening the file *executes* a cell that starts with ``=``, ``+``,
  ``-`` or ``@`` (and tab / carriage return are used to smuggle those past naive checks). Worker
  answers, titles and input values are untrusted, so such cells get a leading ``'``, which
  spreadsheets read as "this is text". The cost is that a legitimate ``-5`` comes out as ``'-5``;
  the JSON lines export carries the exact values.
- ``NumberOfSimilarHITs`` and the three ApprovalRate columns are always empty: the API gives us
  neither (the rate format on the website is unverified anyway).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from hits.models import Assignment
from hits.results_format import BASE_COLUMNS, DECISION_COLUMNS, java_date

if TYPE_CHECKING:
    from django.db.models import QuerySet

__all__ = ["csv_safe", "iter_results_csv", "iter_results_jsonl"]

# Rows are buffered into chunks of about this many before being yielded: one yield per row would
# make the streaming response do thousands of tiny writes.
_ROWS_PER_CHUNK = 500
# Both passes over the queryset fetch this many rows at a time (server-side cursor on PostgreSQL).
_ITERATOR_CHUNK = 2000

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would treat it as a formula (it starts with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return); otherwise unchanged."""
    if value.startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _inputs(layout_parameters: Any) -> dict[str, str]:
    """The HIT's input values as name -> text. Stored as a dict; the API's own shape (a list of
    ``{"Name", "Value"}``) is accepted too so a row written either way exports the same."""
    if isinstance(layout_parameters, dict):
        items: Iterable[tuple[Any, Any]] = layout_parameters.items()
    elif isinstance(layout_parameters, list):
        items = (
            (p.get("Name"), p.get("Value"))
            for p in layout_parameters
            if isinstance(p, dict) and p.get("Name") is not None
        )
    else:
        return {}
    return {str(k): _text(v) for k, v in items}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return "|".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    return json.dumps(value, sort_keys=True)


def _column_union(assignments: QuerySet[Assignment]) -> tuple[list[str], list[str]]:
    """One pass over (answers, inputs) of every row: the sorted input names and answer fields."""
    input_names: set[str] = set()
    answer_names: set[str] = set()
    rows = assignments.values_list("answers", "hit__inputs", "hit__layout_parameters")
    if not assignments.query.is_sliced:
        rows = rows.order_by()  # the union does not depend on order; skip the sort
    for answers, inputs, layout_parameters in rows.iterator(chunk_size=_ITERATOR_CHUNK):
        if isinstance(answers, dict):
            answer_names.update(answers)
        input_names.update(_inputs(inputs or layout_parameters))
    return sorted(input_names), sorted(answer_names)


# Where each exported value comes from: one flat values_list() row per assignment, joined to its
# HIT, HIT type and worker. Flat tuples rather than model instances: building four model objects per
# row was a quarter of the export's time, and answer_xml / the question document are never read.
_SOURCES: tuple[tuple[str, str], ...] = (
    ("HITId", "hit__hit_id"),
    ("HITTypeId", "hit_type__hit_type_id"),
    ("Title", "hit__title"),
    ("Description", "hit__description"),
    ("Keywords", "hit__keywords"),
    ("Reward", "hit__reward"),
    ("CreationTime", "hit__created_at_mturk"),
    ("MaxAssignments", "hit__max_assignments"),
    ("RequesterAnnotation", "hit__annotation"),
    ("AssignmentDurationInSeconds", "hit__assignment_duration_seconds"),
    ("AutoApprovalDelayInSeconds", "hit__auto_approval_delay_seconds"),
    ("Expiration", "hit__expires_at"),
    ("AssignmentId", "assignment_id"),
    ("WorkerId", "worker__worker_id"),
    ("AssignmentStatus", "status"),
    ("AcceptTime", "accept_time"),
    ("SubmitTime", "submit_time"),
    ("AutoApprovalTime", "auto_approval_time"),
    ("ApprovalTime", "approval_time"),
    ("RejectionTime", "rejection_time"),
    ("RequesterFeedback", "requester_feedback"),
    ("WorkTimeInSeconds", "work_time_seconds"),
    ("Input", "hit__layout_parameters"),
    ("PublishedInputs", "hit__inputs"),
    ("Answer", "answers"),
)
_SOURCE_KEYS = tuple(key for key, _ in _SOURCES)
# HITId .. LifetimeInSeconds describe the HIT, the rest the assignment.
_HIT_COLUMNS = BASE_COLUMNS[: BASE_COLUMNS.index("AssignmentId")]
_ASSIGNMENT_COLUMNS = BASE_COLUMNS[len(_HIT_COLUMNS) :]


def _records(assignments: QuerySet[Assignment]) -> Iterator[dict[str, Any]]:
    """Every exported value of each assignment, keyed by CSV column name plus ``Input`` (name ->
    text) and ``Answer`` (as stored); None where MTurk's value is unknown. One streamed query."""
    rows = assignments.values_list(*(lookup for _, lookup in _SOURCES))
    for values in rows.iterator(chunk_size=_ITERATOR_CHUNK):
        record = dict(zip(_SOURCE_KEYS, values, strict=True))
        created, expires = record["CreationTime"], record["Expiration"]
        record["LifetimeInSeconds"] = (
            int((expires - created).total_seconds()) if created and expires else None
        )
        for column in (
            "NumberOfSimilarHITs",
            "LifetimeApprovalRate",
            "Last30DaysApprovalRate",
            "Last7DaysApprovalRate",
        ):
            record[column] = None
        # A HIT published from the dashboard keeps the row it was made from (HIT.inputs).
        record["Input"] = _inputs(record.pop("PublishedInputs") or record["Input"])
        if not isinstance(record["Answer"], dict):
            record["Answer"] = {}
        yield record


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return java_date(value)
    if isinstance(value, Decimal):
        return f"${value:.2f}"
    return csv_safe(_text(value))


class _Chunker:
    """A csv.writer over a reusable buffer; ``take()`` returns what was written since last time."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        # QUOTE_ALL: the website quotes every value; \r\n is RFC 4180's line break.
        self.writer = csv.writer(self.buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate(0)
        return text


def iter_results_csv(assignments: QuerySet[Assignment]) -> Iterator[str]:
    """Yield the batch results CSV of ``assignments`` as text chunks: the header line alone first,
    then rows in the queryset's order, several per chunk. For ``StreamingHttpResponse``.

    Two queries whatever the row count (one pass for the ``Input.*`` / ``Answer.*`` column union,
    one streamed pass with the HIT, HIT type and worker joined in), and memory independent of the
    row count. The queryset is not evaluated until the first chunk is requested. Callers scope it
    (account, HIT type, batch, filter): everything it yields is exported.
    """
    input_names, answer_names = _column_union(assignments)
    out = _Chunker()
    out.writer.writerow(
        [
            *BASE_COLUMNS,
            *(csv_safe(f"Input.{name}") for name in input_names),
            *(csv_safe(f"Answer.{name}") for name in answer_names),
            *DECISION_COLUMNS,
        ]
    )
    yield out.take()
    pending = 0
    hit_key: tuple[Any, ...] | None = None
    hit_cells: list[str] = []
    for record in _records(assignments):
        # Assignments of one HIT usually come together: format its columns (dates, the reward)
        # once per run of rows rather than once per row.
        key = tuple(record[column] for column in _HIT_COLUMNS)
        if key != hit_key:
            hit_key, hit_cells = key, [_csv_cell(value) for value in key]
        inputs, answers = record["Input"], record["Answer"]
        out.writer.writerow(
            [
                *hit_cells,
                *(_csv_cell(record[column]) for column in _ASSIGNMENT_COLUMNS),
                *(csv_safe(inputs.get(name, "")) for name in input_names),
                *(_csv_cell(answers.get(name)) for name in answer_names),
                "",  # Approve
                "",  # Reject
            ]
        )
        pending += 1
        if pending >= _ROWS_PER_CHUNK:
            yield out.take()
            pending = 0
    if pending:
        yield out.take()


def _json_line(obj: dict[str, Any]) -> str:
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    # JSON allows raw U+2028/U+2029 inside strings, but many line readers (Python's splitlines,
    # JavaScript before ES2019) treat them as line breaks: escape them so one record stays one line.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def iter_results_jsonl(assignments: QuerySet[Assignment]) -> Iterator[str]:
    """Yield one JSON object per assignment, one per line (``\\n``-terminated), several per chunk.

    Keys are the CSV's column names (without Approve / Reject) plus ``"Input"`` (name -> value) and
    ``"Answer"`` (field -> str or list of str, as stored). Times are ISO 8601 in UTC, ``Reward``
    is a decimal string (``"0.25"``), unknown values are null. Values are exact: no CSV-injection
    prefix, since JSON is not opened by spreadsheets. One query, flat memory.
    """
    chunk: list[str] = []
    for values in _records(assignments):
        record: dict[str, Any] = {}
        for key in (*BASE_COLUMNS, "Input", "Answer"):
            value = values[key]
            if isinstance(value, datetime):
                value = _iso(value)
            elif isinstance(value, Decimal):
                value = f"{value:.2f}"
            record[key] = value
        chunk.append(_json_line(record))
        if len(chunk) >= _ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)
