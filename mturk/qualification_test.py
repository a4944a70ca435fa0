"""Qualification tests: a QuestionForm and its AnswerKey as data, built, parsed, checked and scored.

A qualification test is two XML documents at MTurk (API Reference, "QuestionForm", "AnswerKey"):
the questions workers answer, and the key that scores their answers. :class:`QualificationTest`
holds both in the shape an editor can show (questions with plain text and selections or free
text; the right selections with their scores; the score mapping). :func:`build_question_form`
and :func:`build_answer_key` write it; :func:`parse_test` reads it back, and raises
:class:`UnrepresentableTest` with one message per thing the data model cannot hold (pictures,
formatted content, other answer styles...), so such a test is edited as raw XML instead of being
silently changed.

No XSD files are available offline, so :func:`validate_question_form` and
:func:`validate_answer_key` check the schemas' structural rules by hand: root element and
namespace, required children and their order, identifier uniqueness, selection counts, number
formats, sizes. Each returns one message per error, saying where it is.

:func:`score_answers` computes the qualification value an AnswerKey gives a QuestionFormAnswers
document. Everything here treats its input as untrusted: XML is parsed with defusedxml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from mturk.xmlread import find_child, find_children, local_name, parse_xml

__all__ = [
    "ANSWER_KEY_NAMESPACE",
    "MAX_DOCUMENT_BYTES",
    "QUESTION_FORM_NAMESPACE",
    "QUESTION_FORM_NAMESPACES",
    "AnswerOption",
    "FreeTextConstraints",
    "MappingKind",
    "Option",
    "QualificationTest",
    "QuestionKind",
    "RangeBand",
    "ScoreMapping",
    "TestQuestion",
    "UnrepresentableTest",
    "build_answer_key",
    "build_question_form",
    "check_key_against_form",
    "parse_test",
    "score_answers",
    "validate_answer_key",
    "validate_question_form",
]

_SCHEMAS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
QUESTION_FORM_NAMESPACE = _SCHEMAS + "2017-11-06/QuestionForm.xsd"
# The 2005 schema still works at MTurk for forms without the elements 2017 removed.
QUESTION_FORM_NAMESPACES = (QUESTION_FORM_NAMESPACE, _SCHEMAS + "2005-10-01/QuestionForm.xsd")
ANSWER_KEY_NAMESPACE = _SCHEMAS + "2005-10-01/AnswerKey.xsd"
# CreateQualificationType / UpdateQualificationType: Test and AnswerKey "must not be longer than
# 65535 bytes".
MAX_DOCUMENT_BYTES = 65535

_STYLES = ("radiobutton", "dropdown", "checkbox", "list", "combobox", "multichooser")
# The API Reference: these styles let a worker pick at most one item.
_SINGLE_STYLES = ("radiobutton", "dropdown", "combobox")
_CONTENT = ("Title", "Text", "List", "Binary", "Application", "EmbeddedBinary", "FormattedContent")
_QUESTION_ORDER = (
    "QuestionIdentifier",
    "DisplayName",
    "IsRequired",
    "QuestionContent",
    "AnswerSpecification",
)
_INT = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


class QuestionKind(StrEnum):
    SINGLE = "single"  # radio buttons: one selection
    MULTIPLE = "multiple"  # checkboxes: one or more selections
    FREE_TEXT = "free_text"


class MappingKind(StrEnum):
    NONE = "none"  # the summed score is the value
    PERCENTAGE = "percentage"
    SCALE = "scale"
    RANGE = "range"


@dataclass(frozen=True)
class Option:
    identifier: str
    text: str


@dataclass(frozen=True)
class AnswerOption:
    """One combination of selections that scores: the worker must pick exactly these."""

    selections: tuple[str, ...]
    score: int


@dataclass(frozen=True)
class FreeTextConstraints:
    """What a FreeTextAnswer may hold (API Reference, "FreeTextAnswer"): a length range, a
    regular expression the worker's browser checks (with the error text it shows), and how many
    lines the field suggests. None / "" means no such constraint."""

    min_length: int | None = None
    max_length: int | None = None
    regex: str = ""
    regex_error: str = ""
    lines: int | None = None


@dataclass(frozen=True)
class TestQuestion:
    __test__ = False  # not a pytest test class, whatever its name

    identifier: str
    text: str
    kind: QuestionKind = QuestionKind.SINGLE
    options: tuple[Option, ...] = ()
    display_name: str = ""
    required: bool = True
    # The answer key's part for this question (selection questions only).
    answers: tuple[AnswerOption, ...] = ()
    default_score: int | None = None
    # HIT questions only (mturk.requesting.QuestionForm); a qualification test leaves them unset,
    # so its documents stay what the test editor can read back.
    style: str = ""  # StyleSuggestion; "" is radiobutton (single) or checkbox (multiple)
    min_selections: int | None = None  # multiple only; None: 1 if required, else 0
    max_selections: int | None = None  # multiple only; None: every choice
    constraints: FreeTextConstraints | None = None

    @property
    def scored(self) -> bool:
        return bool(self.answers) or self.default_score is not None


@dataclass(frozen=True)
class RangeBand:
    low: int
    high: int
    value: int


@dataclass(frozen=True)
class ScoreMapping:
    """QualificationValueMapping: how the summed score becomes the qualification value."""

    kind: MappingKind = MappingKind.NONE
    maximum_summed_score: int | None = None
    multiplier: Decimal | None = None
    ranges: tuple[RangeBand, ...] = ()
    out_of_range_value: int | None = None


@dataclass(frozen=True)
class QualificationTest:
    questions: tuple[TestQuestion, ...]
    overview: str = ""
    mapping: ScoreMapping = field(default_factory=ScoreMapping)

    @property
    def has_answer_key(self) -> bool:
        return any(q.scored for q in self.questions) or self.mapping.kind != MappingKind.NONE


class UnrepresentableTest(ValueError):
    """The documents hold something the data model cannot: ``problems`` says what, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- Building -------------------------------------------------------------------------------------


