"""What the emulator's simulated workers answer.

Three jobs, all pure functions of their inputs (randomness comes only from the ``rng`` passed in, so a
seeded ``random.Random`` gives the same answers every run):

- :func:`validate_question` checks a ``Question`` parameter the way CreateHIT would (well-formed XML,
  a known root element in its exact namespace, the required children).
- :func:`describe_fields` lists the fields a worker would fill in, for QuestionForm and HTMLQuestion.
- :func:`generate_answer` produces the QuestionFormAnswers XML a worker submits, optionally steered
  by ground truth and an accuracy rate; :func:`answers_to_xml` builds the same XML from explicit
  answers and :func:`parse_answers` reads it back.

Answer shapes (what MTurk records, per the API Reference "The Answer Data" and "QuestionFormAnswers"):

- QuestionForm: one ``<Answer>`` per answered question; ``<FreeText>`` for a FreeTextAnswer, one
  ``<SelectionIdentifier>`` per chosen option for a SelectionAnswer (zero elements when nothing was
  chosen). Unanswered optional questions have no ``<Answer>`` at all.
- HTMLQuestion / ExternalQuestion with a plain ``<form>``: MTurk records the posted form fields "as if
  each field were a free-text answer": one ``<Answer>`` per field name with ``<FreeText>``. Browsers
  post only checked checkboxes and radios, so an unchecked checkbox group or an unselected radio group
  has no ``<Answer>``; several values posted under one name (a checkbox group, a ``<select
  multiple>``) are joined with ``|`` (what the Requester website's results show for such fields).
  Empty text inputs are posted, so they appear with an empty ``<FreeText/>``. The reserved names
  ``hitId``, ``workerId`` and ``turkSubmitTo`` never appear; ``assignmentId`` (the hidden input the
  docs tell requesters to include) appears only when :func:`generate_answer` is told the assignment
  id, because its value is filled in by the page's script at run time.
- ``<crowd-form>`` (Crowd HTML Elements): ONE ``<Answer>`` with QuestionIdentifier ``taskAnswers``
  whose FreeText is a JSON array holding one object that maps element names to values, following the
  Crowd HTML Elements reference: ``crowd-input`` / ``crowd-text-area`` → string, ``crowd-slider`` →
  number, ``crowd-radio-button`` → ``{"<name>": {"<value>": true|false}}`` for every button of the
  group (exactly one true), ``crowd-checkbox`` → ``{"<name>": {"<value or 'on'>": true|false}}``,
  ``crowd-classifier`` → ``{"<name>": {"label": "<category>"}}``,
  ``crowd-classifier-multi-select`` → ``{"<name>": {"labels": [...]}}``. Plain inputs inside a
  crowd-form are included as strings (an approximation: their exact serialisation is undocumented).

The XML starts with ``<?xml version="1.0" encoding="ASCII"?>`` like MTurk's own example, so every
non-ASCII character is written as a character reference.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

if TYPE_CHECKING:
    # typeshed describes the regex parser under its old public names only.
    import sre_constants
    import sre_parse
else:
    import re._constants as sre_constants  # why: the regex-driven generator walks the parsed pattern
    import re._parser as sre_parse  # (3.11's home of sre_parse; the public alias warns as deprecated)

_SCHEMA_BASE = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
QUESTION_FORM_NS = _SCHEMA_BASE + "2017-11-06/QuestionForm.xsd"
QUESTION_FORM_NS_LEGACY = _SCHEMA_BASE + "2005-10-01/QuestionForm.xsd"
HTML_QUESTION_NS = _SCHEMA_BASE + "2011-11-11/HTMLQuestion.xsd"
EXTERNAL_QUESTION_NS = _SCHEMA_BASE + "2006-07-14/ExternalQuestion.xsd"
ANSWERS_NS = _SCHEMA_BASE + "2005-10-01/QuestionFormAnswers.xsd"

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

# A small vocabulary so simulated text reads like words (and stays deterministic per seed).
_WORD_TEXT = (
    "apple river stone cloud garden window yellow quiet orange forest bright simple market silver "
    "winter summer little happy green table letter paper music water mountain ocean valley basket "
    "bridge candle dinner family friend guitar harbor island jacket kitchen ladder meadow number "
    "office pencil rabbit saddle thunder umbrella village wagon yard zebra anchor blanket castle "
    "dragon engine feather glove hammer insect jungle kettle lemon mirror needle pepper puzzle "
    "ribbon shadow ticket velvet whistle blue red purple gentle rapid calm early late warm cold "
    "good great fine small large quick slow clear dark soft loud round sharp sweet fresh "
    "the a one this that some many every each with from under over near into about after before "
    "runs walks sings reads writes builds opens holds finds keeps makes takes shows tells sees"
)
_WORDS = tuple(_WORD_TEXT.split())


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


# ---------------------------------------------------------------------------------------------
# Random but valid values
# ---------------------------------------------------------------------------------------------


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high)))


def _fit_length(text: str, rng: random.Random, min_length: int, max_length: int | None) -> str:
    while len(text) < min_length:
        text = f"{text} {rng.choice(_WORDS)}".strip()
    if max_length is not None and len(text) > max_length:
        text = text[:max_length].rstrip() or text[:max_length]
        while len(text) < min_length:  # rstrip may have taken too much
            text += rng.choice(string.ascii_lowercase)
    return text


def _format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, int) else f"{value:.2f}".rstrip("0").rstrip(".")


def _bounds(constraints: Mapping[str, Any]) -> tuple[int | float, int | float]:
    """min_value and max_value, a missing one 100 away from the other (0-100 without either)."""
    low: int | float | None = constraints.get("min_value")
    high: int | float | None = constraints.get("max_value")
    if low is None:
        if high is None:
            return 0, 100
        return (min(0, high) if high >= 0 else high - 100), high
    if high is None:
        return low, low + 100
    return low, high


def _random_number(rng: random.Random, constraints: Mapping[str, Any]) -> int | float:
    low, high = _bounds(constraints)
    if high < low:
        low, high = high, low
    step = constraints.get("step")
    if (
        isinstance(low, int)
        and isinstance(high, int)
        and (step is None or float(step).is_integer())
    ):
        if step and step > 1:
            return low + int(step) * rng.randint(0, (high - low) // int(step))
        return rng.randint(int(low), int(high))
    if step:
        return round(low + step * rng.randint(0, int((high - low) / step)), 6)
    return round(rng.uniform(low, high), 2)


def _regex_flags(flags: str) -> int:
    return re.IGNORECASE if "i" in (flags or "") else 0


def _regex_ok(text: str, regexes: list[Mapping[str, str]], anchored: bool = False) -> bool:
    for item in regexes:
        try:
            compiled = re.compile(item["regex"], _regex_flags(item.get("flags", "")))
        except re.error:
            continue  # a JavaScript-only pattern; MTurk checks it in the browser, we cannot
        if not (compiled.fullmatch(text) if anchored else compiled.search(text)):
            return False
    return True


_PRINTABLE = string.ascii_letters + string.digits + " -_.,"
_CATEGORY_CHARS = {
    sre_constants.CATEGORY_DIGIT: string.digits,
    sre_constants.CATEGORY_NOT_DIGIT: string.ascii_letters,
    sre_constants.CATEGORY_SPACE: " ",
    sre_constants.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
    sre_constants.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_constants.CATEGORY_NOT_WORD: " -.,",
}


def _class_chars(items: list[tuple[Any, Any]]) -> str:
    negate = False
    chars: list[str] = []
    for op, av in items:
        if op is sre_constants.NEGATE:
            negate = True
        elif op is sre_constants.LITERAL:
            chars.append(chr(av))
        elif op is sre_constants.RANGE:
            low, high = av
            chars.extend(chr(code) for code in range(low, min(high, low + 200) + 1))
        elif op is sre_constants.CATEGORY:
            chars.extend(_CATEGORY_CHARS.get(av, string.ascii_letters))
    if negate:
        excluded = set(chars)
        return "".join(c for c in _PRINTABLE if c not in excluded) or "~"
    return "".join(chars) or "x"


def _from_pattern(parsed: Any, rng: random.Random, groups: dict[int, str]) -> str:
    out: list[str] = []
    for op, av in parsed:
        if op is sre_constants.LITERAL:
            out.append(chr(av))
        elif op is sre_constants.NOT_LITERAL:
            out.append(rng.choice([c for c in string.ascii_letters if ord(c) != av]))
        elif op is sre_constants.ANY:
            out.append(rng.choice(string.ascii_lowercase))
        elif op is sre_constants.IN:
            out.append(rng.choice(_class_chars(av)))
        elif op is sre_constants.CATEGORY:
            out.append(rng.choice(_CATEGORY_CHARS.get(av, string.ascii_letters)))
        elif op in (
            sre_constants.MAX_REPEAT,
            sre_constants.MIN_REPEAT,
            sre_constants.POSSESSIVE_REPEAT,
        ):
            low, high, sub = av
            high = min(high, low + 6)  # unbounded repeats: keep answers short
            for _ in range(rng.randint(low, high)):
                out.append(_from_pattern(sub, rng, groups))
        elif op is sre_constants.BRANCH:
            out.append(_from_pattern(rng.choice(av[1]), rng, groups))
        elif op is sre_constants.SUBPATTERN:
            group, _add, _del, sub = av
            text = _from_pattern(sub, rng, groups)
            if group is not None:
                groups[group] = text
            out.append(text)
        elif op is sre_constants.ATOMIC_GROUP:
            out.append(_from_pattern(av, rng, groups))
        elif op is sre_constants.GROUPREF:
            out.append(groups.get(av, ""))
        # AT (anchors) and lookarounds produce nothing; the caller re-checks the result.
    return "".join(out)


def _text_for_regex(regex: Mapping[str, str], rng: random.Random) -> str | None:
    try:
        parsed = sre_parse.parse(regex["regex"], _regex_flags(regex.get("flags", "")))
    except (re.error, RecursionError, OverflowError):
        return None
    try:
        return _from_pattern(parsed, rng, {})
    except (ValueError, IndexError, TypeError, RecursionError):
        return None


def _random_text(
    rng: random.Random, constraints: Mapping[str, Any], *, sloppy: bool, long: bool = False
) -> str:
    """A value satisfying the field's constraints (numeric range, length, regexes, input type)."""
    min_length = constraints.get("min_length", 0)
    max_length = constraints.get("max_length")
    regexes = list(constraints.get("regexes", []))
    anchored = False
    if constraints.get("pattern"):
        regexes.append({"regex": constraints["pattern"], "flags": ""})
        anchored = True  # HTML pattern must match the whole value

    def fits(text: str) -> bool:
        if len(text) < min_length or (max_length is not None and len(text) > max_length):
            return False
        if constraints.get("numeric") and _number_or_none(text) is None:
            return False
        return _regex_ok(text, regexes, anchored)

    input_type = constraints.get("type", "text")
    for _attempt in range(60):
        if constraints.get("numeric"):
            candidate = _format_number(_random_number(rng, constraints))
        elif regexes and _attempt < 40:
            candidate = _text_for_regex(regexes[_attempt % len(regexes)], rng) or ""
        elif input_type == "email":
            candidate = f"{rng.choice(_WORDS)}.{rng.choice(_WORDS)}@example.com"
        elif input_type == "url":
            candidate = f"https://example.com/{rng.choice(_WORDS)}"
        elif input_type == "date":
            candidate = f"20{rng.randint(10, 29)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        elif input_type == "tel":
            candidate = f"555-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
        elif input_type == "color":
            candidate = "#" + "".join(rng.choice("0123456789abcdef") for _ in range(6))
        else:
            if sloppy:
                candidate = _words(rng, 1, 2)
            elif long:
                candidate = _words(rng, 6, 20)
            else:
                candidate = _words(rng, 1, 5)
            candidate = _fit_length(candidate, rng, min_length, max_length)
        if fits(candidate):
            return candidate
    default = constraints.get("default")
    if isinstance(default, str) and fits(default):
        return default
    # Unsatisfiable by this generator: a real worker would be stuck too; answer something plausible.
    return _fit_length(_words(rng, 1, 3), rng, min_length, max_length)


