"""Previews of a HIT's question as workers saw it, and replays of one worker's answers in it.

Pure functions: no views, no database access beyond the attributes of the objects passed in.
Everything here handles untrusted input (question documents, worker answers, external URLs):

- XML is parsed with defusedxml, and nothing raises on malformed input: :func:`build_preview`
  returns a :class:`Preview` whose ``note`` says what is wrong and whose ``raw_question`` holds the
  text for the page to show escaped.
- Question HTML is never rendered in the dashboard's origin. The preview page puts it in an
  ``<iframe sandbox srcdoc>`` without ``allow-same-origin`` (an opaque origin: no access to our
  cookies, storage or DOM) and serves the page with :func:`preview_csp`.
- Answers are escaped wherever they land: in attribute values, in textarea content, in tables.
  A ``<script>`` in an answer ends up as text, never as markup.

Kinds (``hits.enums.QuestionKind``): an HTMLQuestion is shown as authored (and filled by
:func:`fill_html_form` for a replay); an ExternalQuestion frames its https URL with the parameters
MTurk appends in preview (:func:`external_preview_url`); a QuestionForm is rendered to HTML by our
own renderer (:func:`mturk.questionform.render_question_form`); a HIT made from a layout shows the
Question document MTurk returned for it or, lacking one, its layout id and parameters.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from xml.etree.ElementTree import Element

from hits.enums import QuestionKind
from mturk.answers import Answers, answer_text, answer_values
from mturk.questionform import render_question_form
from mturk.xmlread import child_text, find_children, local_name, parse_int, parse_xml

__all__ = [
    "ASSIGNMENT_ID_NOT_AVAILABLE",
    "Preview",
    "build_preview",
    "external_preview_url",
    "fill_html_form",
    "preview_csp",
    "render_question_form",
]

ASSIGNMENT_ID_NOT_AVAILABLE = "ASSIGNMENT_ID_NOT_AVAILABLE"
MTURK_SUBMIT_LIVE = "https://www.mturk.com"
MTURK_SUBMIT_SANDBOX = "https://workersandbox.mturk.com"
# Reserved by MTurk (API Reference, "The Frame's URL and Parameters"): it appends these itself.
_RESERVED_PARAMS = frozenset({"assignmentId", "hitId", "turkSubmitTo", "workerId"})

# Question scripts may run, but only in an opaque origin (no allow-same-origin): they can neither
# read the dashboard (parent/top access throws) nor use cookies or storage of any origin.
SANDBOX_WITH_SCRIPTS = "allow-scripts allow-forms"
# Our own QuestionForm rendering needs no script, so none may run; forms cannot submit either.
SANDBOX_NO_SCRIPTS = ""
# An external https page keeps its own origin (never ours, see build_preview) so its scripts,
# cookies and storage work as they do for workers; the same-origin policy still separates it from
# the dashboard. allow-same-origin is only dangerous for a document of the embedder's own origin,
# which could then lift its own sandbox.
SANDBOX_EXTERNAL = "allow-scripts allow-forms allow-same-origin"

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


# --- Content-Security-Policy ---------------------------------------------------------------------

_ORIGIN = re.compile(r"https://[a-z0-9.-]+(:[0-9]{1,5})?")


def preview_csp(external_origin: str | None = None, *, scripts: bool = True) -> str:
    """The Content-Security-Policy of a preview page.

    A srcdoc frame inherits the policy of the page that contains it, so this one policy governs both
    our slim page and the question inside the frame:

    - Question scripts (inline, or from any https host, as on MTurk) may run, with eval: they run in
      an opaque origin, so eval grants nothing inline script lacks. ``scripts=False`` (our own
      QuestionForm rendering, the layout table) allows none.
    - ``connect-src 'none'``: no fetch/XHR/WebSocket at all, so nothing can call our endpoints.
    - ``form-action 'none'``: a form post goes nowhere (and cannot reach our views).
    - ``base-uri 'none'``, ``object-src 'none'``: no base-URL hijack, no plugins.
    - ``frame-ancestors 'self'``: only our own pages may embed the preview page.
    - ``sandbox``: the preview page itself gets an opaque origin too, so even an escaping bug in our
      slim page could not run script with the dashboard's privileges.

    With ``external_origin`` (an ExternalQuestion), the page runs no script and may frame only that
    origin; there is no sandbox directive because it would force the external page into an opaque
    origin as well (nested frames inherit sandbox flags) and break it.
    """
    locked = [
        "connect-src 'none'",
        "form-action 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'self'",
    ]
    if external_origin is not None:
        origin = external_origin.lower().rstrip("/")
        # Anything that is not a plain https origin could smuggle extra directives (";", spaces).
        frame = origin if _ORIGIN.fullmatch(origin) else "'none'"
        return "; ".join(
            [
                "default-src 'none'",
                "style-src 'self'",
                "img-src 'self' data:",
                f"frame-src {frame}",
                *locked,
            ]
        )
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'unsafe-inline' 'unsafe-eval' https:" if scripts else "script-src 'none'",
            "style-src 'self' 'unsafe-inline' https:",
            "img-src https: data:",
            "font-src https: data:",
            "media-src https: data:",
            "frame-src https:",
            *locked,
            "sandbox allow-scripts allow-forms" if scripts else "sandbox",
        ]
    )


# --- ExternalQuestion ----------------------------------------------------------------------------


def external_preview_url(
    url: str,
    *,
    hit_id: str,
    assignment_id: str | None = None,
    worker_id: str | None = None,
    turk_submit_to: str = MTURK_SUBMIT_LIVE,
) -> str:
    """The URL MTurk frames for an ExternalQuestion (API Reference, "The Frame's URL and Parameters").

    In preview MTurk passes ``assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE`` and the ``hitId``; once a
    worker has accepted, ``assignmentId``, ``hitId``, ``turkSubmitTo`` and ``workerId``. Parameters
    already in the URL are kept byte for byte, except any reserved name, which MTurk's value replaces.
    """
    base, _, fragment = url.partition("#")
    path, _, query = base.partition("?")
    kept = [
        part for part in query.split("&") if part and part.split("=", 1)[0] not in _RESERVED_PARAMS
    ]
    params: list[tuple[str, str]] = [
        ("assignmentId", assignment_id or ASSIGNMENT_ID_NOT_AVAILABLE),
        ("hitId", hit_id),
    ]
    if assignment_id:
        params.append(("turkSubmitTo", turk_submit_to))
        if worker_id:
            params.append(("workerId", worker_id))
    result = path + "?" + "&".join([*kept, urlencode(params, quote_via=quote, safe="")])
    return result + ("#" + fragment if fragment else "")


def _https_origin(url: str) -> str | None:
    """``https://host[:port]`` of an https URL, else None (MTurk requires HTTPS for ExternalURL)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname or parts.username is not None:
        return None
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    origin = f"https://{host.lower()}" + (f":{port}" if port and port != 443 else "")
    return origin if _ORIGIN.fullmatch(origin) else None