def paragraphs(text: str) -> list[str]:
    """Text split at blank lines: each paragraph becomes one <Text> element."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [part.strip() for part in re.split(r"\n[ \t]*\n", text) if part.strip()]


def _el(name: str, text: str | int | Decimal) -> str:
    return f"<{name}>{escape(str(text))}</{name}>"


def _texts(text: str) -> str:
    return "".join(_el("Text", paragraph) for paragraph in paragraphs(text))


def _attr(name: str, value: str | int) -> str:
    return f' {name}="{escape(str(value), {chr(34): "&quot;"})}"'


def _free_text_xml(constraints: FreeTextConstraints | None) -> str:
    if constraints is None:
        return "<FreeTextAnswer/>"
    rules = ""
    if constraints.min_length is not None or constraints.max_length is not None:
        length = ""
        if constraints.min_length is not None:
            length += _attr("minLength", constraints.min_length)
        if constraints.max_length is not None:
            length += _attr("maxLength", constraints.max_length)
        rules += f"<Length{length}/>"
    if constraints.regex:
        error = _attr("errorText", constraints.regex_error) if constraints.regex_error else ""
        rules += f"<AnswerFormatRegex{_attr('regex', constraints.regex)}{error}/>"
    parts = f"<Constraints>{rules}</Constraints>" if rules else ""
    if constraints.lines is not None:
        parts += _el("NumberOfLinesSuggestion", constraints.lines)
    return f"<FreeTextAnswer>{parts}</FreeTextAnswer>" if parts else "<FreeTextAnswer/>"


def _question_xml(question: TestQuestion) -> str:
    parts = [_el("QuestionIdentifier", question.identifier)]
    if question.display_name:
        parts.append(_el("DisplayName", question.display_name))
    parts.append(_el("IsRequired", "true" if question.required else "false"))
    parts.append(f"<QuestionContent>{_texts(question.text)}</QuestionContent>")
    if question.kind == QuestionKind.FREE_TEXT:
        spec = _free_text_xml(question.constraints)
    else:
        selections = "".join(
            f"<Selection>{_el('SelectionIdentifier', option.identifier)}"
            f"{_el('Text', option.text)}</Selection>"
            for option in question.options
        )
        if question.kind == QuestionKind.MULTIPLE:
            minimum = question.min_selections
            maximum = question.max_selections
            counts = _el(
                "MinSelectionCount",
                (1 if question.required else 0) if minimum is None else minimum,
            ) + _el(
                "MaxSelectionCount",
                max(len(question.options), 1) if maximum is None else maximum,
            )
            style = question.style or "checkbox"
        else:
            counts, style = "", question.style or "radiobutton"
        spec = (
            f"<SelectionAnswer>{counts}{_el('StyleSuggestion', style)}"
            f"<Selections>{selections}</Selections></SelectionAnswer>"
        )
    parts.append(f"<AnswerSpecification>{spec}</AnswerSpecification>")
    return f"<Question>{''.join(parts)}</Question>"


_TOKENS = re.compile(r"<[^>]+>|[^<]+")


def _indented(xml: str) -> str:
    """Our own compact document, one element per line and indented, for people who edit it as
    XML. Only for documents built here: every text is escaped and sits alone in a leaf element."""
    tokens, lines, depth, index = _TOKENS.findall(xml), [], 0, 0
    while index < len(tokens):
        token, pad = tokens[index], "  " * depth
        following = tokens[index + 1 : index + 3]
        if token.startswith("<?") or token.endswith("/>"):
            lines.append(pad + token)
            index += 1
        elif token.startswith("</"):
            depth -= 1
            lines.append("  " * depth + token)
            index += 1
        elif len(following) == 2 and not following[0].startswith("<"):
            lines.append(pad + token + following[0] + following[1])
            index += 3
        elif following and following[0].startswith("</"):
            lines.append(pad + token + following[0])
            index += 2
        else:
            lines.append(pad + token)
            depth += 1
            index += 1
    return "\n".join(lines)


def build_question_form(test: QualificationTest) -> str:
    """The test's QuestionForm document (2017-11-06 schema)."""
    overview = f"<Overview>{_texts(test.overview)}</Overview>" if paragraphs(test.overview) else ""
    questions = "".join(_question_xml(question) for question in test.questions)
    return _indented(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<QuestionForm xmlns="{QUESTION_FORM_NAMESPACE}">{overview}{questions}</QuestionForm>'
    )


