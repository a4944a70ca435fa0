"""Turning a question template and one row of inputs into the Question MTurk is sent.

A template holds ``${name}`` placeholders, the Requester website's convention (seed 004): a name is
letters, digits and underscores. ``$${`` writes a literal ``${`` (for a script's own template
literals). Each value is escaped for where it lands: HTML-escaped in an HTMLQuestion, URL-encoded in
an ExternalQuestion's URL, XML-escaped in a QuestionForm. A HITLayoutId template has no document:
its row's values become the HITLayoutParameters.

Every problem a user can fix (a missing value, a URL that is not https, a QuestionForm MTurk would
refuse, a question over MTurk's 64 KB) raises :class:`QuestionProblem` with a message for them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape as xml_escape

from django.db import IntegrityError, transaction

from dashboard.models import RequesterAccount
from mturk.qualification_test import validate_question_form
from mturk.requesting import QuestionForm
from mturk.xmlread import local_name, parse_xml
from publishing.enums import TemplateKind
from publishing.models import MAX_QUESTION_BYTES, QuestionTemplate

__all__ = [
    "CROWD_HTML_ELEMENTS",
    "MAX_FRAME_HEIGHT",
    "QuestionProblem",
    "RenderedQuestion",
    "build_question_form_xml",
    "delete_template",
    "preview_inputs",
    "render_question",
    "sample_inputs",
    "save_sample_values",
    "save_template",
    "template_problems",
    "template_variables",
]

_SCHEMAS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
HTML_QUESTION_NAMESPACE = _SCHEMAS + "2011-11-11/HTMLQuestion.xsd"
EXTERNAL_QUESTION_NAMESPACE = _SCHEMAS + "2006-07-14/ExternalQuestion.xsd"
# The script that defines <crowd-form> and the other crowd-* elements, as MTurk's own templates
# load it; without it a crowd-form has no submit button and workers cannot hand in their work.
CROWD_HTML_ELEMENTS = "https://assets.crowd.aws/crowd-html-elements.js"
# A sane bound for FrameHeight (0 means "fit the window"); MTurk documents no maximum.
MAX_FRAME_HEIGHT = 10000

# `$${` first, so an escaped placeholder is never read as a variable.
_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([A-Za-z0-9_]+)\}")
_USES_CROWD_ELEMENTS = re.compile(r"<crowd-[a-z]", re.IGNORECASE)
_LAYOUT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_XML_ATTR = {'"': "&quot;", "'": "&apos;"}


class QuestionProblem(ValueError):
    """A template or its inputs cannot make a question MTurk accepts; the message says why.

    ``problems`` lists each problem on its own (a QuestionForm can have several)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]


@dataclass(frozen=True)
class RenderedQuestion:
    """What CreateHIT is sent: ``question``, or ``layout_id`` with ``layout_parameters``."""

    question: str | None
    layout_id: str | None
    layout_parameters: dict[str, str] | None


def _placeholders(content: str) -> list[str]:
    names: list[str] = []
    for match in _PLACEHOLDER.finditer(content):
        name = match.group(1)
        if name is not None and name not in names:
            names.append(name)
    return names


def template_variables(
    *, kind: str, content: str, layout_parameter_names: Sequence[str]
) -> list[str]:
    """The variables a template needs, in the order they first appear (one input column each)."""
    if kind == TemplateKind.LAYOUT:
        return list(dict.fromkeys(str(name) for name in layout_parameter_names))
    if kind in (TemplateKind.HTML, TemplateKind.EXTERNAL, TemplateKind.QUESTION_FORM):
        return _placeholders(content)
    raise QuestionProblem(f"“{kind}” is not a kind of question template.")


def _substitute(content: str, inputs: Mapping[str, str], escape: Callable[[str], str]) -> str:
    missing = [name for name in _placeholders(content) if name not in inputs]
    if missing:
        raise QuestionProblem(
            "No value for the variable"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(f"${{{name}}}" for name in missing)
            + "."
        )

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:  # `$${`: a literal `${`
            return "${"
        return escape(str(inputs[name]))

    return _PLACEHOLDER.sub(replace, content)


