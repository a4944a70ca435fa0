"""Qualification tests: the score an AnswerKey gives a worker's answers.

Minimal on purpose (the test editor brings the rest of this module): `score_answers` follows the
API Reference's AnswerKey (2017-01-17): per question, the AnswerScore of the AnswerOption whose
SelectionIdentifiers are exactly the worker's selections, else the question's DefaultScore (0);
the sum, then the QualificationValueMapping (PercentageMapping, ScaleMapping, RangeMapping), or the
sum itself when there is none. Both documents are untrusted: parsed with defusedxml."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from mturk.answers import parse_answers
from mturk.xmlread import child_text, find_child, find_children, local_name, parse_xml

__all__ = ["score_answers"]


def _number(text: str, default: str = "0") -> Decimal:
    try:
        return Decimal(text or default)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a number") from exc


def _round(value: Decimal) -> int:
    # Python's round() on the emulator side rounds half to even; so do we.
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def _selections(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    return sorted(item.strip() for item in items)


def _mapped(mapping: Element | None, total: Decimal) -> int:
    kind = next(
        (child for child in (mapping if mapping is not None else ()) if local_name(child.tag)), None
    )
    if kind is None:
        return _round(total)
    name = local_name(kind.tag)
    if name == "PercentageMapping":
        maximum = _number(child_text(kind, "MaximumSummedScore"))
        return _round(100 * total / maximum) if maximum else 0
    if name == "ScaleMapping":
        return _round(total * _number(child_text(kind, "SummedScoreMultiplier"), "1"))
    if name == "RangeMapping":
        for band in find_children(kind, "SummedScoreRange"):
            low = _number(child_text(band, "InclusiveLowerBound"))
            high = _number(child_text(band, "InclusiveUpperBound"))
            if low <= total <= high:
                return int(_number(child_text(band, "QualificationValue")))
        return int(_number(child_text(kind, "OutOfRangeQualificationValue")))
    return _round(total)


def score_answers(answer_key_xml: str, answer_xml: str) -> int | None:
    """The qualification value the answer key gives these QuestionFormAnswers; None when either
    document cannot be read (no key, malformed XML, not a number where one is needed)."""
    if not (answer_key_xml or "").strip():
        return None
    root, _problem = parse_xml(answer_key_xml)
    if root is None or local_name(root.tag) != "AnswerKey":
        return None
    parsed = parse_answers(answer_xml)
    if not parsed.ok:
        return None
    try:
        total = Decimal(0)
        for question in find_children(root, "Question"):
            given = _selections(parsed.fields.get(child_text(question, "QuestionIdentifier")))
            score = _number(child_text(question, "DefaultScore"))
            for option in find_children(question, "AnswerOption"):
                wanted = sorted(
                    (child.text or "").strip()
                    for child in find_children(option, "SelectionIdentifier")
                )
                if wanted == given:
                    score = _number(child_text(option, "AnswerScore"))
                    break
            total += score
        return _mapped(find_child(root, "QualificationValueMapping"), total)
    except ValueError:
        return None