def _mapping_xml(mapping: ScoreMapping) -> str:
    if mapping.kind == MappingKind.PERCENTAGE:
        inner = (
            f"<PercentageMapping>{_el('MaximumSummedScore', mapping.maximum_summed_score or 0)}"
            "</PercentageMapping>"
        )
    elif mapping.kind == MappingKind.SCALE:
        multiplier = mapping.multiplier if mapping.multiplier is not None else Decimal(1)
        inner = f"<ScaleMapping>{_el('SummedScoreMultiplier', multiplier)}</ScaleMapping>"
    elif mapping.kind == MappingKind.RANGE:
        bands = "".join(
            f"<SummedScoreRange>{_el('InclusiveLowerBound', band.low)}"
            f"{_el('InclusiveUpperBound', band.high)}{_el('QualificationValue', band.value)}"
            "</SummedScoreRange>"
            for band in mapping.ranges
        )
        out = _el("OutOfRangeQualificationValue", mapping.out_of_range_value or 0)
        inner = f"<RangeMapping>{bands}{out}</RangeMapping>"
    else:
        return ""
    return f"<QualificationValueMapping>{inner}</QualificationValueMapping>"


def build_answer_key(test: QualificationTest) -> str:
    """The test's AnswerKey document, or ``""`` when nothing is scored (MTurk then leaves every
    request to the requester)."""
    if not test.has_answer_key:
        return ""
    questions = []
    for question in test.questions:
        if not question.scored:
            continue
        options = "".join(
            "<AnswerOption>"
            + "".join(_el("SelectionIdentifier", sid) for sid in option.selections)
            + _el("AnswerScore", option.score)
            + "</AnswerOption>"
            for option in question.answers
        )
        default = (
            _el("DefaultScore", question.default_score)
            if question.default_score is not None
            else ""
        )
        questions.append(
            f"<Question>{_el('QuestionIdentifier', question.identifier)}{options}{default}"
            "</Question>"
        )
    return _indented(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<AnswerKey xmlns="{ANSWER_KEY_NAMESPACE}">{"".join(questions)}'
        f"{_mapping_xml(test.mapping)}</AnswerKey>"
    )


# --- Validating -----------------------------------------------------------------------------------


def _text_of(elem: Element | None) -> str:
    return "" if elem is None or elem.text is None else elem.text.strip()


def _int_or_none(value: str | None) -> int | None:
    if value is None or not _INT.fullmatch(value.strip()):
        return None
    return int(value.strip())


def _size_error(xml: str, what: str) -> list[str]:
    size = len(xml.encode("utf-8"))
    if size > MAX_DOCUMENT_BYTES:
        return [f"The {what} is {size} bytes long; MTurk accepts at most {MAX_DOCUMENT_BYTES}."]
    return []


def _root_errors(root: Element, name: str, namespaces: tuple[str, ...]) -> list[str]:
    if local_name(root.tag) != name:
        return [f"The document must be a <{name}>, not a <{local_name(root.tag)}>."]
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if namespace not in namespaces:
        shown = f"“{namespace}”" if namespace else "none"
        return [
            f'<{name}> must declare the namespace xmlns="{namespaces[0]}" (it has {shown}); '
            "MTurk rejects documents in any other namespace."
        ]
    return []


def _order_errors(elem: Element, order: tuple[str, ...], where: str) -> list[str]:
    errors, last = [], -1
    for child in elem:
        name = local_name(child.tag)
        if not name:
            continue
        if name not in order:
            errors.append(f"{where}: <{name}> is not allowed here.")
            continue
        position = order.index(name)
        if position < last:
            errors.append(f"{where}: <{name}> is out of order (expected {', '.join(order)}).")
        last = max(last, position)
    return errors


def _count_error(elem: Element, name: str, where: str, *, required: bool) -> list[str]:
    count = len(find_children(elem, name))
    if required and count == 0:
        return [f"{where}: <{name}> is missing."]
    if count > 1:
        return [f"{where}: <{name}> appears {count} times; it may appear once."]
    return []