def _wrong_text(correct: str, rng: random.Random, constraints: Mapping[str, Any]) -> str:
    """A plausible mistake: a typo of the right answer, or a different valid answer."""
    if constraints.get("numeric"):
        for _ in range(20):
            candidate = _format_number(_random_number(rng, constraints))
            if candidate != correct:
                return candidate
        return correct + "1"
    if correct and rng.random() < 0.5:
        chars = list(correct)
        index = rng.randrange(len(chars))
        choice = rng.random()
        if choice < 0.34 and len(chars) > 1:
            del chars[index]
        elif choice < 0.67:
            chars.insert(index, rng.choice(string.ascii_lowercase))
        else:
            chars[index] = rng.choice([c for c in string.ascii_lowercase if c != chars[index]])
        candidate = "".join(chars)
        if candidate != correct:
            return candidate
    for _ in range(20):
        candidate = _random_text(rng, constraints, sloppy=False)
        if candidate != correct:
            return candidate
    return correct + " " + rng.choice(_WORDS)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(item) for item in value]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return (
        [item for item in str(value).split("|") if item != ""]
        if "|" in str(value)
        else [str(value)]
    )


def _choose(
    spec: FieldSpec,
    rng: random.Random,
    *,
    truth: Any,
    has_truth: bool,
    accuracy: float,
    low: int,
    high: int,
) -> list[str]:
    """Pick options for a choice field: right with probability ``accuracy`` when truth is known."""
    options = list(spec.options)
    if not options:
        return []
    high = max(low, min(high, len(options)))
    if has_truth:
        correct = [item for item in _as_list(truth) if item in options] or _as_list(truth)
        if rng.random() < accuracy:
            return correct
        if high == 1:
            wrong = [item for item in options if item not in correct]
            return [rng.choice(wrong)] if wrong else correct
        for _ in range(20):
            size = rng.randint(max(low, 1), high)
            candidate = sorted(rng.sample(options, size), key=options.index)
            if set(candidate) != set(correct):
                return candidate
        return correct
    size = rng.randint(low, high)
    return sorted(rng.sample(options, size), key=options.index)


