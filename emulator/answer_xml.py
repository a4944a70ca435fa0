"""The one module for answer XML: writing and reading QuestionFormAnswers, and reading AnswerKeys.

- :func:`answers_to_xml` writes the QuestionFormAnswers a worker submits (simulated answers from
  :mod:`emulator.answering`, explicit ones from the control API) and :func:`read_answers` reads it
  back exactly (``<FreeText>`` as ``str``, selections as ``list[str]``; strict about the document).
- :func:`parse_answers` reads answers for scoring and review: every field as a list of values, a
  crowd-form's ``taskAnswers`` JSON flattened into its field names, anything unreadable as no
  answers. :func:`score_answer_key` and :func:`check_answer_key` read AnswerKey documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

ANSWERS_NS = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
    "2005-10-01/QuestionFormAnswers.xsd"
)

# --- writing answers ------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry at all, even as references (C0 controls other than tab, LF, CR;
# lone surrogates; U+FFFE/U+FFFF). A browser could not post most of them either.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(value: str) -> str:
    value = _INVALID_XML_CHARS.sub("", value)
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # \r would be normalised to \n by any XML parser; a reference keeps it.
    value = value.replace("\r", "&#13;")
    return value.encode("ascii", "xmlcharrefreplace").decode("ascii")


def answers_to_xml(
    answers: Mapping[str, str | list[str]] | list[tuple[str, str | list[str]]],
) -> str:
    """Build QuestionFormAnswers XML: a ``str`` becomes ``<FreeText>``, a ``list`` one
    ``<SelectionIdentifier>`` per item (none for an empty list), in the given order.

    Everything is escaped; non-ASCII becomes character references (the document is declared ASCII,
    as MTurk's is); characters XML cannot represent are dropped.
    """
    items = answers.items() if isinstance(answers, Mapping) else answers
    parts = [
        '<?xml version="1.0" encoding="ASCII"?>',
        f'<QuestionFormAnswers xmlns="{ANSWERS_NS}">',
    ]
    for name, value in items:
        parts.append(f"<Answer><QuestionIdentifier>{_escape(str(name))}</QuestionIdentifier>")
        if isinstance(value, (list, tuple)):
            parts.extend(
                f"<SelectionIdentifier>{_escape(str(item))}</SelectionIdentifier>" for item in value
            )
        else:
            parts.append(f"<FreeText>{_escape(str(value))}</FreeText>")
        parts.append("</Answer>")
    parts.append("</QuestionFormAnswers>")
    return "".join(parts)


# --- reading answers exactly (namespace-aware, as written) ----------------------------------------


def _split_ns_tag(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _ns_child(parent: Element, ns: str, name: str) -> Element | None:
    return parent.find(f"{{{ns}}}{name}")


def _ns_children(parent: Element, ns: str, name: str) -> list[Element]:
    return parent.findall(f"{{{ns}}}{name}")


def read_answers(xml: str) -> dict[str, str | list[str]]:
    """Read QuestionFormAnswers XML back: ``<FreeText>`` → ``str``, selections → ``list[str]``
    (an ``<Answer>`` with neither gives ``[]``; ``<OtherSelectionText>`` is appended to the list).

    Raises ``ValueError`` for malformed XML or a root other than QuestionFormAnswers.
    """
    try:
        root = SafeET.fromstring(xml)
    except (DefusedXmlException, ParseError) as exc:
        raise ValueError(f"Not valid QuestionFormAnswers XML: {exc}") from exc
    ns, local = _split_ns_tag(root.tag)
    if local != "QuestionFormAnswers":
        raise ValueError(f"Expected <QuestionFormAnswers>, got <{local}>.")
    result: dict[str, str | list[str]] = {}
    for answer in _ns_children(root, ns, "Answer"):
        qid_elem = _ns_child(answer, ns, "QuestionIdentifier")
        qid = "" if qid_elem is None else (qid_elem.text or "")
        free = _ns_child(answer, ns, "FreeText")
        if free is not None:
            result[qid] = free.text or ""
            continue
        selected = [elem.text or "" for elem in _ns_children(answer, ns, "SelectionIdentifier")]
        selected += [elem.text or "" for elem in _ns_children(answer, ns, "OtherSelectionText")]
        result[qid] = selected
    return result


# --- reading answers for scoring and review, and answer keys --------------------------------------


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


def uploaded_file_answer(answer_xml: str | None, question: str) -> tuple[str, int] | None:
    """(UploadedFileKey, UploadedFileSizeInBytes) of the question's FileUploadAnswer, or None."""
    if not answer_xml:
        return None
    try:
        root = SafeET.fromstring(answer_xml)
    except Exception:
        return None
    for answer in _children(root, "Answer"):
        if (_text(answer, "QuestionIdentifier") or "").strip() != question:
            continue
        key = _text(answer, "UploadedFileKey")
        if key is None:
            return None
        size = (_text(answer, "UploadedFileSizeInBytes") or "0").strip()
        return key.strip(), int(size) if size.isdigit() else 0
    return None