def _html_escape(value: str) -> str:
    return html.escape(value, quote=True)


def _url_encode(value: str) -> str:
    # Nothing is safe: a value can add neither a path, a query parameter nor a fragment.
    return quote(value, safe="")


def _xml_escape(value: str) -> str:
    return xml_escape(value, _XML_ATTR)


def _check_frame_height(frame_height: int) -> int:
    if not 0 <= frame_height <= MAX_FRAME_HEIGHT:
        raise QuestionProblem(
            f"The frame height must be between 0 (fit the window) and {MAX_FRAME_HEIGHT} pixels."
        )
    return frame_height


def _with_crowd_elements(document: str) -> str:
    """The HTML as a whole document (MTurk requires one, with its DOCTYPE), loading the
    crowd-html-elements script when the HTML uses crowd-* elements and does not load it itself."""
    needs_script = (
        bool(_USES_CROWD_ELEMENTS.search(document)) and CROWD_HTML_ELEMENTS not in document
    )
    script = f'<script src="{CROWD_HTML_ELEMENTS}"></script>' if needs_script else ""
    if not re.search(r"<html[\s>]", document, re.IGNORECASE):
        return (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"{script}</head><body>\n{document}\n</body></html>"
        )
    if script:
        head = re.search(r"<head(\s[^>]*)?>", document, re.IGNORECASE)
        where = head or re.search(r"<html(\s[^>]*)?>", document, re.IGNORECASE)
        assert where is not None  # the document has an <html> tag (checked above)
        document = document[: where.end()] + script + document[where.end() :]
    if not document.lstrip().lower().startswith("<!doctype"):
        document = "<!DOCTYPE html>\n" + document
    return document


def _html_question(content: str, frame_height: int) -> str:
    document = _with_crowd_elements(content)
    # A `]]>` in the HTML would end the CDATA section early: split it across two sections.
    cdata = document.replace("]]>", "]]]]><![CDATA[>")
    return (
        f'<HTMLQuestion xmlns="{HTML_QUESTION_NAMESPACE}">'
        f"<HTMLContent><![CDATA[{cdata}]]></HTMLContent>"
        f"<FrameHeight>{frame_height}</FrameHeight></HTMLQuestion>"
    )


def _external_question(url: str, frame_height: int) -> str:
    url = url.strip()
    shown = url if len(url) <= 200 else url[:200] + "…"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise QuestionProblem(f"The external URL “{shown}” cannot be read as a URL.") from None
    # MTurk frames only https pages (the worker site is https; mixed content would be blocked).
    if parts.scheme.lower() != "https" or not host:
        raise QuestionProblem(f"The external URL must be an absolute https:// URL, not “{shown}”.")
    if re.search(r"\s", url):
        raise QuestionProblem("The external URL must not contain spaces.")
    return (
        f'<ExternalQuestion xmlns="{EXTERNAL_QUESTION_NAMESPACE}">'
        f"<ExternalURL>{_xml_escape(url)}</ExternalURL>"
        f"<FrameHeight>{frame_height}</FrameHeight></ExternalQuestion>"
    )


def _check_question_form(xml: str) -> None:
    root, _ = parse_xml(xml)
    if root is not None and local_name(root.tag) != "QuestionForm":
        raise QuestionProblem(
            f"A QuestionForm template must be a <QuestionForm> document, not <{local_name(root.tag)}>."
        )
    # The checker was written for qualification tests; MTurk refuses FileUploadAnswer in new
    # HITs too (since December 2017), so only the wording changes.
    errors = [
        error.replace("cannot be used in a qualification test", "is no longer accepted by MTurk")
        for error in validate_question_form(xml)
    ]
    if errors:
        raise QuestionProblem("MTurk would refuse this QuestionForm: " + " ".join(errors), errors)


