"""Field discovery: which fields a worker fills in for a question, and question validation.

:func:`validate_question` checks a ``Question`` parameter the way CreateHIT would (well-formed XML, a
known root element in its exact namespace, the required children); :func:`describe_fields` lists the
fields of a QuestionForm or an HTMLQuestion (plain ``<form>`` inputs or Crowd HTML Elements) as
:class:`FieldSpec` objects, which :mod:`emulator.answering.assemble` fills with values from
:mod:`emulator.answering.values`.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

_SCHEMA_BASE = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
QUESTION_FORM_NS = _SCHEMA_BASE + "2017-11-06/QuestionForm.xsd"
QUESTION_FORM_NS_LEGACY = _SCHEMA_BASE + "2005-10-01/QuestionForm.xsd"
HTML_QUESTION_NS = _SCHEMA_BASE + "2011-11-11/HTMLQuestion.xsd"
EXTERNAL_QUESTION_NS = _SCHEMA_BASE + "2006-07-14/ExternalQuestion.xsd"
_NAMESPACES: dict[str, tuple[str, ...]] = {
    "QuestionForm": (QUESTION_FORM_NS, QUESTION_FORM_NS_LEGACY),
    "HTMLQuestion": (HTML_QUESTION_NS,),
    "ExternalQuestion": (EXTERNAL_QUESTION_NS,),
}

# MTurk caps the Question parameter at 131,072 characters (CreateHIT, "Constraints: Maximum length
# of 131072"); refusing bigger documents also bounds the work the parsers below do.
MAX_QUESTION_LENGTH = 131072

# Names MTurk reserves on an externalSubmit form; hitId "will be ignored, and will not appear in the
# results data", the others are the ones MTurk appends to the URL itself.
_RESERVED_FIELDS = frozenset({"hitId", "workerId", "turkSubmitTo"})

TASK_ANSWERS = "taskAnswers"


@dataclass
class FieldSpec:
    """One field a worker fills in.

    ``kind`` is one of "text", "textarea", "radio", "checkbox", "select", "hidden" (plain HTML form
    fields), "freetext", "selection" (QuestionForm) or "crowd" (Crowd HTML Elements; ``element``
    names which one). ``options`` are the values a choice field can take (SelectionIdentifiers,
    input/option values, crowd-radio-button names, classifier categories). ``constraints`` holds what
    applies of: ``type`` (HTML input type), ``min_length``, ``max_length``, ``numeric``,
    ``min_value``, ``max_value``, ``step``, ``regexes`` (list of ``{"regex", "flags"}``),
    ``pattern`` (HTML, anchored), ``min_selections``, ``max_selections``, ``style``, ``default``,
    ``values`` (crowd-radio-group: button name → value), ``value`` (checkbox value).
    """

    name: str
    kind: str
    options: list[str] = field(default_factory=list)
    multiple: bool = False
    required: bool = False
    constraints: dict[str, Any] = field(default_factory=dict)
    element: str = ""


# ---------------------------------------------------------------------------------------------
# Parsing and validation
# ---------------------------------------------------------------------------------------------


def _parse_xml(xml_text: str) -> Element:
    if not isinstance(xml_text, str) or not xml_text.strip():
        raise ValueError("The question is empty.")
    if len(xml_text) > MAX_QUESTION_LENGTH:
        raise ValueError(
            f"The question is {len(xml_text)} characters long; the maximum is {MAX_QUESTION_LENGTH}."
        )
    try:
        # defusedxml refuses DTDs with entities and external references (billion laughs, XXE).
        return SafeET.fromstring(xml_text)
    except DefusedXmlException as exc:
        raise ValueError(f"The question XML uses a forbidden construct: {exc}") from exc
    except ParseError as exc:
        raise ValueError(f"The question is not well-formed XML: {exc}") from exc


def _split_tag(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _child(parent: Element, ns: str, name: str) -> Element | None:
    return parent.find(f"{{{ns}}}{name}")


def _children(parent: Element, ns: str, name: str) -> list[Element]:
    return parent.findall(f"{{{ns}}}{name}")


def _text(elem: Element | None) -> str:
    return "" if elem is None else "".join(elem.itertext()).strip()


def _root_kind(root: Element) -> tuple[str, str]:
    ns, local = _split_tag(root.tag)
    if local not in _NAMESPACES:
        raise ValueError(
            f"Unknown question type <{local}>: expected QuestionForm, HTMLQuestion or ExternalQuestion."
        )
    if ns not in _NAMESPACES[local]:
        expected = " or ".join(_NAMESPACES[local])
        got = ns or "no namespace"
        raise ValueError(f"<{local}> has the wrong namespace ({got}); expected {expected}.")
    return local, ns


def _frame_height(root: Element, ns: str, kind: str) -> None:
    raw = _text(_child(root, ns, "FrameHeight"))
    if not raw:
        raise ValueError(f"{kind} requires a FrameHeight element.")
    try:
        height = int(raw)
    except ValueError:
        raise ValueError(f"{kind} FrameHeight must be an integer, not {raw!r}.") from None
    if height < 0:
        raise ValueError(f"{kind} FrameHeight must not be negative.")


def _validate_external(root: Element, ns: str) -> None:
    url = _text(_child(root, ns, "ExternalURL"))
    if not url:
        raise ValueError("ExternalQuestion requires an ExternalURL element.")
    parts = urlsplit(url)
    # MTurk only frames HTTPS pages (the Worker site is HTTPS; mixed content would be blocked).
    if parts.scheme.lower() != "https" or not parts.netloc:
        raise ValueError(f"ExternalURL must be an absolute https:// URL, not {url!r}.")
    _frame_height(root, ns, "ExternalQuestion")


def _validate_html(root: Element, ns: str) -> None:
    content = _child(root, ns, "HTMLContent")
    if content is None or not (content.text or "").strip():
        raise ValueError("HTMLQuestion requires a non-empty HTMLContent element.")
    _frame_height(root, ns, "HTMLQuestion")


def _validate_question_form(root: Element, ns: str) -> None:
    questions = _children(root, ns, "Question")
    if not questions:
        raise ValueError("QuestionForm must contain at least one Question.")
    seen: set[str] = set()
    for question in questions:
        qid = _text(_child(question, ns, "QuestionIdentifier"))
        if not qid:
            raise ValueError("Every Question needs a non-empty QuestionIdentifier.")
        if qid in seen:
            raise ValueError(f"QuestionIdentifier {qid!r} is used twice.")
        seen.add(qid)
        if _child(question, ns, "QuestionContent") is None:
            raise ValueError(f"Question {qid!r} has no QuestionContent.")
        spec = _child(question, ns, "AnswerSpecification")
        if spec is None:
            raise ValueError(f"Question {qid!r} has no AnswerSpecification.")
        if _child(spec, ns, "FileUploadAnswer") is not None:
            # Documented: "Beginning Tuesday, December 12th 2017 ... will no longer support".
            raise ValueError(f"Question {qid!r}: FileUploadAnswer is no longer supported.")
        free = _child(spec, ns, "FreeTextAnswer")
        selection = _child(spec, ns, "SelectionAnswer")
        if (free is None) == (selection is None):
            raise ValueError(
                f"Question {qid!r}: AnswerSpecification needs exactly one FreeTextAnswer or SelectionAnswer."
            )
        if selection is not None:
            selections = _child(selection, ns, "Selections")
            items = [] if selections is None else _children(selections, ns, "Selection")
            if not items:
                raise ValueError(f"Question {qid!r}: SelectionAnswer needs at least one Selection.")
            ids = [_text(_child(item, ns, "SelectionIdentifier")) for item in items]
            if not all(ids):
                raise ValueError(f"Question {qid!r}: every Selection needs a SelectionIdentifier.")
            if len(set(ids)) != len(ids):
                raise ValueError(f"Question {qid!r}: SelectionIdentifiers must be unique.")
            low, high = _selection_bounds(selection, ns, len(ids))
            if low > high:
                raise ValueError(
                    f"Question {qid!r}: MinSelectionCount {low} exceeds MaxSelectionCount {high}."
                )


def validate_question(question_xml: str) -> str:
    """Return the question's kind ("QuestionForm", "HTMLQuestion" or "ExternalQuestion").

    Raises ``ValueError`` with a message fit for a RequestError when the XML is malformed, uses a
    forbidden construct (DTD entities), has an unknown root or a wrong namespace, or lacks required
    parts (ExternalURL over https and FrameHeight; HTMLContent and FrameHeight; Questions with
    identifiers and answer specifications).
    """
    root = _parse_xml(question_xml)
    kind, ns = _root_kind(root)
    if kind == "ExternalQuestion":
        _validate_external(root, ns)
    elif kind == "HTMLQuestion":
        _validate_html(root, ns)
    else:
        _validate_question_form(root, ns)
    return kind


def _int_or_none(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def _number_or_none(raw: str | None) -> int | float | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        try:
            value = float(raw)
        except ValueError:
            return None
        return value if value == value and abs(value) != float("inf") else None


def _selection_bounds(selection: Element, ns: str, count: int) -> tuple[int, int]:
    low = _int_or_none(_text(_child(selection, ns, "MinSelectionCount")))
    high = _int_or_none(_text(_child(selection, ns, "MaxSelectionCount")))
    # Documented defaults: MinSelectionCount 1, MaxSelectionCount 1.
    low = 1 if low is None else max(0, low)
    high = 1 if high is None else max(1, high)
    return min(low, count), min(high, count)


def _question_form_fields(root: Element, ns: str) -> list[FieldSpec]:
    fields: list[FieldSpec] = []
    for question in _children(root, ns, "Question"):
        qid = _text(_child(question, ns, "QuestionIdentifier"))
        required = _text(_child(question, ns, "IsRequired")).lower() == "true"
        spec = _child(question, ns, "AnswerSpecification")
        assert spec is not None  # validated
        free = _child(spec, ns, "FreeTextAnswer")
        if free is not None:
            constraints: dict[str, Any] = {}
            cons = _child(free, ns, "Constraints")
            if cons is not None:
                numeric = _child(cons, ns, "IsNumeric")
                if numeric is not None:
                    constraints["numeric"] = True
                    for attr, key in (("minValue", "min_value"), ("maxValue", "max_value")):
                        value = _number_or_none(numeric.get(attr))
                        if value is not None:
                            constraints[key] = value
                length = _child(cons, ns, "Length")
                if length is not None:
                    for attr, key in (("minLength", "min_length"), ("maxLength", "max_length")):
                        value = _int_or_none(length.get(attr))
                        if value is not None:
                            constraints[key] = value
                    # Documented: "If you specify the minLength attribute, it is the same as if the
                    # IsRequired element is true."
                    if constraints.get("min_length", 0) > 0:
                        required = True
                regexes = [
                    {"regex": item.get("regex", ""), "flags": item.get("flags", "")}
                    for item in _children(cons, ns, "AnswerFormatRegex")
                    if item.get("regex")
                ]
                if regexes:
                    constraints["regexes"] = regexes
            default = _child(free, ns, "DefaultText")
            if default is not None:
                constraints["default"] = _text(default)
            fields.append(FieldSpec(qid, "freetext", required=required, constraints=constraints))
            continue
        selection = _child(spec, ns, "SelectionAnswer")
        assert selection is not None  # validated
        selections = _child(selection, ns, "Selections")
        items = [] if selections is None else _children(selections, ns, "Selection")
        options = [_text(_child(item, ns, "SelectionIdentifier")) for item in items]
        low, high = _selection_bounds(selection, ns, len(options))
        constraints = {"min_selections": low, "max_selections": high}
        style = _text(_child(selection, ns, "StyleSuggestion"))
        if style:
            constraints["style"] = style
        if selections is not None and _child(selections, ns, "OtherSelection") is not None:
            constraints["other_selection"] = True
        fields.append(
            FieldSpec(
                qid,
                "selection",
                options=options,
                multiple=high > 1,
                required=required or low > 0,
                constraints=constraints,
            )
        )
    return fields


_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")


def _categories(raw: str | None) -> list[str]:
    """Read a classifier's ``categories="['a', 'b']"`` attribute without evaluating it."""
    if not raw:
        return []
    try:
        value = json.loads(raw)
        if isinstance(value, list):
            return [str(item) for item in value]
    except ValueError:
        pass
    return [single or double for single, double in _QUOTED.findall(raw)]