# ---------------------------------------------------------------------------------------------
# Answer generation
# ---------------------------------------------------------------------------------------------


@dataclass
class _Context:
    rng: random.Random
    accuracy: float
    ground_truth: Mapping[str, Any]
    sloppy: bool

    def truth(self, name: str) -> tuple[bool, Any]:
        return (name in self.ground_truth, self.ground_truth.get(name))

    def skip_optional(self, spec: FieldSpec) -> bool:
        return self.sloppy and not spec.required and self.rng.random() < 0.3

    def text(self, spec: FieldSpec, *, long: bool = False) -> str:
        has, truth = self.truth(spec.name)
        if has:
            correct = "" if truth is None else str(truth)
            if self.rng.random() < self.accuracy:
                return correct
            return _wrong_text(correct, self.rng, spec.constraints)
        return _random_text(self.rng, spec.constraints, sloppy=self.sloppy, long=long)


def _question_form_answers(fields: list[FieldSpec], ctx: _Context) -> list[tuple[str, Any]]:
    answers: list[tuple[str, Any]] = []
    for spec in fields:
        if ctx.skip_optional(spec):
            continue  # unanswered optional question: no <Answer> at all
        if spec.kind == "freetext":
            answers.append((spec.name, ctx.text(spec)))
        else:
            has, truth = ctx.truth(spec.name)
            low = spec.constraints.get("min_selections", 1)
            high = spec.constraints.get("max_selections", 1)
            if not ctx.sloppy:
                low = max(low, 1)  # a careful worker answers even optional choices
            answers.append(
                (
                    spec.name,
                    _choose(
                        spec,
                        ctx.rng,
                        truth=truth,
                        has_truth=has,
                        accuracy=ctx.accuracy,
                        low=low,
                        high=high,
                    ),
                )
            )
    return answers


