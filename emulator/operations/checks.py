"""Documented limits the botocore model does not carry (lengths, ranges, XML)."""

from __future__ import annotations

from typing import Any

import defusedxml.ElementTree as SafeET

from emulator.protocol import invalid_param

MAX_QUESTION_BYTES = 65535
YEAR = 31_536_000
MONTH = 2_592_000


def text(params: dict[str, Any], name: str, maximum: int, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise invalid_param(f"{name} is required.")
        return None
    if required and not value.strip():
        raise invalid_param(f"{name} must not be empty.")
    if len(value) > maximum:
        raise invalid_param(f"{name} must not be longer than {maximum} characters.")
    return value


def integer(
    params: dict[str, Any], name: str, low: int, high: int, default: int | None = None
) -> int | None:
    value = params.get(name)
    if value is None:
        return default
    if not low <= value <= high:
        raise invalid_param(f"{name} must be between {low} and {high}; got {value}.")
    return value


def question(xml: str) -> str:
    if len(xml.encode("utf-8")) > MAX_QUESTION_BYTES:
        raise invalid_param(f"Question must not be longer than {MAX_QUESTION_BYTES} bytes.")
    try:
        from emulator import answering
    except ImportError:
        answering = None
    if answering is not None and hasattr(answering, "validate_question"):
        try:
            return answering.validate_question(xml)
        except ValueError as exc:
            raise invalid_param(f"The Question is not valid: {exc}") from None
    try:
        root = SafeET.fromstring(xml)
    except Exception as exc:
        raise invalid_param(f"The Question is not valid XML: {exc}") from None
    kind = root.tag.rsplit("}", 1)[-1]
    if kind not in ("QuestionForm", "HTMLQuestion", "ExternalQuestion"):
        raise invalid_param(
            "The Question must be a QuestionForm, HTMLQuestion or ExternalQuestion document."
        )
    return kind