def _same_origin(origin: str, other: str | None) -> bool:
    if not other:
        return False
    other_parts = urlsplit(other)
    try:
        other_port = other_parts.port or {"https": 443, "http": 80}.get(other_parts.scheme)
    except ValueError:
        return False
    origin_parts = urlsplit(origin)
    return (origin_parts.hostname, origin_parts.port or 443, "https") == (
        (other_parts.hostname or "").lower(),
        other_port,
        other_parts.scheme.lower(),
    )


# --- Filling an HTML form with one worker's answers ----------------------------------------------

_NOT_FILLED = frozenset({"submit", "button", "image", "reset", "file"})
_CROWD_VALUE = frozenset({"crowd-input", "crowd-text-area", "crowd-slider"})
_CROWD_CHECKABLE = frozenset({"crowd-radio-button", "crowd-checkbox", "crowd-toggle-button"})
_SAFE_ATTR_NAME = re.compile(r"[^\s\"'>/=<\x00-\x1f]+")


def _serialise_tag(tag: str, attrs: list[tuple[str, str | None]], selfclosing: bool) -> str:
    parts = [tag]
    seen = set()
    for name, value in attrs:
        # Browsers keep the first of duplicate attributes; names the parser mangled are dropped.
        if name in seen or not _SAFE_ATTR_NAME.fullmatch(name):
            continue
        seen.add(name)
        parts.append(name if value is None else f'{name}="{html.escape(value, quote=True)}"')
    return "<" + " ".join(parts) + (" />" if selfclosing else ">")


