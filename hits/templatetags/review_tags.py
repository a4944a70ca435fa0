"""Small display filters for the review pages (answers are shown as text, always escaped)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def join_list(value: Any) -> str:
    """A list answer (checkbox group, multi-select) as one line of text."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


@register.filter
def duration(seconds: Any) -> str:
    """Seconds as '45 s', '3 min 20 s' or '2 h 05 min'."""
    if seconds is None or seconds == "":
        return ""
    seconds = int(round(float(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


@register.filter
def percent(value: Any) -> str:
    return "" if value is None else f"{float(value) * 100:.0f}%"
