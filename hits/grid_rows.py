"""The rows of the review grid: fetched as plain values and rendered in Python.

A page of the grid can hold 500 rows of a dozen cells. Through model instances (three per row, with
`select_related`) and the template engine each row cost about half a millisecond, more than the
whole page's budget at that size. So the page's rows come from one `values_list` query into small
`GridRow` records, and their markup is built here with the standard library's `html.escape` (the
same function Django's `escape` calls; every value is escaped: answers are untrusted). The decision
cell is kept in step with templates/hits/includes/decision_cell.html, which renders the cell on its
own (after a decision, and while one is on its way to MTurk).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from hits.enums import AssignmentStatus, DecisionAction
from hits.file_uploads import is_uploaded_file
from hits.models import Assignment, Decision
from hits.templatetags.review_tags import duration, join_list
from mturk.review_policies import assignment_outcome

MUTED_DASH = '<span class="muted">—</span>'

# The columns one grid row needs, in GridRow's field order.
ROW_VALUES = (
    "pk",
    "assignment_id",
    "status",
    "answers",
    "submit_time",
    "work_time_seconds",
    "worker__worker_id",
    "hit__hit_id",
    "hit__layout_parameters",
    "hit__inputs",
    "hit__review_policy_results",
)


@dataclass(slots=True)
class GridRow:
    pk: int
    assignment_id: str
    status: str
    answers: dict[str, Any]
    submit_time: datetime | None
    work_time_seconds: int | None
    worker_id: str
    hit_id: str
    layout_parameters: dict[str, Any] | None
    # The row of inputs a HIT published from the dashboard was made from (HIT.inputs).
    inputs: dict[str, Any] | None
    # The HIT's review-policy results (HIT.review_policy_results): None without policies.
    review_policy_results: dict[str, Any] | None
    # The action of a decision on its way to MTurk ("approve", "reject", "override"), if any.
    open_action: str | None = None


def row_values(assignments: QuerySet[Assignment]) -> QuerySet:
    """The filtered assignments as tuples for `GridRow` (paginate this, then `grid_rows`).

    The decision in flight comes with each row from a subquery: an assignment has at most one
    open decision (a partial unique constraint), found through that constraint's index."""
    in_flight = Decision.objects.open().filter(assignment=OuterRef("pk")).values("action")[:1]
    return assignments.annotate(open_action=Subquery(in_flight)).values_list(
        *ROW_VALUES, "open_action"
    )


def grid_rows(values: Iterable[tuple]) -> list[GridRow]:
    """One page of `row_values` as rows."""
    return [GridRow(*row) for row in values]


def _decision_cell(
    row: GridRow, *, can_review: bool, assignment_base: str, hit_link: str, csrf_token: str
) -> str:
    aid = _text(row.assignment_id)
    base = f"{assignment_base}{aid}"
    status = escape(row.status)
    polling = (
        f' hx-get="{base}/decision/" hx-trigger="every 1s" hx-swap="outerHTML"'
        if row.open_action
        else ""
    )
    parts = [
        f'<div class="decision-cell" id="decision-{aid}"{polling}>',
        f'<span class="status status-{status.lower()}">{status}</span>',
    ]
    if row.open_action:
        doing = "Rejecting…" if row.open_action == DecisionAction.REJECT else "Approving…"
        parts.append(f'<span class="state state-running">{doing}</span>')
    elif can_review and row.status == AssignmentStatus.SUBMITTED:
        parts.append(
            f'<form method="post" action="{base}/decide/" class="inline-form" hx-post="{base}/decide/" hx-target="#decision-{aid}" hx-swap="outerHTML">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}"><input type="hidden" name="action" value="approve">'
            '<button type="submit" class="button small approve" data-shortcut="approve">Approve</button></form>'
            f'<a class="button small reject" data-shortcut="reject" href="{hit_link}" '
            f'hx-get="{base}/decision/?reject=1" hx-target="#decision-{aid}" hx-swap="outerHTML">Reject…</a>'
        )
    elif can_review and row.status == AssignmentStatus.REJECTED:
        parts.append(
            f'<a class="button small" href="{hit_link}" hx-get="{base}/decision/" '
            f'hx-target="#decision-{aid}" hx-swap="outerHTML">Undo…</a>'
        )
    parts.append("</div>")
    return "".join(parts)


def _download_form(action: str, *, question: str, csrf_token: str) -> str:
    # Kept in step with templates/hits/includes/file_download.html: a POST, so the short-lived
    # URL is asked of MTurk when the button is clicked (hits.file_views).
    return (
        f'<form method="post" action="{action}" class="inline-form file-download">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">'
        f'<input type="hidden" name="question" value="{escape(question)}">'
        '<button type="submit" class="button small">Download</button></form>'
    )


def _text(value: str) -> str:
    # Ids from MTurk are letters and digits: nothing to escape, and 500 rows hold 2,000 of them.
    return value if value.isalnum() else escape(value)


def _submitted(moment: datetime | None, zone: tzinfo) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    shown = (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
    )
    return f'<time datetime="{moment.isoformat()}">{shown}</time>'


# How a policy's action on an assignment is shown (ActionName -> past tense).
_DONE = {"approve": "approved", "reject": "rejected"}


