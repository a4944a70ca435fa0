"""Documented limits the botocore model does not carry (lengths, ranges, XML)."""

from __future__ import annotations

from typing import Any, Literal, overload

from emulator import answering
from emulator.protocol import invalid_param

MAX_QUESTION_BYTES = 65535
YEAR = 31_536_000
MONTH = 2_592_000


@overload
def text(params: dict[str, Any], name: str, maximum: int, *, required: Literal[True]) -> str: ...
@overload
def text(
    params: dict[str, Any], name: str, maximum: int, *, required: bool = False
) -> str | None: ...
def text(params: dict[str, Any], name: str, maximum: int, *, required: bool = False) -> str | None:
    """The string parameter ``name`` (None if absent, unless ``required``), length-checked."""
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


@overload
def integer(params: dict[str, Any], name: str, low: int, high: int, default: int) -> int: ...
@overload
def integer(
    params: dict[str, Any], name: str, low: int, high: int, *, required: Literal[True]
) -> int: ...
@overload
def integer(
    params: dict[str, Any], name: str, low: int, high: int, default: None = None
) -> int | None: ...
def integer(
    params: dict[str, Any],
    name: str,
    low: int,
    high: int,
    default: int | None = None,
    *,
    required: bool = False,
) -> int | None:
    """The integer parameter ``name`` within [low, high], or ``default`` if absent (an error if
    ``required``: the model's required members, for callers that bypass validate_input)."""
    value = params.get(name)
    if value is None:
        if required:
            raise invalid_param(f"{name} is required.")
        return default
    if not low <= value <= high:
        raise invalid_param(f"{name} must be between {low} and {high}; got {value}.")
    return value


def question(xml: str) -> str:
    if len(xml.encode("utf-8")) > MAX_QUESTION_BYTES:
        raise invalid_param(f"Question must not be longer than {MAX_QUESTION_BYTES} bytes.")
    try:
        return answering.validate_question(xml)
    except ValueError as exc:
        raise invalid_param(f"The Question is not valid: {exc}") from None
