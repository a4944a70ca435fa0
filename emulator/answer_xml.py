"""Reading QuestionFormAnswers and AnswerKey XML (the emulator scores and reviews answers)."""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return child.text or ""
    return None


def parse_answers(answer_xml: str | None) -> dict[str, list[str]]:
    """{QuestionIdentifier: values}. Selections give one value each, FreeText one value.

    A crowd-form's single `taskAnswers` JSON array is also flattened into its field names (dotted for
    nested objects), so review policies and answer keys can name crowd-form fields directly.
    """
    if not answer_xml:
        return {}
    try:
        root = SafeET.fromstring(answer_xml)
    except Exception:
        return {}
    answers: dict[str, list[str]] = {}
    for answer in _children(root, "Answer"):
        qid = (_text(answer, "QuestionIdentifier") or "").strip()
        values = [(c.text or "").strip() for c in answer if _local(c.tag) == "SelectionIdentifier"]
        other = _text(answer, "OtherSelectionText")
        if other is not None:
            values.append(other.strip())
        free = _text(answer, "FreeText")
        if free is not None:
            values.append(free.strip())
            if qid == "taskAnswers":
                _flatten_task_answers(free, answers)
        key = _text(answer, "UploadedFileKey")
        if key is not None:
            values.append(key.strip())
        answers[qid] = values
    return answers


def _flatten_task_answers(free_text: str, into: dict[str, list[str]]) -> None:
    try:
        data = json.loads(free_text)
    except ValueError:
        return
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return
    for item in data:
        if isinstance(item, dict):
            _flatten("", item, into)


def _flatten(prefix: str, value: Any, into: dict[str, list[str]]) -> None:
    if isinstance(value, dict):
        # Crowd radio groups look like {"label": {"on": true}}: the chosen key is the answer.
        if value and all(isinstance(v, bool) for v in value.values()) and prefix:
            into[prefix] = [k for k, v in value.items() if v]
            return
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, into)
    elif isinstance(value, list):
        into[prefix] = [str(v).strip() for v in value]
    elif isinstance(value, bool):
        into[prefix] = ["true" if value else "false"]
    elif value is not None:
        into[prefix] = [str(value).strip()]


def score_answer_key(answer_key_xml: str, answers: dict[str, list[str]]) -> int:
    """The qualification value an AnswerKey gives these answers (API Reference, AnswerKey)."""
    root = SafeET.fromstring(answer_key_xml)
    total = 0.0
    for question in _children(root, "Question"):
        qid = (_text(question, "QuestionIdentifier") or "").strip()
        given = sorted(answers.get(qid, []))
        score = float(_text(question, "DefaultScore") or 0)
        for option in _children(question, "AnswerOption"):
            wanted = sorted(
                (c.text or "").strip() for c in option if _local(c.tag) == "SelectionIdentifier"
            )
            if wanted == given:
                score = float(_text(option, "AnswerScore") or 0)
                break
        total += score
    mapping = _children(root, "QualificationValueMapping")
    if not mapping:
        return int(round(total))
    for kind in mapping[0]:
        name = _local(kind.tag)
        if name == "PercentageMapping":
            maximum = float(_text(kind, "MaximumSummedScore") or 0)
            return int(round(100 * total / maximum)) if maximum else 0
        if name == "ScaleMapping":
            return int(round(total * float(_text(kind, "SummedScoreMultiplier") or 1)))
        if name == "RangeMapping":
            for band in _children(kind, "SummedScoreRange"):
                low = float(_text(band, "InclusiveLowerBound") or 0)
                high = float(_text(band, "InclusiveUpperBound") or 0)
                if low <= total <= high:
                    return int(_text(band, "QualificationValue") or 0)
            return int(_text(kind, "OutOfRangeQualificationValue") or 0)
    return int(round(total))


def check_answer_key(answer_key_xml: str) -> None:
    """Raise ValueError unless this looks like an AnswerKey document."""
    try:
        root = SafeET.fromstring(answer_key_xml)
    except Exception as exc:
        raise ValueError(f"AnswerKey is not well-formed XML: {exc}") from None
    if _local(root.tag) != "AnswerKey":
        raise ValueError("AnswerKey must be an AnswerKey data structure.")
