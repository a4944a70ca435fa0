"""Reading workers' answers (QuestionFormAnswers XML) and recognising question documents.

Everything here handles untrusted input: XML is parsed with defusedxml (no entities, no DTDs), and
:func:`parse_answers` never raises: a malformed answer comes back flagged (``ok=False``) with the
fields it could read, so the caller keeps the raw XML and shows the problem instead of losing work.

Answer shapes (API Reference "QuestionFormAnswers", Developer Guide "Retrieving results"):

- ``<FreeText>`` → ``str``. A plain HTML/External form posts every field as FreeText; several values
  under one name (a checkbox group) arrive joined with ``|`` and stay one string here.
- ``<SelectionIdentifier>`` (QuestionForm) → ``str`` when one, ``list[str]`` when several or none;
  ``<OtherSelectionText>`` goes to ``"<question>.other"``.
- ``<UploadedFileKey>`` / ``<UploadedFileSizeInBytes>`` → ``"uploaded file <key> (<n> bytes)"``.
- ``taskAnswers`` (a ``<crowd-form>``: FreeText holding a JSON array of one object) is flattened:
  a dict of booleans (radio group, checkbox) → the true key (a list when several, ``""`` when none);
  nested dicts → dotted keys (``"a.b"``); lists → ``list[str]``; numbers and booleans → ``str``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

__all__ = [
    "ANSWERS_NAMESPACE",
    "Answers",
    "ParsedAnswers",
    "QuestionKind",
    "answer_text",
    "answer_values",
    "external_url",
    "frame_height",
    "html_content",
    "parse_answers",
    "question_kind",
]

_SCHEMA_BASE = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
ANSWERS_NAMESPACE = _SCHEMA_BASE + "2005-10-01/QuestionFormAnswers.xsd"
TASK_ANSWERS = "taskAnswers"

QuestionKind = Literal["HTMLQuestion", "ExternalQuestion", "QuestionForm", "HITLayout", "Unknown"]
FieldValue = str | list[str]
# One worker's answers by field name, as ``ParsedAnswers.fields`` holds them.
Answers = Mapping[str, FieldValue]


@dataclass(frozen=True)
class ParsedAnswers:
    """``fields``: question/field name → value; ``ok`` False (with ``error``) when the XML or a crowd
    JSON payload was malformed, in which case ``fields`` holds whatever could be read."""

    fields: dict[str, FieldValue] = field(default_factory=dict)
    ok: bool = True
    error: str = ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(elem: Element, name: str) -> Iterable[Element]:
    # Namespace-agnostic on purpose: old answers and some tools omit or vary the namespace.
    return (child for child in elem if _local(child.tag) == name)


def _child_text(elem: Element, name: str) -> str | None:
    for child in _children(elem, name):
        return child.text or ""
    return None


def parse_answers(xml: str | None) -> ParsedAnswers:
    """Flatten QuestionFormAnswers XML into ``{field: value}``; never raises (see module doc)."""
    if xml is None or not str(xml).strip():
        return ParsedAnswers({}, ok=False, error="The answer is empty.")
    try:
        root = SafeET.fromstring(xml)
    except (DefusedXmlException, ParseError, ValueError) as exc:
        return ParsedAnswers({}, ok=False, error=f"The answer is not well-formed XML: {exc}")
    if _local(root.tag) != "QuestionFormAnswers":
        return ParsedAnswers(
            {}, ok=False, error=f"Expected <QuestionFormAnswers>, got <{_local(root.tag)}>."
        )
    fields: dict[str, FieldValue] = {}
    errors: list[str] = []
    for answer in _children(root, "Answer"):
        qid = _child_text(answer, "QuestionIdentifier")
        if qid is None:
            errors.append("An <Answer> has no <QuestionIdentifier>.")
            continue
        free = _child_text(answer, "FreeText")
        if free is not None:
            if qid == TASK_ANSWERS:
                problem = _flatten_task_answers(free, fields)
                if problem:
                    errors.append(problem)
                    fields[qid] = free  # keep the raw payload visible
            else:
                fields[qid] = free
            continue
        file_key = _child_text(answer, "UploadedFileKey")
        if file_key is not None:
            size = _child_text(answer, "UploadedFileSizeInBytes")
            fields[qid] = f"uploaded file {file_key}" + (f" ({size} bytes)" if size else "")
            continue
        selected = [child.text or "" for child in _children(answer, "SelectionIdentifier")]
        fields[qid] = selected[0] if len(selected) == 1 else selected
        other = _child_text(answer, "OtherSelectionText")
        if other is not None:
            fields[f"{qid}.other"] = other
    return ParsedAnswers(fields, ok=not errors, error=" ".join(errors))


def _flatten_task_answers(payload: str, out: dict[str, FieldValue]) -> str:
    """Add a crowd-form's fields to ``out``; return an error message ('' when fine)."""
    try:
        data = json.loads(payload)
    except ValueError as exc:
        return f"taskAnswers is not valid JSON: {exc}"
    if isinstance(data, list):
        objects = [item for item in data if isinstance(item, dict)]
        if len(objects) != len(data) or not objects:
            return "taskAnswers must be a JSON array of objects."
        # MTurk sends one object; should there be more, later ones win field by field.
        for obj in objects:
            _flatten(obj, "", out)
        return ""
    if isinstance(data, dict):
        _flatten(data, "", out)
        return ""
    return "taskAnswers must be a JSON array of objects."


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True)