def _check_document(question: str) -> str:
    size = len(question.encode("utf-8"))
    if size > MAX_QUESTION_BYTES:
        raise QuestionProblem(
            f"The question is {size:,} bytes long; MTurk accepts at most {MAX_QUESTION_BYTES:,} "
            "bytes (64 KB)."
        )
    root, problem = parse_xml(question)
    if root is None:
        raise QuestionProblem(f"The question is not valid XML ({problem}).")
    return question


def render_question(
    *,
    kind: str,
    content: str,
    frame_height: int,
    layout_id: str,
    inputs: Mapping[str, str],
    layout_parameter_names: Sequence[str] | None = None,
) -> RenderedQuestion:
    """The question for one row of ``inputs`` (extra inputs are ignored; a missing one is a
    problem). For a layout, the parameters are ``layout_parameter_names`` taken from ``inputs``,
    or every input when no names are given."""
    if kind == TemplateKind.LAYOUT:
        if not layout_id.strip():
            raise QuestionProblem("A layout template needs its HITLayoutId.")
        names = list(inputs) if layout_parameter_names is None else list(layout_parameter_names)
        missing = [name for name in names if name not in inputs]
        if missing:
            raise QuestionProblem("No value for the layout parameters " + ", ".join(missing) + ".")
        bad = [name for name in names if not _LAYOUT_NAME.fullmatch(name)]
        if bad:
            raise QuestionProblem("Not a layout parameter name: " + ", ".join(bad) + ".")
        parameters = {name: str(inputs[name]) for name in names}
        return RenderedQuestion(None, layout_id.strip(), parameters)
    if kind == TemplateKind.HTML:
        if not content.strip():
            raise QuestionProblem("The HTML of the question is empty.")
        filled = _substitute(content, inputs, _html_escape)
        question = _html_question(filled, _check_frame_height(frame_height))
    elif kind == TemplateKind.EXTERNAL:
        filled = _substitute(content, inputs, _url_encode)
        question = _external_question(filled, _check_frame_height(frame_height))
    elif kind == TemplateKind.QUESTION_FORM:
        question = _substitute(content, inputs, _xml_escape)
        _check_document(question)
        _check_question_form(question)
    else:
        raise QuestionProblem(f"“{kind}” is not a kind of question template.")
    return RenderedQuestion(_check_document(question), None, None)


# --- checking and keeping templates ---------------------------------------------------------------


def sample_inputs(variables: Sequence[str]) -> dict[str, str]:
    """A value for each variable that shows where it goes: its own placeholder."""
    return {name: f"${{{name}}}" for name in variables}


def preview_inputs(variables: Sequence[str], sample_values: Mapping[str, Any]) -> dict[str, str]:
    """The saved sample value of each variable, or its own placeholder where there is none."""
    inputs = sample_inputs(variables)
    for name in variables:
        value = sample_values.get(name)
        if isinstance(value, str) and value:
            inputs[name] = value
    return inputs


def build_question_form_xml(spec: Mapping[str, Any]) -> str:
    """The QuestionForm XML of the question builder's ``spec`` (see QuestionTemplate.builder_spec:
    ``{"overview": str, "questions": [{"identifier", "display_name", "required", "text",
    "answer", "choices", ...}]}``), written by mturk.requesting.QuestionForm; raises
    QuestionProblem with what MTurk would refuse."""
    form = QuestionForm(overview=str(spec.get("overview", "")))
    try:
        for question in spec.get("questions", []):
            common = {
                "required": bool(question.get("required")),
                "display_name": question.get("display_name", ""),
            }
            answer = question.get("answer", "free_text")
            if answer == "free_text":
                form.free_text(
                    question["identifier"],
                    question["text"],
                    min_length=question.get("min_length"),
                    max_length=question.get("max_length"),
                    regex=question.get("regex", ""),
                    regex_error=question.get("regex_error", ""),
                    lines=question.get("lines"),
                    **common,
                )
            else:
                multiple = answer == "checkbox"
                form.choice(
                    question["identifier"],
                    question["text"],
                    [(str(sid), str(text)) for sid, text in question.get("choices", [])],
                    multiple=multiple,
                    style="" if answer in ("radiobutton", "checkbox") else answer,
                    min_selections=question.get("min_selections") if multiple else None,
                    max_selections=question.get("max_selections") if multiple else None,
                    **common,
                )
        return form.to_xml()
    except (KeyError, TypeError) as exc:
        raise QuestionProblem(f"The builder's questions are incomplete ({exc}).") from None
    except ValueError as exc:
        problems = [part.strip() for part in str(exc).split("; ") if part.strip()]
        raise QuestionProblem(str(exc), problems) from None