_TEXT_INPUT_TYPES = frozenset(
    {"text", "number", "email", "url", "tel", "password", "search", "date", "range", "color"}
)
_IGNORED_INPUT_TYPES = frozenset({"submit", "button", "reset", "image", "file"})


class _FormCollector(HTMLParser):
    """Collects form fields in document order (one FieldSpec per posted name)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[FieldSpec] = []
        self.by_name: dict[str, FieldSpec] = {}
        self.crowd_form = False
        self._select: FieldSpec | None = None
        self._option: dict[str, Any] | None = None
        self._textarea: FieldSpec | None = None
        self._radio_group: FieldSpec | None = None
        self._radio_groups = 0

    def _add(self, spec: FieldSpec) -> FieldSpec:
        existing = self.by_name.get(spec.name)
        if existing is not None:
            return existing
        self.fields.append(spec)
        self.by_name[spec.name] = spec
        return spec

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in ("textarea", "select", "option", "crowd-radio-group"):
            self.handle_endtag(tag)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: ("" if value is None else value) for key, value in attrs}
        name = a.get("name", "").strip()
        required = "required" in a
        if tag == "crowd-form":
            self.crowd_form = True
        elif tag == "input" and name:
            self._input(name, a, required)
        elif tag == "textarea" and name:
            spec = self._add(FieldSpec(name, "textarea", required=required, element="textarea"))
            _length_attrs(spec, a)
            self._textarea = spec
            spec.constraints.setdefault("default", "")
        elif tag == "select" and name:
            spec = self._add(
                FieldSpec(
                    name, "select", multiple="multiple" in a, required=required, element="select"
                )
            )
            self._select = spec
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag.startswith("crowd-"):
            self._crowd(tag, name, a, required)

    def _input(self, name: str, a: dict[str, str], required: bool) -> None:
        kind = a.get("type", "text").strip().lower() or "text"
        if kind in _IGNORED_INPUT_TYPES or name in _RESERVED_FIELDS:
            return
        if kind == "hidden":
            # Other hidden inputs carry values the page's own script sets; only assignmentId has a
            # value the emulator knows.
            if name == "assignmentId":
                self._add(FieldSpec(name, "hidden", element="input"))
            return
        if kind in ("radio", "checkbox"):
            spec = self._add(
                FieldSpec(
                    name, kind, multiple=kind == "checkbox", required=required, element="input"
                )
            )
            value = a.get("value", "on")
            if value not in spec.options:
                spec.options.append(value)
            spec.required = spec.required or required
            return
        if kind not in _TEXT_INPUT_TYPES:
            kind = "text"
        spec = self._add(FieldSpec(name, "text", required=required, element="input"))
        spec.constraints["type"] = kind
        _length_attrs(spec, a)
        _range_attrs(spec, a, kind)
        if a.get("pattern"):
            spec.constraints["pattern"] = a["pattern"]
        if a.get("value"):
            spec.constraints["default"] = a["value"]

    def _crowd(self, tag: str, name: str, a: dict[str, str], required: bool) -> None:
        if tag == "crowd-radio-group":
            self._radio_groups += 1
            group_name = name or f"radio-group-{self._radio_groups}"
            self._radio_group = self._add(
                FieldSpec(
                    group_name,
                    "crowd",
                    required=True,
                    constraints={"values": {}},
                    element="crowd-radio-group",
                )
            )
            return
        if not name:
            return
        if tag == "crowd-radio-button":
            group = self._radio_group
            if group is None:  # a lone button is a group of one
                group = self._add(
                    FieldSpec(
                        name, "crowd", constraints={"values": {}}, element="crowd-radio-group"
                    )
                )
            if name not in group.options:
                group.options.append(name)
                group.constraints["values"][name] = a.get("value", "on") or "on"
        elif tag in ("crowd-input", "crowd-text-area"):
            spec = self._add(FieldSpec(name, "crowd", required=required, element=tag))
            kind = (a.get("type") or "text").lower()
            spec.constraints["type"] = kind
            _length_attrs(spec, a)
            _range_attrs(spec, a, kind)
            if a.get("value"):
                spec.constraints["default"] = a["value"]
        elif tag == "crowd-checkbox":
            value = a.get("value") or "on"
            self._add(
                FieldSpec(
                    name,
                    "crowd",
                    options=[value],
                    required=required,
                    constraints={"value": value},
                    element=tag,
                )
            )
        elif tag in ("crowd-classifier", "crowd-classifier-multi-select"):
            self._add(
                FieldSpec(
                    name,
                    "crowd",
                    options=_categories(a.get("categories")),
                    multiple=tag.endswith("multi-select"),
                    required=True,
                    element=tag,
                )
            )
        elif tag == "crowd-slider":
            spec = self._add(FieldSpec(name, "crowd", required=required, element=tag))
            spec.constraints.update(
                {
                    "min_value": _number_or_none(a.get("min")) or 0,
                    "max_value": _number_or_none(a.get("max")) or 100,
                    "step": _number_or_none(a.get("step")) or 1,
                }
            )

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data
        elif self._textarea is not None:
            self._textarea.constraints["default"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select is not None:
            option = self._option
            # A browser posts the value attribute, or the option's text when there is none.
            value = option["value"] if option["value"] is not None else option["text"].strip()
            if value not in self._select.options:
                self._select.options.append(value)
            self._option = None
        elif tag == "select":
            if self._option is not None:
                self.handle_endtag("option")
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "crowd-radio-group":
            self._radio_group = None


def _length_attrs(spec: FieldSpec, a: Mapping[str, str]) -> None:
    # Native inputs say maxlength; Crowd HTML Elements spell it max-length.
    for attr, key in (
        ("minlength", "min_length"),
        ("maxlength", "max_length"),
        ("min-length", "min_length"),
        ("max-length", "max_length"),
    ):
        value = _int_or_none(a.get(attr))
        if value is not None and value >= 0:
            spec.constraints[key] = value


def _range_attrs(spec: FieldSpec, a: Mapping[str, str], kind: str) -> None:
    if kind not in ("number", "range"):
        return
    spec.constraints["numeric"] = True
    for attr, key in (
        ("min", "min_value"),
        ("max", "max_value"),
        ("step", "step"),
        ("min-value", "min_value"),
        ("max-value", "max_value"),
    ):
        value = _number_or_none(a.get(attr))
        if value is not None:
            spec.constraints[key] = value


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.-]+)\}")


def _substitute(html: str, layout_parameters: Mapping[str, str] | None) -> str:
    """Fill ``${name}`` placeholders (HITLayoutParameters) before reading the form."""
    if not layout_parameters:
        return html
    return _PLACEHOLDER.sub(
        lambda match: str(layout_parameters.get(match.group(1), match.group(0))), html
    )


def _html_fields(
    html: str, layout_parameters: Mapping[str, str] | None = None
) -> tuple[list[FieldSpec], bool]:
    collector = _FormCollector()
    collector.feed(_substitute(html, layout_parameters))
    collector.close()
    fields = [
        spec
        for spec in collector.fields
        if spec.kind != "crowd" or spec.options or _crowd_has_value(spec)
    ]
    return fields, collector.crowd_form


def _crowd_has_value(spec: FieldSpec) -> bool:
    return spec.element in ("crowd-input", "crowd-text-area", "crowd-slider")


def describe_fields(
    question_xml: str, *, layout_parameters: Mapping[str, str] | None = None
) -> list[FieldSpec]:
    """List the fields of a QuestionForm or HTMLQuestion, in document order.

    ExternalQuestion pages live elsewhere, so they have no fields here (an empty list); invalid
    questions raise ``ValueError`` as :func:`validate_question` does.
    """
    _kind, fields, _crowd = _analyse(question_xml, _params_key(layout_parameters))
    return copy.deepcopy(list(fields))  # callers may mutate; the cached specs must not change


def _params_key(layout_parameters: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in (layout_parameters or {}).items()))


# The crowd answers the same few questions thousands of times: parse each once. Validation errors
# are not cached (lru_cache does not store exceptions), which is fine: they are rare.
@functools.lru_cache(maxsize=256)
def _analyse(
    question_xml: str, params: tuple[tuple[str, str], ...]
) -> tuple[str, tuple[FieldSpec, ...], bool]:
    """(kind, fields, is_crowd_form) of a question; raises ``ValueError`` when invalid."""
    kind = validate_question(question_xml)
    root = _parse_xml(question_xml)
    ns, _ = _split_tag(root.tag)
    if kind == "QuestionForm":
        return kind, tuple(_question_form_fields(root, ns)), False
    if kind == "HTMLQuestion":
        html = _child(root, ns, "HTMLContent")
        fields, crowd = _html_fields(html.text or "" if html is not None else "", dict(params))
        return kind, tuple(fields), crowd
    return kind, (), False