def _content_errors(content: Element, where: str) -> list[str]:
    errors = []
    for child in content:
        name = local_name(child.tag)
        if not name:
            continue
        if name not in _CONTENT:
            errors.append(f"{where}: <{name}> is not a content element ({', '.join(_CONTENT)}).")
        elif name == "List" and not find_children(child, "ListItem"):
            errors.append(f"{where}: a <List> needs at least one <ListItem>.")
        elif name in ("Binary", "EmbeddedBinary"):
            mime = "MimeType" if name == "Binary" else "EmbeddedMimeType"
            kind = _text_of(find_child(find_child(child, mime), "Type"))
            if kind not in ("image", "audio", "video"):
                errors.append(f"{where}: <{name}> needs <{mime}><Type> image, audio or video.")
            url = _text_of(find_child(child, "DataURL"))
            if not url.lower().startswith(("http://", "https://")):
                errors.append(f"{where}: <{name}> needs a <DataURL> with an http(s) URL.")
            if find_child(child, "AltText") is None:
                errors.append(f"{where}: <{name}> needs an <AltText>.")
        elif name == "Application":
            errors.append(
                f"{where}: <Application> (Java or Flash) is no longer supported by MTurk."
            )
    return errors


def _free_text_errors(spec: Element, where: str) -> list[str]:
    errors = _order_errors(
        spec, ("Constraints", "DefaultText", "NumberOfLinesSuggestion"), f"{where} <FreeTextAnswer>"
    )
    constraints = find_child(spec, "Constraints")
    if constraints is not None:
        numeric = find_child(constraints, "IsNumeric")
        if numeric is not None:
            low, high = numeric.get("minValue"), numeric.get("maxValue")
            for attr, value in (("minValue", low), ("maxValue", high)):
                if value is not None and _int_or_none(value) is None:
                    errors.append(f"{where}: <IsNumeric> {attr} must be a whole number.")
            low_i, high_i = _int_or_none(low), _int_or_none(high)
            if low_i is not None and high_i is not None and low_i > high_i:
                errors.append(f"{where}: <IsNumeric> minValue is above maxValue.")
        length = find_child(constraints, "Length")
        if length is not None:
            low_len, high_len = length.get("minLength"), length.get("maxLength")
            low_n, high_n = _int_or_none(low_len), _int_or_none(high_len)
            if low_len is not None and (low_n is None or low_n < 0):
                errors.append(f"{where}: <Length> minLength must be a whole number ≥ 0.")
            if high_len is not None and (high_n is None or high_n < 1):
                errors.append(f"{where}: <Length> maxLength must be a whole number ≥ 1.")
            if low_n is not None and high_n is not None and low_n > high_n:
                errors.append(f"{where}: <Length> minLength is above maxLength.")
        for regex in find_children(constraints, "AnswerFormatRegex"):
            if not regex.get("regex"):
                errors.append(f"{where}: <AnswerFormatRegex> needs a regex attribute.")
    lines = find_child(spec, "NumberOfLinesSuggestion")
    if lines is not None and (_int_or_none(lines.text) or 0) < 1:
        errors.append(f"{where}: <NumberOfLinesSuggestion> must be a whole number ≥ 1.")
    return errors


def _selection_errors(spec: Element, where: str) -> list[str]:
    errors = _order_errors(
        spec,
        ("MinSelectionCount", "MaxSelectionCount", "StyleSuggestion", "Selections"),
        f"{where} <SelectionAnswer>",
    )
    selections_elem = find_child(spec, "Selections")
    if selections_elem is None:
        return [*errors, f"{where}: <SelectionAnswer> needs <Selections>."]
    selections = find_children(selections_elem, "Selection")
    if not selections:
        errors.append(f"{where}: <Selections> needs at least one <Selection>.")
    seen: set[str] = set()
    for number, selection in enumerate(selections, 1):
        here = f"{where}, selection {number}"
        identifier = _text_of(find_child(selection, "SelectionIdentifier"))
        if not identifier:
            errors.append(f"{here}: <SelectionIdentifier> is missing or empty.")
        elif identifier in seen:
            errors.append(f"{here}: the identifier “{identifier}” is used twice in this question.")
        seen.add(identifier)
        labels = [
            child
            for child in selection
            if local_name(child.tag) in ("Text", "FormattedContent", "Binary")
        ]
        if len(labels) != 1:
            errors.append(f"{here}: needs exactly one of <Text>, <FormattedContent> or <Binary>.")
    if find_child(selections_elem, "OtherSelection") is not None:
        errors.append(
            f"{where}: <OtherSelection> cannot be used in a qualification test (an answer key "
            "cannot score free text)."
        )
    available = len(selections)
    minimum_elem, maximum_elem = (
        find_child(spec, "MinSelectionCount"),
        find_child(spec, "MaxSelectionCount"),
    )
    minimum = 1 if minimum_elem is None else _int_or_none(minimum_elem.text)
    maximum = 1 if maximum_elem is None else _int_or_none(maximum_elem.text)
    if minimum is None or minimum < 0:
        errors.append(f"{where}: <MinSelectionCount> must be a whole number ≥ 0.")
    elif minimum > available and available:
        errors.append(
            f"{where}: <MinSelectionCount> {minimum} is more than the {available} choices."
        )
    if maximum is None or maximum < 1:
        errors.append(f"{where}: <MaxSelectionCount> must be a whole number ≥ 1.")
    elif maximum > available and available:
        errors.append(
            f"{where}: <MaxSelectionCount> {maximum} is more than the {available} choices."
        )
    if minimum is not None and maximum is not None and minimum > maximum:
        errors.append(f"{where}: <MinSelectionCount> is above <MaxSelectionCount>.")
    style_elem = find_child(spec, "StyleSuggestion")
    if style_elem is not None:
        style = _text_of(style_elem)
        if style not in _STYLES:
            errors.append(
                f"{where}: <StyleSuggestion> “{style}” is not one of {', '.join(_STYLES)}."
            )
        elif style in _SINGLE_STYLES and maximum is not None and maximum > 1:
            errors.append(
                f"{where}: the {style} style allows one choice, but MaxSelectionCount is {maximum}."
            )
    return errors