def _with(
    attrs: list[tuple[str, str | None]], name: str, value: str | None
) -> list[tuple[str, str | None]]:
    return [(key, val) for key, val in attrs if key != name] + [(name, value)]


def _without(attrs: list[tuple[str, str | None]], name: str) -> list[tuple[str, str | None]]:
    return [(key, val) for key, val in attrs if key != name]


def _get(attrs: list[tuple[str, str | None]], name: str) -> str | None:
    for key, value in attrs:
        if key == name:
            return value if value is not None else ""
    return None


class _FormFiller(HTMLParser):
    """Finds form controls in HTML and records edits to their start tags (and to textarea content)
    by source offset, so everything else in the document, however messy, is left byte for byte."""

    def __init__(self, source: str, answers: Answers) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.answers = answers
        self.line_starts = [0]
        for index, char in enumerate(source):
            if char == "\n":
                self.line_starts.append(index + 1)
        self.edits: list[tuple[int, int, str]] = []
        self.textarea: tuple[int, str] | None = None  # (content start, answer text)
        self.in_textarea = False
        self.select: set[str] | None = None  # values chosen in the current <select>, if answered
        self.pending_option: tuple[int, int, list[tuple[str, str | None]], bool] | None = None
        self.option_text: list[str] = []

    # positions

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _tag_span(self) -> tuple[int, int]:
        start = self._offset()
        text = self.get_starttag_text() or ""
        return start, start + len(text)

    def _replace_tag(
        self, tag: str, attrs: list[tuple[str, str | None]], selfclosing: bool
    ) -> None:
        start, end = self._tag_span()
        self.edits.append((start, end, _serialise_tag(tag, attrs, selfclosing)))

    # answers

    def _answer(self, name: str | None) -> str | list[str] | None:
        if name is None:
            return None
        return self.answers.get(name)

    # parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._control(tag, attrs, selfclosing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <textarea/> and <select/> are start tags to a browser; keep the slash only on void tags.
        self._control(tag, attrs, selfclosing=True)

    def handle_endtag(self, tag: str) -> None:
        if self.in_textarea:
            if tag != "textarea":
                return
            self.in_textarea = False
            if self.textarea is not None:
                content_start, text = self.textarea
                self.edits.append((content_start, self._offset(), _textarea_body(text)))
                self.textarea = None
            return
        self._flush_option()
        if tag == "select":
            self.select = None

    def handle_data(self, data: str) -> None:
        if self.pending_option is not None:
            self.option_text.append(data)

    def close(self) -> None:
        super().close()
        self._flush_option()
        if self.in_textarea and self.textarea is not None:
            # An unclosed textarea swallows the rest of the document in a browser too.
            self.edits.append(
                (self.textarea[0], len(self.source), _textarea_body(self.textarea[1]))
            )
            self.textarea = None

    # the work

    def _flush_option(self) -> None:
        if self.pending_option is None:
            return
        start, end, attrs, selfclosing = self.pending_option
        self.pending_option = None
        # An option without a value attribute submits its text, whitespace stripped and collapsed.
        value = " ".join("".join(self.option_text).split())
        self.option_text = []
        selected = self.select is not None and value in self.select
        new_attrs = _with(attrs, "selected", None) if selected else _without(attrs, "selected")
        self.edits.append((start, end, _serialise_tag("option", new_attrs, selfclosing)))

    def _control(self, tag: str, attrs: list[tuple[str, str | None]], *, selfclosing: bool) -> None:
        if self.in_textarea:
            return
        self._flush_option()
        name = _get(attrs, "name")
        answer = self._answer(name)
        if tag == "input":
            kind = (_get(attrs, "type") or "text").strip().lower()
            if kind in ("radio", "checkbox"):
                value = _get(attrs, "value")
                value = "on" if value is None else value
                if name is None:
                    checked = _get(attrs, "checked") is not None  # never submitted: as authored
                elif answer is None:
                    # A checked box always submits its value: absent means the worker left it off.
                    checked = False
                elif kind == "radio":
                    checked = value in answer_values(answer, split=False)
                else:
                    checked = value in answer_values(answer, split=True)
                attrs = _with(attrs, "checked", None) if checked else _without(attrs, "checked")
            elif kind not in _NOT_FILLED and answer is not None:
                # Text-like and unknown types (a browser treats those as text) show the value.
                attrs = _with(attrs, "value", answer_text(answer))
            self._replace_tag(tag, _with(attrs, "disabled", None), selfclosing)
        elif tag == "textarea":
            self._replace_tag(tag, _with(attrs, "disabled", None), False)
            self.in_textarea = True
            if answer is not None:
                _, end = self._tag_span()
                self.textarea = (end, answer_text(answer))
        elif tag == "select":
            multiple = _get(attrs, "multiple") is not None
            self.select = None if answer is None else answer_values(answer, split=multiple)
            self._replace_tag(tag, _with(attrs, "disabled", None), False)
        elif tag == "option":
            if self.select is None:
                return
            value = _get(attrs, "value")
            if value is None:
                start, end = self._tag_span()
                self.pending_option = (start, end, attrs, selfclosing)
                return
            selected = value in self.select
            attrs = _with(attrs, "selected", None) if selected else _without(attrs, "selected")
            self._replace_tag(tag, attrs, selfclosing)
        elif tag == "button":
            self._replace_tag(tag, _with(attrs, "disabled", None), selfclosing)
        elif tag in _CROWD_VALUE:
            if answer is not None:
                attrs = _with(attrs, "value", answer_text(answer))
            self._replace_tag(tag, _with(attrs, "disabled", None), selfclosing)
        elif tag in _CROWD_CHECKABLE:
            value = _get(attrs, "value")
            chosen = answer_values(answer, split=True)
            checked = (value is not None and value in chosen) or (
                value is None and answer_text(answer).lower() in ("true", "on")
            )
            attrs = _with(attrs, "checked", None) if checked else _without(attrs, "checked")
            self._replace_tag(tag, _with(attrs, "disabled", None), selfclosing)
        elif tag.startswith("crowd-") and name is not None:
            # Other crowd widgets (classifier, bounding box...) keep their internal state in script:
            # best effort is to make them read-only; their answers are listed beside the frame.
            self._replace_tag(tag, _with(attrs, "disabled", None), selfclosing)

    def result(self) -> str:
        out = []
        position = 0
        for start, end, text in sorted(self.edits, key=lambda edit: edit[0]):
            if start < position:  # overlapping edits cannot happen; never corrupt if they do
                continue
            out.append(self.source[position:start])
            out.append(text)
            position = end
        out.append(self.source[position:])
        return "".join(out)