def _html_form_answers(
    fields: list[FieldSpec], ctx: _Context, assignment_id: str | None
) -> list[tuple[str, Any]]:
    answers: list[tuple[str, Any]] = []
    for spec in fields:
        if spec.kind == "hidden":
            if assignment_id is not None:
                answers.append((spec.name, assignment_id))
            continue
        if spec.kind in ("text", "textarea"):
            if ctx.skip_optional(spec):
                answers.append((spec.name, ""))  # empty inputs are still posted
            else:
                answers.append((spec.name, ctx.text(spec, long=spec.kind == "textarea")))
            continue
        has, truth = ctx.truth(spec.name)
        if spec.kind == "radio":
            if ctx.skip_optional(spec):
                continue  # nothing checked: the browser posts nothing
            low, high = 1, 1
        elif spec.kind == "checkbox":
            low, high = (1 if spec.required else 0), len(spec.options)
        else:  # select: a single select always posts its (first) option
            low, high = 1, (len(spec.options) if spec.multiple else 1)
        chosen = _choose(
            spec, ctx.rng, truth=truth, has_truth=has, accuracy=ctx.accuracy, low=low, high=high
        )
        if chosen:
            answers.append((spec.name, "|".join(chosen)))
    return answers


def _crowd_value(spec: FieldSpec, ctx: _Context, obj: dict[str, Any]) -> None:
    rng = ctx.rng
    has, truth = ctx.truth(spec.name)
    element = spec.element
    if element in ("crowd-input", "crowd-text-area"):
        if ctx.skip_optional(spec):
            obj[spec.name] = ""
        else:
            obj[spec.name] = ctx.text(spec, long=element == "crowd-text-area")
    elif element == "crowd-slider":
        if has and rng.random() < ctx.accuracy:
            value = _number_or_none(str(truth))
            obj[spec.name] = value if value is not None else truth
        elif has:
            obj[spec.name] = _number_or_none(
                _wrong_text(str(truth), rng, {**spec.constraints, "numeric": True})
            )
        else:
            obj[spec.name] = _random_number(rng, spec.constraints)
    elif element == "crowd-radio-group":
        values: dict[str, str] = spec.constraints["values"]
        truth_button = truth
        if not has:
            # Ground truth may also name the right button directly: {"<button name>": True}.
            marked = [button for button in spec.options if ctx.ground_truth.get(button) is True]
            if marked:
                has, truth_button = True, marked[0]
        elif truth not in values:  # truth given as the button's value
            truth_button = next((k for k, v in values.items() if v == str(truth)), truth)
        chosen = _choose(
            spec, rng, truth=truth_button, has_truth=has, accuracy=ctx.accuracy, low=1, high=1
        )
        for button in spec.options:
            obj[button] = {values[button]: button in chosen}
    elif element == "crowd-checkbox":
        value = spec.constraints.get("value", "on")
        if has:
            correct = str(truth).lower() in ("true", "1", "yes", "on", value.lower())
            checked = correct if rng.random() < ctx.accuracy else not correct
        else:
            checked = spec.required or rng.random() < 0.5
        obj[spec.name] = {value: checked}
    elif element == "crowd-classifier":
        chosen = _choose(
            spec, rng, truth=truth, has_truth=has, accuracy=ctx.accuracy, low=1, high=1
        )
        obj[spec.name] = {"label": chosen[0] if chosen else ""}
    elif element == "crowd-classifier-multi-select":
        chosen = _choose(
            spec,
            rng,
            truth=truth,
            has_truth=has,
            accuracy=ctx.accuracy,
            low=1,
            high=len(spec.options),
        )
        obj[spec.name] = {"labels": chosen}


