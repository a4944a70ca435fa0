"""A worker's answers filled into an HTMLQuestion's form, for the replay of one assignment.

The question HTML is untrusted and often messy, so it is not rebuilt: :func:`fill_html_form` finds
the form controls (plain inputs, textareas, selects, and the crowd-* elements of crowd-html) and
splices edits into their start tags (and textarea content) by source offset, leaving everything
else byte for byte. Answers are escaped wherever they land, so a ``<script>`` in an answer stays
text. Every control is disabled: a replay is read-only.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from mturk.answers import Answers, answer_text, answer_values

__all__ = ["fill_html_form"]

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
