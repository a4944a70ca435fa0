"""Input validation driven by botocore's own MTurk model (required members, types, ranges, enums).

The model is the authority on shapes; operation-specific rules (e.g. Question or HITLayoutId) live in
the operation modules. Clients that disable botocore's parameter validation still get MTurk's
RequestError from here.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.session
from botocore.model import ListShape, ServiceModel, Shape, StringShape, StructureShape

from emulator.protocol import invalid_param


@functools.cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("mturk")


@functools.cache
def operation_names() -> tuple[str, ...]:
    return tuple(service_model().operation_names)


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def validate_input(operation: str, params: Any) -> None:
    shape = service_model().operation_model(operation).input_shape
    if not isinstance(params, dict):
        raise invalid_param("The request body must be a JSON object.")
    if shape is not None:  # every MTurk operation has an input structure
        _check(shape, params, "")


def _name(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _check(shape: Shape, value: Any, path: str) -> None:
    # botocore builds one Shape subclass per type name: structure, list, (map,) string.
    kind = shape.type_name
    label = path or "input"
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            raise invalid_param(f"{label} must be a structure.")
        for required in shape.required_members:
            if value.get(required) is None:
                raise invalid_param(f"Missing required parameter: {_name(path, required)}.")
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                raise invalid_param(f"Unknown parameter {_name(path, key)}.")
            if item is not None:
                _check(member, item, _name(path, key))
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise invalid_param(f"{label} must be a list.")
        _check_length(shape, len(value), label)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{label}[{index}]")
    elif isinstance(shape, StringShape):
        if not isinstance(value, str):
            raise invalid_param(f"{label} must be a string.")
        _check_length(shape, len(value), label)
        if shape.enum and value not in shape.enum:
            raise invalid_param(
                f"Value {value!r} at {label} must be one of: {', '.join(shape.enum)}."
            )
        pattern = shape.metadata.get("pattern")
        if pattern and not _pattern(pattern).search(value):
            raise invalid_param(f"Value {value!r} at {label} does not match pattern {pattern}.")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_param(f"{label} must be an integer.")
        minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
        if minimum is not None and value < minimum:
            raise invalid_param(f"{label} must be at least {minimum}.")
        if maximum is not None and value > maximum:
            raise invalid_param(f"{label} must be at most {maximum}.")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise invalid_param(f"{label} must be a boolean.")
    elif kind == "timestamp" and (
        isinstance(value, bool) or not isinstance(value, int | float | str)
    ):
        raise invalid_param(f"{label} must be a timestamp.")


def _check_length(shape: Shape, length: int, label: str) -> None:
    minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
    if minimum is not None and length < minimum:
        raise invalid_param(f"{label} must have a length of at least {minimum}.")
    if maximum is not None and length > maximum:
        raise invalid_param(f"{label} must have a length of at most {maximum}.")
