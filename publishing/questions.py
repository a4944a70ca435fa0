"""Rendering a batch's question template with one row of inputs (the minimal version the publish
path needs; the templates work replaces it with the fuller module).

An HTMLQuestion's `${name}` placeholders are filled with the row's values, HTML-escaped (inputs
are data, never markup), and wrapped in the HTMLQuestion XML with its FrameHeight; the question
must fit MTurk's 64 KB limit. A layout (HITLayoutId) takes the row as its layout parameters.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from publishing.enums import TemplateKind
from publishing.models import MAX_QUESTION_BYTES

__all__ = ["QuestionProblem", "RenderedQuestion", "render_question", "template_variables"]

HTML_QUESTION_NS = (
    "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd"
)
EXTERNAL_QUESTION_NS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")


class QuestionProblem(ValueError):
    """The template cannot become a question MTurk accepts (too big, a variable not given...)."""


@dataclass(frozen=True)
class RenderedQuestion:
    question: str | None
    layout_id: str | None
    layout_parameters: dict[str, str] | None


def template_variables(
    *, kind: str, content: str, layout_parameter_names: list[str] | None = None
) -> list[str]:
    """The variables a row must give, in order of first appearance."""
    if kind == TemplateKind.LAYOUT:
        return list(dict.fromkeys(layout_parameter_names or []))
    return list(dict.fromkeys(_VARIABLE.findall(content)))


def _fill(content: str, inputs: dict[str, str], *, quote: bool) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in inputs:
            raise QuestionProblem(f"No value for ${{{name}}}.")
        text = inputs[name]
        return html.escape(text, quote=True) if quote else text

    return _VARIABLE.sub(value, content)


def render_question(
    *, kind: str, content: str, frame_height: int, layout_id: str, inputs: dict[str, str]
) -> RenderedQuestion:
    """The Question document (or the layout and its parameters) for one row. Raises
    QuestionProblem when it cannot be made or is over MTurk's size limit."""
    if kind == TemplateKind.LAYOUT:
        if not layout_id:
            raise QuestionProblem("The template has no HITLayoutId.")
        return RenderedQuestion(None, layout_id, dict(inputs))
    if kind == TemplateKind.HTML:
        body = _fill(content, inputs, quote=True)
        question = (
            f'<HTMLQuestion xmlns="{HTML_QUESTION_NS}"><HTMLContent><![CDATA['
            + body.replace("]]>", "]]]]><![CDATA[>")
            + f"]]></HTMLContent><FrameHeight>{int(frame_height)}</FrameHeight></HTMLQuestion>"
        )
    elif kind == TemplateKind.EXTERNAL:
        url = _fill(content.strip(), inputs, quote=False)
        question = (
            f'<ExternalQuestion xmlns="{EXTERNAL_QUESTION_NS}"><ExternalURL>{escape(url)}'
            f"</ExternalURL><FrameHeight>{int(frame_height)}</FrameHeight></ExternalQuestion>"
        )
    elif kind == TemplateKind.QUESTION_FORM:
        # XML: values are escaped as XML text.
        question = _VARIABLE.sub(
            lambda m: escape(inputs[m.group(1)]) if m.group(1) in inputs else m.group(0), content
        )
        missing = _VARIABLE.findall(question)
        if missing:
            raise QuestionProblem(f"No value for ${{{missing[0]}}}.")
    else:
        raise QuestionProblem(f"Unknown template kind {kind!r}.")
    size = len(question.encode("utf-8"))
    if size > MAX_QUESTION_BYTES:
        raise QuestionProblem(
            f"The question is {size:,} bytes; MTurk allows {MAX_QUESTION_BYTES:,} (64 KB)."
        )
    return RenderedQuestion(question, None, None)
