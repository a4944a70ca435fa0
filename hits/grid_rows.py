"""The rows of the review grid, rendered in Python.

A page of the grid can hold 500 rows of a dozen cells; through the template engine each row cost
about 0.6 ms, more than the whole page's budget at that size. This builds the same markup with
`format_html` (every value escaped: answers are untrusted) in a fraction of the time. The markup is
kept in step with templates/hits/includes/grid_decision_cell.html, which renders the cell on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.template.defaultfilters import date as format_date
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from hits.models import Assignment
from hits.templatetags.review_tags import duration, join_list

MUTED_DASH = '<span class="muted">—</span>'


def _decision_cell(
    a: Assignment, *, can_review: bool, assignment_base: str, hit_base: str, csrf_token: str
) -> str:
    aid = escape(a.assignment_id)
    base = f"{escape(assignment_base)}{aid}"
    attrs = (
        f' hx-get="{base}/decision/" hx-trigger="every 1s" hx-swap="outerHTML"'
        if a.open_decision
        else ""
    )
    parts = [
        f'<div class="decision-cell" id="decision-{aid}"{attrs}>',
        f'<span class="status status-{escape(a.status.lower())}">{escape(a.status)}</span>',
    ]
    if a.open_decision:
        parts.append(
            f'<span class="state state-running">{"Rejecting…" if a.open_decision.action == "reject" else "Approving…"}</span>'
        )
    elif can_review and a.status == "Submitted":
        parts.append(
            f'<form method="post" action="{base}/decide/" class="inline-form" hx-post="{base}/decide/" hx-target="#decision-{aid}" hx-swap="outerHTML">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}"><input type="hidden" name="action" value="approve">'
            '<button type="submit" class="button small approve" data-shortcut="approve">Approve</button></form>'
            f'<a class="button small reject" data-shortcut="reject" href="{escape(hit_base)}{escape(a.hit.hit_id)}/#a-{aid}" '
            f'hx-get="{base}/decision/?reject=1" hx-target="#decision-{aid}" hx-swap="outerHTML">Reject…</a>'
        )
    elif can_review and a.status == "Rejected":
        parts.append(
            f'<a class="button small" href="{escape(hit_base)}{escape(a.hit.hit_id)}/#a-{aid}" hx-get="{base}/decision/" '
            f'hx-target="#decision-{aid}" hx-swap="outerHTML">Undo…</a>'
        )
    parts.append("</div>")
    return "".join(parts)


def render_grid_rows(
    rows: Sequence[tuple[Assignment, list[Any], list[str]]],
    *,
    can_review: bool,
    hit_base: str,
    assignment_base: str,
    csrf_token: str,
) -> SafeString:
    out = []
    for a, values, differs in rows:
        aid = escape(a.assignment_id)
        hit_link = f"{escape(hit_base)}{escape(a.hit.hit_id)}/#a-{aid}"
        cells = []
        if can_review:
            disabled = "" if a.status == "Submitted" else " disabled"
            cells.append(
                f'<td><input type="checkbox" name="selected" value="{aid}" aria-label="Select {aid}"{disabled}></td>'
            )
        worker = escape(a.worker.worker_id)
        cells.append(
            f'<td><a href="?worker={worker}" hx-get="?worker={worker}" hx-target="#grid" hx-swap="outerHTML" hx-push-url="true"><code>{worker}</code></a></td>'
        )
        inputs = "".join(
            format_html('<span class="kv">{}={}</span> ', key, str(value)[:40])
            for key, value in (a.hit.layout_parameters or {}).items()
        )
        hit_id = a.hit.hit_id
        short = hit_id if len(hit_id) <= 14 else hit_id[:13] + "…"
        cells.append(
            f'<td><a href="{hit_link}"><code>{escape(short)}</code></a>{"<br>" + inputs if inputs else ""}</td>'
        )
        for value in values:
            cells.append(
                f'<td class="answer">{MUTED_DASH if value is None else escape(join_list(value))}</td>'
            )
        submitted = (
            f'<time datetime="{a.submit_time.isoformat()}">{escape(format_date(a.submit_time, "Y-m-d H:i"))}</time>'
            if a.submit_time
            else ""
        )
        cells.append(f"<td>{submitted}</td>")
        cells.append(
            f"<td>{escape(duration(a.work_time_seconds)) if a.work_time_seconds is not None else ''}</td>"
        )
        cells.append(
            "<td>"
            + _decision_cell(
                a,
                can_review=can_review,
                assignment_base=assignment_base,
                hit_base=hit_base,
                csrf_token=csrf_token,
            )
            + "</td>"
        )
        row_class = "review-row disagrees" if differs else "review-row"
        out.append(
            f'<tr id="a-{aid}" class="{row_class}" tabindex="-1" data-preview="{hit_link}">{"".join(cells)}</tr>'
        )
    return mark_safe("\n".join(out))