def _question_errors(question: Element, where: str) -> list[str]:
    errors = _order_errors(question, _QUESTION_ORDER, where)
    for name in _QUESTION_ORDER:
        required = name in ("QuestionIdentifier", "QuestionContent", "AnswerSpecification")
        errors += _count_error(question, name, where, required=required)
    identifier = find_child(question, "QuestionIdentifier")
    if identifier is not None and not _text_of(identifier):
        errors.append(f"{where}: <QuestionIdentifier> is empty.")
    required_elem = find_child(question, "IsRequired")
    if required_elem is not None and _text_of(required_elem) not in ("true", "false"):
        errors.append(f"{where}: <IsRequired> must be true or false.")
    content = find_child(question, "QuestionContent")
    if content is not None:
        errors += _content_errors(content, f"{where} <QuestionContent>")
    spec = find_child(question, "AnswerSpecification")
    if spec is None:
        return errors
    kinds = [child for child in spec if local_name(child.tag)]
    if len(kinds) != 1:
        errors.append(
            f"{where}: <AnswerSpecification> needs exactly one of <FreeTextAnswer>, "
            "<SelectionAnswer> or <FileUploadAnswer>."
        )
        return errors
    kind = local_name(kinds[0].tag)
    if kind == "FreeTextAnswer":
        errors += _free_text_errors(kinds[0], where)
    elif kind == "SelectionAnswer":
        errors += _selection_errors(kinds[0], where)
    elif kind == "FileUploadAnswer":
        errors.append(f"{where}: <FileUploadAnswer> cannot be used in a qualification test.")
    else:
        errors.append(f"{where}: <{kind}> is not an answer specification.")
    return errors


def _question_label(number: int, question: Element) -> str:
    identifier = _text_of(find_child(question, "QuestionIdentifier"))
    return f"Question {number}" + (f" (“{identifier}”)" if identifier else "")


def validate_question_form(xml: str) -> list[str]:
    """The structural errors of a QuestionForm used as a qualification test; ``[]`` if none."""
    if not (xml or "").strip():
        return ["The QuestionForm is empty."]
    errors = _size_error(xml, "QuestionForm")
    root, problem = parse_xml(xml)
    if root is None:
        return [*errors, f"The QuestionForm is not well-formed XML: {problem}."]
    root_errors = _root_errors(root, "QuestionForm", QUESTION_FORM_NAMESPACES)
    if root_errors and local_name(root.tag) != "QuestionForm":
        return errors + root_errors
    errors += root_errors
    questions, seen = 0, set()
    for child in root:
        name = local_name(child.tag)
        if name == "Overview":
            errors += _content_errors(child, "Overview")
        elif name == "Question":
            questions += 1
            where = _question_label(questions, child)
            errors += _question_errors(child, where)
            identifier = _text_of(find_child(child, "QuestionIdentifier"))
            if identifier and identifier in seen:
                errors.append(
                    f"{where}: the identifier “{identifier}” is used by another question."
                )
            seen.add(identifier)
        elif name:
            errors.append(
                f"<QuestionForm>: <{name}> is not allowed (only <Overview> and <Question>)."
            )
    if questions == 0:
        errors.append("The QuestionForm needs at least one <Question>.")
    return errors


def _number_error(elem: Element | None, where: str, name: str, *, decimal: bool = False) -> str:
    value = _text_of(elem)
    if elem is None:
        return f"{where}: <{name}> is missing."
    if not (_DECIMAL if decimal else _INT).fullmatch(value):
        kind = "a number" if decimal else "a whole number"
        return f"{where}: <{name}> must be {kind}, not “{value}”."
    return ""