def _crowd_answers(
    fields: list[FieldSpec], ctx: _Context, assignment_id: str | None
) -> list[tuple[str, Any]]:
    obj: dict[str, Any] = {}
    for spec in fields:
        if spec.kind == "crowd":
            _crowd_value(spec, ctx, obj)
        elif spec.kind == "hidden":
            if assignment_id is not None:
                obj[spec.name] = assignment_id
        else:
            for name, value in _html_form_answers([spec], ctx, None):
                obj[name] = value
    return [(TASK_ANSWERS, json.dumps([obj], ensure_ascii=False))]


def _spec_answers(answer_spec: Mapping[str, Any] | None, ctx: _Context) -> list[tuple[str, Any]]:
    """Answers for pages the emulator cannot see (ExternalQuestion, layouts), from ``answer_spec``."""
    if not answer_spec:
        spec = FieldSpec("answer", "text", required=True)
        return [("answer", ctx.text(spec))]
    answers: list[tuple[str, Any]] = []
    for name, raw in answer_spec.items():
        rule = raw if isinstance(raw, Mapping) else {"text": raw}
        has, truth = ctx.truth(name)
        if "choices" in rule:
            options = [str(item) for item in rule["choices"]]
            multiple = bool(rule.get("multiple"))
            spec = FieldSpec(name, "select", options=options, multiple=multiple, required=True)
            chosen = _choose(
                spec,
                ctx.rng,
                truth=truth,
                has_truth=has,
                accuracy=ctx.accuracy,
                low=1,
                high=len(options) if multiple else 1,
            )
            answers.append((name, "|".join(chosen)))
        elif "number" in rule:
            bounds = rule["number"] or [0, 100]
            constraints = {"numeric": True, "min_value": bounds[0], "max_value": bounds[1]}
            spec = FieldSpec(name, "text", required=True, constraints=constraints)
            if not has:
                answers.append((name, _format_number(_random_number(ctx.rng, constraints))))
            else:
                answers.append((name, ctx.text(spec)))
        else:
            constraints = {
                key: rule[key] for key in ("min_length", "max_length", "regexes") if key in rule
            }
            if rule.get("regex"):
                constraints["regexes"] = [{"regex": rule["regex"], "flags": rule.get("flags", "")}]
            spec = FieldSpec(name, "text", required=True, constraints=constraints)
            expected = rule.get("text")
            if not has and isinstance(expected, str) and expected:
                # A fixed expected answer in the spec acts as the ground truth for this field.
                ctx = _Context(
                    ctx.rng, ctx.accuracy, {**ctx.ground_truth, name: expected}, ctx.sloppy
                )
            if ctx.skip_optional(FieldSpec(name, "text", required=bool(rule.get("required")))):
                answers.append((name, ""))
            else:
                answers.append((name, ctx.text(spec)))
    return answers