def template_problems(
    *,
    kind: str,
    content: str,
    frame_height: int,
    layout_id: str,
    layout_parameter_names: Sequence[str],
) -> list[str]:
    """What MTurk would refuse in this template, filled with placeholder values (the inputs of a
    batch are checked again when it is published); ``[]`` if nothing."""
    try:
        variables = template_variables(
            kind=kind, content=content, layout_parameter_names=layout_parameter_names
        )
        render_question(
            kind=kind,
            content=content,
            frame_height=frame_height,
            layout_id=layout_id,
            inputs=sample_inputs(variables),
            layout_parameter_names=layout_parameter_names,
        )
    except QuestionProblem as exc:
        return exc.problems
    return []


def save_template(
    *,
    account: RequesterAccount,
    user: Any,
    template: QuestionTemplate | None = None,
    name: str,
    kind: str,
    content: str,
    frame_height: int,
    layout_id: str,
    layout_parameter_names: Sequence[str],
    builder_spec: Mapping[str, Any] | None = None,
) -> QuestionTemplate:
    """Create (template None) or update a question template; raises QuestionProblem if MTurk
    would refuse it. A layout keeps no content and other kinds keep no layout, so a template's
    kind says alone what is sent. ``builder_spec`` is the question builder's questions, kept for
    a QuestionForm built from them (``content`` is then their XML); None means written by hand,
    and the builder's questions, if any, are forgotten."""
    problems = template_problems(
        kind=kind,
        content=content,
        frame_height=frame_height,
        layout_id=layout_id,
        layout_parameter_names=layout_parameter_names,
    )
    if problems:
        raise QuestionProblem(" ".join(problems), problems)
    if template is None:
        template = QuestionTemplate(
            account=account, created_by=user if getattr(user, "is_authenticated", False) else None
        )
    elif template.account_id != account.pk:
        raise QuestionProblem("That template belongs to another account.")
    layout = kind == TemplateKind.LAYOUT
    template.name = name
    template.kind = kind
    template.content = "" if layout else content
    template.frame_height = frame_height
    template.layout_id = layout_id.strip() if layout else ""
    template.layout_parameter_names = list(layout_parameter_names) if layout else []
    built = kind == TemplateKind.QUESTION_FORM and builder_spec is not None
    template.builder_spec = dict(builder_spec) if built and builder_spec is not None else {}
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        # The form checks the name first; this is a second editor saving the same name meanwhile.
        raise QuestionProblem(f"A template named “{name}” exists already.") from None
    return template


def save_sample_values(
    *, account: RequesterAccount, template: QuestionTemplate, values: Mapping[str, str]
) -> QuestionTemplate:
    """Keep the preview's sample values: one per variable the template needs (others are
    dropped, and an empty value means "show the placeholder")."""
    if template.account_id != account.pk:
        raise QuestionProblem("That template belongs to another account.")
    variables = template_variables(
        kind=template.kind,
        content=template.content,
        layout_parameter_names=template.layout_parameter_names or [],
    )
    template.sample_values = {name: str(values[name]) for name in variables if values.get(name)}
    # Not `updated_at`: sample values change nothing workers see.
    template.save(update_fields=["sample_values"])
    return template


def delete_template(*, account: RequesterAccount, template: QuestionTemplate) -> None:
    """Delete a template. Batches published from it keep their own copy (PublishBatch snapshot)."""
    if template.account_id != account.pk:
        raise QuestionProblem("That template belongs to another account.")
    template.delete()