def _mapping_errors(mapping: Element) -> list[str]:
    where = "<QualificationValueMapping>"
    kinds = [child for child in mapping if local_name(child.tag)]
    if len(kinds) != 1 or local_name(kinds[0].tag) not in (
        "PercentageMapping",
        "ScaleMapping",
        "RangeMapping",
    ):
        return [
            f"{where} needs exactly one of <PercentageMapping>, <ScaleMapping>, <RangeMapping>."
        ]
    kind, name = kinds[0], local_name(kinds[0].tag)
    errors: list[str] = []
    if name == "PercentageMapping":
        elem = find_child(kind, "MaximumSummedScore")
        error = _number_error(elem, f"{where} <PercentageMapping>", "MaximumSummedScore")
        if error:
            errors.append(error)
        elif int(_text_of(elem)) <= 0:
            errors.append(f"{where} <PercentageMapping>: <MaximumSummedScore> must be above 0.")
    elif name == "ScaleMapping":
        elem = find_child(kind, "SummedScoreMultiplier")
        error = _number_error(
            elem, f"{where} <ScaleMapping>", "SummedScoreMultiplier", decimal=True
        )
        errors += [error] if error else []
    else:
        bands = find_children(kind, "SummedScoreRange")
        if not bands:
            errors.append(f"{where} <RangeMapping> needs at least one <SummedScoreRange>.")
        spans = []
        for number, band in enumerate(bands, 1):
            here = f"{where} range {number}"
            band_errors = [
                error
                for part in ("InclusiveLowerBound", "InclusiveUpperBound", "QualificationValue")
                if (error := _number_error(find_child(band, part), here, part))
            ]
            errors += band_errors
            if not band_errors:
                low = int(_text_of(find_child(band, "InclusiveLowerBound")))
                high = int(_text_of(find_child(band, "InclusiveUpperBound")))
                if low > high:
                    errors.append(f"{here}: the lower bound {low} is above the upper bound {high}.")
                else:
                    spans.append((low, high, number))
        spans.sort()
        for (_, high, first), (low, _, second) in zip(spans, spans[1:], strict=False):
            if low <= high:
                # MTurk: "If ranges overlap, the behavior is undefined."
                errors.append(f"{where}: ranges {first} and {second} overlap.")
        error = _number_error(
            find_child(kind, "OutOfRangeQualificationValue"),
            f"{where} <RangeMapping>",
            "OutOfRangeQualificationValue",
        )
        errors += [error] if error else []
    return errors


def validate_answer_key(xml: str) -> list[str]:
    """The structural errors of an AnswerKey; ``[]`` if none."""
    if not (xml or "").strip():
        return ["The AnswerKey is empty."]
    errors = _size_error(xml, "AnswerKey")
    root, problem = parse_xml(xml)
    if root is None:
        return [*errors, f"The AnswerKey is not well-formed XML: {problem}."]
    root_errors = _root_errors(root, "AnswerKey", (ANSWER_KEY_NAMESPACE,))
    if root_errors and local_name(root.tag) != "AnswerKey":
        return errors + root_errors
    errors += root_errors
    errors += _order_errors(root, ("Question", "QualificationValueMapping"), "<AnswerKey>")
    errors += _count_error(root, "QualificationValueMapping", "<AnswerKey>", required=False)
    seen: set[str] = set()
    for number, question in enumerate(find_children(root, "Question"), 1):
        where = _question_label(number, question)
        errors += _order_errors(
            question, ("QuestionIdentifier", "AnswerOption", "DefaultScore"), f"Answer key {where}"
        )
        identifier = _text_of(find_child(question, "QuestionIdentifier"))
        if not identifier:
            errors.append(f"Answer key {where}: <QuestionIdentifier> is missing or empty.")
        elif identifier in seen:
            errors.append(f"Answer key {where}: the question “{identifier}” has two keys.")
        seen.add(identifier)
        options = find_children(question, "AnswerOption")
        if not options:
            errors.append(f"Answer key {where}: needs at least one <AnswerOption>.")
        for option_number, option in enumerate(options, 1):
            here = f"Answer key {where}, answer option {option_number}"
            chosen = [_text_of(sid) for sid in find_children(option, "SelectionIdentifier")]
            if not chosen:
                errors.append(f"{here}: needs at least one <SelectionIdentifier>.")
            if any(not sid for sid in chosen):
                errors.append(f"{here}: a <SelectionIdentifier> is empty.")
            if len(set(chosen)) != len(chosen):
                errors.append(f"{here}: a selection is listed twice.")
            error = _number_error(find_child(option, "AnswerScore"), here, "AnswerScore")
            errors += [error] if error else []
        default = find_child(question, "DefaultScore")
        if default is not None:
            error = _number_error(default, f"Answer key {where}", "DefaultScore")
            errors += [error] if error else []
    mapping = find_child(root, "QualificationValueMapping")
    if mapping is not None:
        errors += _mapping_errors(mapping)
    return errors