def _flatten(value: Any, prefix: str, out: dict[str, FieldValue]) -> None:
    if isinstance(value, dict):
        if value and prefix and all(isinstance(v, bool) for v in value.values()):
            chosen = [k for k, v in value.items() if v]
            out[prefix] = chosen[0] if len(chosen) == 1 else (chosen or "")
            return
        if not value and prefix:
            out[prefix] = ""
            return
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        out[prefix] = [_scalar(item) for item in value]
    else:
        out[prefix] = _scalar(value)


def answer_values(answer: str | list[str] | None, *, split: bool) -> set[str]:
    """The values an answer selects. MTurk joins several values of one form field with "|"."""
    if answer is None:
        return set()
    if isinstance(answer, list | tuple):
        return {str(item) for item in answer}
    text = str(answer)
    return {text, *text.split("|")} if split else {text}


def answer_text(answer: str | list[str] | None) -> str:
    """An answer as one string: several values joined with "|", as MTurk records them."""
    if answer is None:
        return ""
    if isinstance(answer, list | tuple):
        return "|".join(str(item) for item in answer)
    return str(answer)


# --- question documents ------------------------------------------------------------------------------


def _root(question_xml: str | None) -> Element | None:
    if not question_xml or not question_xml.strip():
        return None
    try:
        return SafeET.fromstring(question_xml)
    except (DefusedXmlException, ParseError, ValueError):
        return None


def question_kind(question_xml: str | None, hit_layout_id: str | None = None) -> QuestionKind:
    """What kind of question a HIT shows: a HIT created from a layout has no Question document."""
    root = _root(question_xml)
    if root is None:
        return "HITLayout" if hit_layout_id else "Unknown"
    local = _local(root.tag)
    if local in ("HTMLQuestion", "ExternalQuestion", "QuestionForm"):
        return local  # type: ignore[return-value]
    return "HITLayout" if hit_layout_id else "Unknown"


def html_content(question_xml: str | None) -> str | None:
    """The HTML of an HTMLQuestion (untrusted: render only in the sandboxed preview)."""
    root = _root(question_xml)
    if root is None or _local(root.tag) != "HTMLQuestion":
        return None
    return _child_text(root, "HTMLContent")


def external_url(question_xml: str | None) -> str | None:
    """The ExternalURL of an ExternalQuestion (untrusted: never fetch it server-side)."""
    root = _root(question_xml)
    if root is None or _local(root.tag) != "ExternalQuestion":
        return None
    text = _child_text(root, "ExternalURL")
    return text.strip() if text else text


def frame_height(question_xml: str | None) -> int | None:
    """FrameHeight of an HTML/External question (0 = let MTurk size the frame); None if absent."""
    root = _root(question_xml)
    if root is None:
        return None
    text = _child_text(root, "FrameHeight")
    try:
        return int(text.strip()) if text else None
    except ValueError:
        return None
