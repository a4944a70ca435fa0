"""Small server-side SVG charts for the study page (no JavaScript, no CDN).

Every label is escaped; numbers are formatted by us. The functions return SafeString SVG.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 560, 160, 28


def _frame(title: str, body: str, *, height: int = HEIGHT) -> SafeString:
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _bars(
    values: Sequence[float], labels: Sequence[str], *, title: str, unit: str = ""
) -> SafeString:
    if not values or max(values) <= 0:
        return _frame(
            title,
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="chart-empty">No data yet</text>',
        )
    top = max(values)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / len(values)
    parts = [
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="chart-axis"/>'
    ]
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = inner_h * value / top
        x = PAD + i * step + step * 0.1
        parts.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{step * 0.8:.1f}" height="{h:.1f}" class="chart-bar">'
            f"<title>{escape(label)}: {value:g}{escape(unit)}</title></rect>"
        )
    # First and last labels only: enough to read the axis without clutter.
    parts.append(f'<text x="{PAD}" y="{HEIGHT - 8}" class="chart-label">{escape(labels[0])}</text>')
    parts.append(
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" text-anchor="end" class="chart-label">{escape(labels[-1])}</text>'
    )
    parts.append(
        f'<text x="{PAD}" y="{PAD - 8}" class="chart-label">max {top:g}{escape(unit)}</text>'
    )
    return _frame(title, "".join(parts))


def submissions_over_time(times: Sequence[dt.datetime], *, buckets: int = 24) -> SafeString:
    """Submissions per time bucket, from the first to the last submission."""
    title = "Submissions over time"
    if not times:
        return _bars([], [], title=title)
    start, end = min(times), max(times)
    span = max((end - start).total_seconds(), 1.0)
    counts = Counter(
        min(buckets - 1, int((t - start).total_seconds() / span * buckets)) for t in times
    )
    labels = [
        (start + dt.timedelta(seconds=span * i / buckets)).strftime("%m-%d %H:%M")
        for i in range(buckets)
    ]
    return _bars([counts.get(i, 0) for i in range(buckets)], labels, title=title)


def work_time_distribution(seconds: Sequence[int], *, buckets: int = 20) -> SafeString:
    """How long workers took (a histogram up to the 95th percentile, the rest in the last bar)."""
    title = "Work time distribution"
    if not seconds:
        return _bars([], [], title=title)
    ordered = sorted(seconds)
    high = max(ordered[int(0.95 * (len(ordered) - 1))], 1)
    width = max(high / buckets, 1)
    counts = Counter(min(buckets - 1, int(s / width)) for s in ordered)
    labels = [f"{int(i * width)}–{int((i + 1) * width)} s" for i in range(buckets)]
    return _bars([counts.get(i, 0) for i in range(buckets)], labels, title=title)


def agreement_per_field(shares: dict[str, float]) -> SafeString:
    """Horizontal bars: the mean share of workers agreeing with the majority, per answer field."""
    title = "Agreement with the majority, per field"
    if not shares:
        return _frame(
            title,
            f'<text x="{WIDTH / 2}" y="40" text-anchor="middle" class="chart-empty">Needs HITs with two or more answers</text>',
            height=60,
        )
    row, label_w = 22, 170
    height = PAD + row * len(shares)
    parts = []
    for i, (name, share) in enumerate(sorted(shares.items())):
        y = PAD / 2 + i * row
        w = (WIDTH - label_w - PAD) * share
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end" class="chart-label">{escape(name[:28])}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" class="chart-bar"><title>{escape(name)}: {share:.0%}</title></rect>'
        )
        parts.append(
            f'<text x="{label_w + w + 6:.1f}" y="{y + 14}" class="chart-label">{share:.0%}</text>'
        )
    return _frame(title, "".join(parts), height=height)