def check_key_against_form(question_form_xml: str, answer_key_xml: str) -> list[str]:
    """Errors where a (valid) AnswerKey does not fit its (valid) QuestionForm: a key for a question
    that does not exist or is not multiple-choice, or a selection the question does not offer."""
    form, _ = parse_xml(question_form_xml)
    key, _ = parse_xml(answer_key_xml)
    if form is None or key is None:
        return []
    offered: dict[str, set[str] | None] = {}
    for question in find_children(form, "Question"):
        spec = find_child(question, "AnswerSpecification")
        selection = find_child(spec, "SelectionAnswer")
        identifier = _text_of(find_child(question, "QuestionIdentifier"))
        selections = find_child(selection, "Selections")
        offered[identifier] = (
            None
            if selection is None
            else {
                _text_of(find_child(sel, "SelectionIdentifier"))
                for sel in (
                    find_children(selections, "Selection") if selections is not None else []
                )
            }
        )
    errors = []
    for number, question in enumerate(find_children(key, "Question"), 1):
        identifier = _text_of(find_child(question, "QuestionIdentifier"))
        where = f"Answer key {_question_label(number, question)}"
        if identifier not in offered:
            errors.append(f"{where}: the test has no question “{identifier}”.")
            continue
        choices = offered[identifier]
        if choices is None:
            errors.append(
                f"{where}: “{identifier}” is not a multiple-choice question; an answer key can only "
                "score selections."
            )
            continue
        for option in find_children(question, "AnswerOption"):
            for sid in find_children(option, "SelectionIdentifier"):
                if _text_of(sid) not in choices:
                    errors.append(
                        f"{where}: “{_text_of(sid)}” is not one of the question's choices."
                    )
    return errors


# --- Parsing --------------------------------------------------------------------------------------


def _plain_text(content: Element | None, where: str, problems: list[str]) -> str:
    if content is None:
        return ""
    texts = []
    for child in content:
        name = local_name(child.tag)
        if name == "Text":
            texts.append(_text_of(child))
        elif name:
            problems.append(f"{where}: <{name}> cannot be edited in the form (only plain <Text>).")
    return "\n\n".join(text for text in texts if text)


def _parse_question(question: Element, where: str, problems: list[str]) -> TestQuestion:
    identifier = _text_of(find_child(question, "QuestionIdentifier"))
    text = _plain_text(find_child(question, "QuestionContent"), where, problems)
    required = _text_of(find_child(question, "IsRequired")) == "true"
    display_name = _text_of(find_child(question, "DisplayName"))
    spec = find_child(question, "AnswerSpecification")
    free = find_child(spec, "FreeTextAnswer")
    if free is not None:
        if any(local_name(child.tag) for child in free):
            problems.append(
                f"{where}: free-text constraints, default text or line counts cannot be edited in "
                "the form."
            )
        return TestQuestion(identifier, text, QuestionKind.FREE_TEXT, (), display_name, required)
    selection = find_child(spec, "SelectionAnswer")
    if selection is None:
        problems.append(f"{where}: only multiple-choice and free-text questions can be edited.")
        return TestQuestion(identifier, text, QuestionKind.FREE_TEXT, (), display_name, required)
    style = _text_of(find_child(selection, "StyleSuggestion"))
    minimum = _int_or_none(_text_of(find_child(selection, "MinSelectionCount")) or "1")
    maximum = _int_or_none(_text_of(find_child(selection, "MaxSelectionCount")) or "1")
    options = []
    selections_elem = find_child(selection, "Selections")
    for selection_elem in (
        find_children(selections_elem, "Selection") if selections_elem is not None else []
    ):
        sid = _text_of(find_child(selection_elem, "SelectionIdentifier"))
        label = find_child(selection_elem, "Text")
        if label is None:
            problems.append(
                f"{where}: choice “{sid}” is not plain text and cannot be edited in the form."
            )
        options.append(Option(sid, _text_of(label)))
    if selections_elem is not None and find_child(selections_elem, "OtherSelection") is not None:
        problems.append(f"{where}: an “other” free-text choice cannot be edited in the form.")
    if style in ("radiobutton", "") and maximum == 1 and minimum == 1:
        kind = QuestionKind.SINGLE
    elif (
        style == "checkbox"
        and minimum == (1 if required else 0)
        and maximum == max(len(options), 1)
    ):
        kind = QuestionKind.MULTIPLE
    else:
        kind = QuestionKind.SINGLE
        problems.append(
            f"{where}: the {style or 'default'} style with {minimum} to {maximum} selections cannot "
            "be edited in the form (it offers radio buttons, or checkboxes allowing any number)."
        )
    return TestQuestion(identifier, text, kind, tuple(options), display_name, required)


def _parse_mapping(root: Element) -> ScoreMapping:
    mapping = find_child(root, "QualificationValueMapping")
    percentage = find_child(mapping, "PercentageMapping")
    if percentage is not None:
        return ScoreMapping(
            MappingKind.PERCENTAGE,
            maximum_summed_score=_int_or_none(
                _text_of(find_child(percentage, "MaximumSummedScore"))
            ),
        )
    scale = find_child(mapping, "ScaleMapping")
    if scale is not None:
        return ScoreMapping(
            MappingKind.SCALE,
            multiplier=Decimal(_text_of(find_child(scale, "SummedScoreMultiplier"))),
        )
    ranges = find_child(mapping, "RangeMapping")
    if ranges is not None:
        bands = tuple(
            RangeBand(
                int(_text_of(find_child(band, "InclusiveLowerBound"))),
                int(_text_of(find_child(band, "InclusiveUpperBound"))),
                int(_text_of(find_child(band, "QualificationValue"))),
            )
            for band in find_children(ranges, "SummedScoreRange")
        )
        return ScoreMapping(
            MappingKind.RANGE,
            ranges=bands,
            out_of_range_value=int(_text_of(find_child(ranges, "OutOfRangeQualificationValue"))),
        )
    return ScoreMapping()