def generate_answer(
    question_xml: str,
    *,
    rng: random.Random,
    accuracy: float,
    ground_truth: Mapping[str, Any] | None = None,
    answer_spec: Mapping[str, Any] | None = None,
    layout_parameters: Mapping[str, str] | None = None,
    sloppy: bool = False,
    assignment_id: str | None = None,
) -> str:
    """Return the QuestionFormAnswers XML one simulated worker submits for this question.

    For every field with an entry in ``ground_truth`` the worker is right with probability
    ``accuracy`` (independently per field) and otherwise gives a plausible wrong answer (another
    option, a typo, a different number); without ground truth answers are random but valid under
    the field's constraints. ``sloppy`` gives shorter text and sometimes leaves optional fields
    empty. ExternalQuestion pages (and an empty ``question_xml``, for HITs created from a layout) are
    answered from ``answer_spec`` (field → ``{"choices": [...], "multiple": bool}``,
    ``{"number": [min, max]}``, ``{"text": "expected answer or empty"}`` / ``{"regex": ...}``), or
    with one free-text field ``answer`` when there is no spec. ``layout_parameters`` fill
    ``${name}`` placeholders in HTML before its form is read. Deterministic for a given rng state.
    Raises ``ValueError`` for an invalid question.
    """
    ctx = _Context(rng, min(1.0, max(0.0, float(accuracy))), ground_truth or {}, sloppy)
    if not question_xml or not question_xml.strip():
        return answers_to_xml(_spec_answers(answer_spec, ctx))
    kind, cached, crowd = _analyse(question_xml, _params_key(layout_parameters))
    fields = list(cached)  # read-only below: generation never mutates a FieldSpec
    if kind == "QuestionForm":
        answers = _question_form_answers(fields, ctx)
    elif kind == "HTMLQuestion":
        if crowd:
            answers = _crowd_answers(fields, ctx, assignment_id)
        elif fields:
            answers = _html_form_answers(fields, ctx, assignment_id)
        else:
            answers = _spec_answers(answer_spec, ctx)
    else:
        answers = _spec_answers(answer_spec, ctx)
    return answers_to_xml(answers)


# ---------------------------------------------------------------------------------------------
# QuestionFormAnswers XML
# ---------------------------------------------------------------------------------------------

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


def parse_answers(xml: str) -> dict[str, str | list[str]]:
    """Read QuestionFormAnswers XML back: ``<FreeText>`` → ``str``, selections → ``list[str]``
    (an ``<Answer>`` with neither gives ``[]``; ``<OtherSelectionText>`` is appended to the list).

    Raises ``ValueError`` for malformed XML or a root other than QuestionFormAnswers.
    """
    try:
        root = SafeET.fromstring(xml)
    except (DefusedXmlException, ParseError) as exc:
        raise ValueError(f"Not valid QuestionFormAnswers XML: {exc}") from exc
    ns, local = _split_tag(root.tag)
    if local != "QuestionFormAnswers":
        raise ValueError(f"Expected <QuestionFormAnswers>, got <{local}>.")
    result: dict[str, str | list[str]] = {}
    for answer in _children(root, ns, "Answer"):
        qid_elem = _child(answer, ns, "QuestionIdentifier")
        qid = "" if qid_elem is None else (qid_elem.text or "")
        free = _child(answer, ns, "FreeText")
        if free is not None:
            result[qid] = free.text or ""
            continue
        selected = [elem.text or "" for elem in _children(answer, ns, "SelectionIdentifier")]
        selected += [elem.text or "" for elem in _children(answer, ns, "OtherSelectionText")]
        result[qid] = selected
    return result