def _policy_cell(row: GridRow) -> str:
    """The policies' scores of the assignment and what they did to it (mturk.review_policies)."""
    if row.review_policy_results is None:
        return MUTED_DASH
    outcome = assignment_outcome(row.review_policy_results, row.assignment_id)
    if not outcome:
        return '<span class="muted">pending</span>'
    parts = []
    if outcome.known_answer_score is not None:
        parts.append(f"known answers {escape(outcome.known_answer_score)}%")
    if outcome.agreement_score is not None:
        parts.append(f"agreement {escape(outcome.agreement_score)}%")
    for name, status in outcome.actions:
        done = escape(_DONE.get(name, name))
        parts.append(
            f'<span class="policy-action">{done}</span>'
            if status == "Succeeded"
            else f'<span class="field-error">{done}: {escape(status.lower())}</span>'
        )
    return "<br>".join(parts)


def _badge(status: str | None) -> str:
    # "blocked" or "soft-blocked" (hits.queries.block_badges): fixed words, safe as they are.
    return f' <span class="badge badge-{status}">{status}</span>' if status else ""


def render_grid_rows(
    rows: Sequence[GridRow],
    *,
    columns: Sequence[str],
    disagreeing: dict[int, list[str]],
    can_review: bool,
    worker_link: str,
    worker_base: str,
    hit_base: str,
    assignment_base: str,
    csrf_token: str,
    badges: Mapping[str, str] | None = None,
    bonus_link: tuple[str, str] | None = None,
    policy_column: bool = False,
    can_download: bool = False,
) -> SafeString:
    """The `<tr>`s of the grid: selection box, worker, HIT (with its input parameters), one cell
    per chosen answer column, submit time, work time and the decision cell. The worker's id links
    to their page (`worker_base` + id + "/"), and a "rows" link beside it filters the grid to them
    (`worker_link` + id). With `bonus_link` (the bonus page's URL split around the assignment
    id), each row offers "Bonus…". With `policy_column`, a cell after the answers shows the review
    policies' scores and actions for the assignment. With `can_download`, a worker's uploaded file
    (FileUploadAnswer) is offered as a download in its cell."""
    hit_base, assignment_base, csrf_token, worker_link, worker_base = (
        escape(hit_base),
        escape(assignment_base),
        escape(csrf_token),
        escape(worker_link),
        escape(worker_base),
    )
    zone = timezone.get_current_timezone()  # what the date filter would show, read once
    out = []
    for row in rows:
        aid = _text(row.assignment_id)
        hit_id = _text(row.hit_id)
        hit_link = f"{hit_base}{hit_id}/#a-{aid}"
        cells = []
        if can_review:
            disabled = "" if row.status == AssignmentStatus.SUBMITTED else " disabled"
            # The table is in no form (each row has its own decision forms): the box belongs to
            # the bulk form below the table by its form attribute.
            cells.append(
                f'<td><input type="checkbox" name="selected" value="{aid}" form="bulk-form" aria-label="Select {aid}"{disabled}></td>'
            )
        worker = _text(row.worker_id)
        cells.append(
            f'<td><a href="{worker_base}{worker}/"><code>{worker}</code></a>{_badge((badges or {}).get(row.worker_id))} '
            f'<a href="{worker_link}{worker}" hx-get="{worker_link}{worker}" hx-target="#grid" hx-swap="outerHTML" hx-push-url="true" class="muted" title="Only this worker\'s rows">rows</a></td>'
        )
        inputs = "".join(
            f'<span class="kv">{escape(str(key))}={escape(str(value)[:40])}</span> '
            for key, value in (row.inputs or row.layout_parameters or {}).items()
        )
        short = hit_id if len(row.hit_id) <= 14 else escape(row.hit_id[:13]) + "…"
        cells.append(
            f'<td><a href="{hit_link}"><code>{short}</code></a>{"<br>" + inputs if inputs else ""}</td>'
        )
        answers = row.answers or {}
        for column in columns:
            value = answers.get(column)
            shown = MUTED_DASH if value is None else escape(join_list(value))
            if can_download and is_uploaded_file(value):
                shown += _download_form(
                    f"{assignment_base}{aid}/file/", question=column, csrf_token=csrf_token
                )
            cells.append(f'<td class="answer">{shown}</td>')
        if policy_column:
            cells.append(f'<td class="review-policy">{_policy_cell(row)}</td>')
        cells.append(f"<td>{_submitted(row.submit_time, zone)}</td>")
        work = row.work_time_seconds
        cells.append(f"<td>{duration(work) if work is not None else ''}</td>")
        decision = _decision_cell(
            row,
            can_review=can_review,
            assignment_base=assignment_base,
            hit_link=hit_link,
            csrf_token=csrf_token,
        )
        bonus = (
            f' <a class="muted" href="{escape(bonus_link[0])}{aid}{escape(bonus_link[1])}">Bonus…</a>'
            if bonus_link
            else ""
        )
        cells.append(f"<td>{decision}{bonus}</td>")
        row_class = "review-row disagrees" if row.pk in disagreeing else "review-row"
        out.append(
            f'<tr id="a-{aid}" class="{row_class}" tabindex="-1" data-preview="{hit_link}">{"".join(cells)}</tr>'
        )
    return mark_safe("\n".join(out))