def parse_test(question_form_xml: str, answer_key_xml: str = "") -> QualificationTest:
    """The test the two documents describe. Raises :class:`UnrepresentableTest` when a document is
    invalid (the validation messages) or holds what the data model cannot (one message each)."""
    problems = validate_question_form(question_form_xml)
    if (answer_key_xml or "").strip():
        problems += validate_answer_key(answer_key_xml)
        if not problems:
            problems += check_key_against_form(question_form_xml, answer_key_xml)
    if problems:
        raise UnrepresentableTest(problems)
    root, _ = parse_xml(question_form_xml)
    assert root is not None  # validated above
    overview = ""
    questions: list[TestQuestion] = []
    for position, child in enumerate(child for child in root if local_name(child.tag)):
        name = local_name(child.tag)
        if name == "Overview":
            if position != 0 or overview:
                problems.append(
                    "Only one overview, before the first question, can be edited in the form."
                )
            overview = _plain_text(child, "Overview", problems)
        else:
            where = _question_label(len(questions) + 1, child)
            questions.append(_parse_question(child, where, problems))
    mapping = ScoreMapping()
    if (answer_key_xml or "").strip():
        key, _ = parse_xml(answer_key_xml)
        assert key is not None
        by_id = {question.identifier: index for index, question in enumerate(questions)}
        for key_question in find_children(key, "Question"):
            index = by_id[_text_of(find_child(key_question, "QuestionIdentifier"))]
            answers = tuple(
                AnswerOption(
                    tuple(_text_of(sid) for sid in find_children(option, "SelectionIdentifier")),
                    int(_text_of(find_child(option, "AnswerScore"))),
                )
                for option in find_children(key_question, "AnswerOption")
            )
            default = _int_or_none(_text_of(find_child(key_question, "DefaultScore")) or None)
            question = questions[index]
            questions[index] = TestQuestion(
                question.identifier,
                question.text,
                question.kind,
                question.options,
                question.display_name,
                question.required,
                answers,
                default,
            )
        mapping = _parse_mapping(key)
    if problems:
        raise UnrepresentableTest(problems)
    return QualificationTest(tuple(questions), overview, mapping)


# --- Scoring --------------------------------------------------------------------------------------


def _given_answers(answer_xml: str) -> dict[str, list[str]] | None:
    root, _ = parse_xml(answer_xml or "")
    if root is None or local_name(root.tag) != "QuestionFormAnswers":
        return None
    given: dict[str, list[str]] = {}
    for answer in find_children(root, "Answer"):
        identifier = _text_of(find_child(answer, "QuestionIdentifier"))
        values = [
            _text_of(child)
            for child in answer
            if local_name(child.tag) in ("SelectionIdentifier", "OtherSelectionText", "FreeText")
        ]
        given[identifier] = values
    return given


def _round(value: Decimal) -> int:
    # MTurk says "rounded to the nearest integer" without saying where ties go; we round half to
    # even, as the emulator does, so the score shown beside a request is the one it grants.
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def score_answers(answer_key_xml: str, answer_xml: str) -> int | None:
    """The qualification value ``answer_key_xml`` gives the QuestionFormAnswers ``answer_xml``:
    per question the score of the answer option whose selections are exactly the worker's (else the
    question's DefaultScore, else 0), summed, then put through the QualificationValueMapping.
    None when either document cannot be read or the key is invalid."""
    if validate_answer_key(answer_key_xml):
        return None
    given = _given_answers(answer_xml)
    key, _ = parse_xml(answer_key_xml)
    if key is None or given is None:
        return None
    total = Decimal(0)
    for question in find_children(key, "Question"):
        chosen = sorted(given.get(_text_of(find_child(question, "QuestionIdentifier")), []))
        score = _int_or_none(_text_of(find_child(question, "DefaultScore"))) or 0
        for option in find_children(question, "AnswerOption"):
            wanted = sorted(_text_of(sid) for sid in find_children(option, "SelectionIdentifier"))
            if wanted == chosen:
                score = int(_text_of(find_child(option, "AnswerScore")))
                break
        total += score
    mapping = _parse_mapping(key)
    try:
        if mapping.kind == MappingKind.PERCENTAGE and mapping.maximum_summed_score:
            return _round(Decimal(100) * total / Decimal(mapping.maximum_summed_score))
        if mapping.kind == MappingKind.SCALE and mapping.multiplier is not None:
            return _round(total * mapping.multiplier)
    except InvalidOperation:
        return None
    if mapping.kind == MappingKind.RANGE:
        for band in mapping.ranges:
            if band.low <= total <= band.high:
                return band.value
        return mapping.out_of_range_value
    return _round(total)