def _textarea_body(text: str) -> str:
    # A newline right after <textarea> is dropped by the HTML parser: keep the answer's own.
    return html.escape(("\n" + text) if text.startswith("\n") else text, quote=False)


def fill_html_form(html_text: str, answers: Answers) -> str:
    """The HTML with the worker's answers filled in and every form control disabled (read-only).

    Text-like inputs get ``value``, textareas their content, radios/checkboxes ``checked`` when
    their value was submitted (several checkbox values arrive joined with "|"), options
    ``selected``; crowd-input / crowd-text-area get ``value`` and crowd-radio-button /
    crowd-checkbox ``checked``. Edits are spliced into the original text, so messy HTML stays as
    it was. Never raises: on a parser failure the edits found so far are applied.
    """
    filler = _FormFiller(html_text or "", answers or {})
    try:
        filler.feed(html_text or "")
        filler.close()
    except Exception:  # html.parser can trip on pathological input; keep the edits found so far
        pass
    return filler.result()


# --- The preview ---------------------------------------------------------------------------------


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
        origin = _https_origin(url)
        if origin is None:
            return preview(
                QuestionKind.EXTERNAL,
                "The ExternalURL is not an https URL, so it is not shown in a frame (MTurk "
                "requires HTTPS).",
                raw_question=question,
            )
        if _same_origin(origin, own_origin):
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
