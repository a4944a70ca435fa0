"""What the preview page of a HIT shows: the question as workers saw it, or one worker's replay.

:func:`build_preview` reads a HIT's question document and decides how to show it, by kind
(``hits.enums.QuestionKind``): an HTMLQuestion as authored (filled by
:func:`hits.preview.form_filler.fill_html_form` for a replay); an ExternalQuestion by framing its
https URL with the parameters MTurk appends in preview (:mod:`hits.preview.external`); a
QuestionForm rendered by :func:`mturk.questionform.render_question_form`; a HIT made from a layout
by the Question document MTurk returned for it or, lacking one, its layout id and parameters. Each
kind gets its iframe sandbox and page policy from :mod:`dashboard.previews`.

Pure functions: no views, no database access beyond the attributes of the objects passed in. The
question and the answers are untrusted, and nothing raises on malformed input: the returned
:class:`Preview` then has a ``note`` saying what is wrong and the ``raw_question`` for the page to
show escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from dashboard.previews import (
    SANDBOX_EXTERNAL,
    SANDBOX_NO_SCRIPTS,
    SANDBOX_WITH_SCRIPTS,
    preview_csp,
)
from hits.enums import QuestionKind
from hits.preview.external import (
    MTURK_SUBMIT_LIVE,
    MTURK_SUBMIT_SANDBOX,
    external_preview_url,
    https_origin,
    same_origin,
)
from hits.preview.form_filler import fill_html_form
from mturk.answers import answer_text
from mturk.questionform import render_question_form
from mturk.xmlread import child_text, find_children, local_name, parse_int, parse_xml

__all__ = ["FILL_WINDOW", "MAX_FRAME_HEIGHT", "Preview", "build_preview"]

# MTurk: FrameHeight 0 means "fit the worker's window"; we cap hostile values.
FILL_WINDOW = 0
MAX_FRAME_HEIGHT = 5000


@dataclass(frozen=True)
class Preview:
    """What the preview page shows. Exactly one of ``srcdoc`` / ``external_url`` is set when there is
    a frame; neither when the question cannot be shown (then ``note`` says why)."""

    kind: str
    srcdoc: str | None = None
    external_url: str | None = None
    frame_height: int = FILL_WINDOW
    answers_table: list[tuple[str, str]] = field(default_factory=list)
    layout_parameters: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""
    hit_layout_id: str = ""
    # The question document as text, for the page to show (escaped) when it cannot be rendered.
    raw_question: str = ""
    # The iframe's sandbox attribute and the page's Content-Security-Policy header value.
    sandbox: str = SANDBOX_NO_SCRIPTS
    csp: str = ""


def _answers_table(answers: Any) -> list[tuple[str, str]]:
    if not isinstance(answers, Mapping):
        return []
    return [(str(key), answer_text(value)) for key, value in answers.items()]


def _layout_parameters(parameters: Any) -> list[tuple[str, str]]:
    """HITLayoutParameters as (name, value): stored either as {name: value} or [{Name, Value}]."""
    if isinstance(parameters, Mapping):
        return [(str(key), answer_text(value)) for key, value in parameters.items()]
    rows = []
    if isinstance(parameters, Iterable) and not isinstance(parameters, str | bytes):
        for item in parameters:
            if isinstance(item, Mapping):
                rows.append((str(item.get("Name", "")), str(item.get("Value", ""))))
    return rows


def _frame_height(root: Element) -> int:
    height = parse_int(child_text(root, "FrameHeight"), FILL_WINDOW)
    if height is None or height <= 0:
        return FILL_WINDOW
    return min(height, MAX_FRAME_HEIGHT)


def build_preview(*, hit: Any, assignment: Any = None, own_origin: str | None = None) -> Preview:
    """What the preview page of ``hit`` shows; with ``assignment``, that worker's answers replayed.

    ``own_origin`` is the dashboard's origin (``https://host``): an ExternalQuestion on it is
    refused, because the external frame is given allow-same-origin. Never raises on bad input.
    """
    replay = assignment is not None
    answers: Mapping[str, Any] | None = None
    notes: list[str] = []
    if replay:
        stored = getattr(assignment, "answers", None)
        answers = stored if isinstance(stored, Mapping) else {}
        if not getattr(assignment, "answers_ok", True):
            notes.append(
                "This worker's answer could not be read completely"
                + (
                    f" ({assignment.answers_error})"
                    if getattr(assignment, "answers_error", "")
                    else ""
                )
                + "; what could be read is shown."
            )
    common: dict[str, Any] = {
        "answers_table": _answers_table(answers) if replay else [],
        "layout_parameters": _layout_parameters(getattr(hit, "layout_parameters", None)),
        "hit_layout_id": getattr(hit, "hit_layout_id", "") or "",
    }

    def preview(kind: str, note: str = "", **kwargs: Any) -> Preview:
        kwargs.setdefault("csp", preview_csp(scripts=False))
        text = " ".join([*notes, note]).strip()
        return Preview(kind=kind, note=text, **common, **kwargs)

    question = getattr(hit, "question", "") or ""
    if not question.strip():
        if common["hit_layout_id"]:
            return preview(
                QuestionKind.LAYOUT,
                "MTurk returned no question document for this layout-based HIT: its layout id "
                "and parameters are shown instead.",
            )
        return preview(QuestionKind.UNKNOWN, "There is no question document for this HIT yet.")

    root, error = parse_xml(question)
    if root is None:
        return preview(
            QuestionKind.UNKNOWN,
            f"The question XML could not be read ({error}); it is shown as text below.",
            raw_question=question,
        )
    local = local_name(root.tag)

    if local == "HTMLQuestion":
        content = child_text(root, "HTMLContent")
        if not content:
            return preview(
                QuestionKind.HTML, "This HTMLQuestion has no HTMLContent.", raw_question=question
            )
        srcdoc = fill_html_form(content, answers or {}) if replay else content
        return preview(
            QuestionKind.HTML,
            srcdoc=srcdoc,
            frame_height=_frame_height(root),
            sandbox=SANDBOX_WITH_SCRIPTS,
            csp=preview_csp(),
        )

    if local == "ExternalQuestion":
        url = child_text(root, "ExternalURL")
        origin = https_origin(url)
        if origin is None:
            return preview(
                QuestionKind.EXTERNAL,
                "The ExternalURL is not an https URL, so it is not shown in a frame (MTurk "
                "requires HTTPS).",
                raw_question=question,
            )
        if same_origin(origin, own_origin):
            return preview(
                QuestionKind.EXTERNAL,
                "The ExternalURL points at this dashboard, so it is not shown in a frame.",
                raw_question=question,
            )
        environment = getattr(getattr(hit, "account", None), "environment", "")
        submit_to = MTURK_SUBMIT_SANDBOX if environment == "sandbox" else MTURK_SUBMIT_LIVE
        note = (
            "An external page cannot be filled with the worker's answers: it is shown as in "
            "preview, and the answers are listed below."
            if replay
            else ""
        )
        # The replay frame stays in preview mode: loading the page with the worker's assignment id
        # would make the external site treat this visit as the worker resuming their work.
        return preview(
            QuestionKind.EXTERNAL,
            note,
            external_url=external_preview_url(
                url, hit_id=getattr(hit, "hit_id", ""), turk_submit_to=submit_to
            ),
            frame_height=_frame_height(root),
            sandbox=SANDBOX_EXTERNAL,
            csp=preview_csp(origin),
        )

    if local == "QuestionForm":
        if not find_children(root, "Question"):
            return preview(
                QuestionKind.QUESTION_FORM,
                "This QuestionForm has no questions.",
                raw_question=question,
            )
        return preview(
            QuestionKind.QUESTION_FORM,
            srcdoc=render_question_form(question, answers if replay else None),
            sandbox=SANDBOX_NO_SCRIPTS,
        )

    return preview(
        QuestionKind.LAYOUT if common["hit_layout_id"] else QuestionKind.UNKNOWN,
        f"The question is a <{local}> document, which the preview does not know how to show; "
        "it is shown as text below.",
        raw_question=question,
    )
