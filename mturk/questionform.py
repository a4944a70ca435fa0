"""QuestionForm documents rendered to HTML, as MTurk draws them for workers.

A QuestionForm is XML, not HTML: MTurk renders it itself, and so must anything that shows it
(a preview, a replay of a worker's answers). :func:`render_question_form` produces a standalone
HTML document that needs no script, so a caller can show it where none may run. The document is
untrusted: it is parsed with defusedxml, text is escaped wherever it lands, FormattedContent goes
through the allowlist of :mod:`mturk.html_sanitiser`, and media URLs other than http(s) are not
rendered. Worker answers in a replay are escaped too.
"""

from __future__ import annotations

import html
from xml.etree.ElementTree import Element

from mturk.answers import Answers, answer_text, answer_values
from mturk.html_sanitiser import sanitise_formatted_content, strip_tags
from mturk.xmlread import child_text, find_child, find_children, local_name, parse_int, parse_xml

__all__ = ["render_question_form"]

_e = html.escape

_QUESTION_FORM_STYLE = """
body { font-family: Arial, Helvetica, sans-serif; font-size: 15px; color: #222; margin: 0; padding: 16px; }
.overview, .question { border: 1px solid #ccc; border-radius: 4px; padding: 12px 16px; margin: 0 0 16px; background: #fff; }
.overview { background: #f7f7f2; }
.display-name { font-size: 1.1em; margin: 0 0 8px; }
.required { color: #b42318; font-weight: bold; }
.constraints, .selection-count { color: #555; font-size: 0.9em; margin: 6px 0 0; padding-left: 18px; }
.choices { list-style: none; padding: 0; margin: 8px 0 0; }
.choices li { margin: 4px 0; }
.answer { margin-top: 10px; }
input[type=text], textarea { width: 100%; max-width: 40em; padding: 4px; font: inherit; }
textarea { display: block; }
select { min-width: 14em; font: inherit; }
.other { margin-top: 8px; }
.media img, .media video { max-width: 100%; }
.unsupported { color: #555; font-style: italic; }
/* A replay is read-only (disabled), but the answers must stay easy to read. */
input:disabled, textarea:disabled, select:disabled { color: #1d2330; background: #f4f5f7; opacity: 1; }
"""


def _url_ok(url: str) -> bool:
    return url.strip().lower().startswith(("https://", "http://"))


def _binary(elem: Element, mime_name: str) -> str:
    mime = find_child(elem, mime_name)
    kind = child_text(mime, "Type").lower()
    subtype = child_text(mime, "SubType")
    url = child_text(elem, "DataURL")
    alt = child_text(elem, "AltText")
    size = ""
    width, height = parse_int(child_text(elem, "Width")), parse_int(child_text(elem, "Height"))
    if width:
        size += f' width="{width}"'
    if height:
        size += f' height="{height}"'
    if not _url_ok(url):
        return f'<p class="media unsupported">{_e(alt or "(media with no usable URL)")}</p>'
    src = _e(url.strip(), quote=True)
    if kind == "image":
        return f'<p class="media"><img src="{src}" alt="{_e(alt, quote=True)}"{size}></p>'
    if kind in ("audio", "video"):
        mime_type = f' type="{_e(kind + "/" + subtype, quote=True)}"' if subtype else ""
        return (
            f'<p class="media"><{kind} controls{size}><source src="{src}"{mime_type}>'
            f"{_e(alt)}</{kind}></p>"
        )
    return f'<p class="media"><a href="{src}">{_e(alt or url)}</a></p>'


def _content(elem: Element | None) -> str:
    """Overview / QuestionContent: Title, Text, List, Binary, EmbeddedBinary, FormattedContent."""
    if elem is None:
        return ""
    parts = []
    for child in elem:
        name = local_name(child.tag)
        # All the text, even if a (schema-invalid) child element slipped in.
        text = "".join(child.itertext()).strip()
        if name == "Title":
            parts.append(f"<h2>{_e(text)}</h2>")
        elif name == "Text":
            # MTurk shows Text verbatim: angle brackets appear as typed.
            parts.append(f"<p>{_e(text)}</p>")
        elif name == "List":
            items = "".join(
                f"<li>{_e(''.join(item.itertext()).strip())}</li>"
                for item in find_children(child, "ListItem")
            )
            parts.append(f"<ul>{items}</ul>")
        elif name == "Binary":
            parts.append(_binary(child, "MimeType"))
        elif name == "EmbeddedBinary":
            parts.append(_binary(child, "EmbeddedMimeType"))
        elif name == "FormattedContent":
            parts.append(
                f'<div class="formatted">{sanitise_formatted_content(child.text or "")}</div>'
            )
        elif name == "Application":
            parts.append(
                '<p class="unsupported">(A Java or Flash application: MTurk no longer shows these.)</p>'
            )
    return "".join(parts)


def _attr(name: str, value: object) -> str:
    return f' {name}="{_e(str(value), quote=True)}"'


def _free_text(
    spec: Element, name: str, answer: str | list[str] | None, replay: bool, required: bool
) -> str:
    constraints = find_child(spec, "Constraints")
    numeric = find_child(constraints, "IsNumeric")
    length = find_child(constraints, "Length")
    regexes = find_children(constraints, "AnswerFormatRegex") if constraints is not None else []
    lines = parse_int(child_text(spec, "NumberOfLinesSuggestion"), 1) or 1
    value = answer_text(answer) if replay else child_text(spec, "DefaultText")

    attrs = _attr("name", name)
    notes = []
    if numeric is not None:
        low, high = numeric.get("minValue"), numeric.get("maxValue")
        attrs += ' inputmode="numeric"'
        if low is not None and high is not None:
            notes.append(f"A number from {low} to {high}.")
        elif low is not None:
            notes.append(f"A number of at least {low}.")
        elif high is not None:
            notes.append(f"A number of at most {high}.")
        else:
            notes.append("A number.")
    if length is not None:
        low_len, high_len = parse_int(length.get("minLength")), parse_int(length.get("maxLength"))
        if high_len is not None:
            attrs += _attr("maxlength", high_len)
        if low_len is not None:
            attrs += _attr("minlength", low_len)
        if low_len is not None and high_len is not None:
            notes.append(f"Between {low_len} and {high_len} characters.")
        elif low_len is not None:
            notes.append(f"At least {low_len} characters.")
        elif high_len is not None:
            notes.append(f"At most {high_len} characters.")
    for regex in regexes:
        pattern, flags = regex.get("regex") or "", regex.get("flags") or ""
        if pattern and not flags and lines == 1 and len(regexes) == 1:
            # HTML's pattern has no flags; MTurk validates with a JavaScript RegExp.
            attrs += _attr("pattern", pattern)
        error = regex.get("errorText") or "Invalid input supplied."
        notes.append(f"Must match /{pattern}/{flags}: “{error}”")
    if required:
        attrs += " required"
    if replay:
        attrs += " disabled"
    if lines > 1:
        # A newline right after <textarea> is dropped by the parser: keep the answer's own.
        body = ("\n" + value) if value.startswith("\n") else value
        field_html = f"<textarea{attrs}{_attr('rows', lines)}>{_e(body, quote=False)}</textarea>"
    else:
        field_html = f'<input type="text"{attrs}{_attr("value", value)}>'
    notes_html = (
        '<ul class="constraints">' + "".join(f"<li>{_e(note)}</li>" for note in notes) + "</ul>"
        if notes
        else ""
    )
    return field_html + notes_html


def _selection_label(selection: Element) -> tuple[str, str]:
    """(HTML label, plain text) of a Selection: Text, FormattedContent or Binary."""
    for child in selection:
        name = local_name(child.tag)
        if name == "Text":
            text = (child.text or "").strip()
            return _e(text), text
        if name == "FormattedContent":
            markup = child.text or ""
            return sanitise_formatted_content(markup), strip_tags(markup)
        if name == "Binary":
            return _binary(child, "MimeType"), child_text(child, "AltText")
    identifier = child_text(selection, "SelectionIdentifier")
    return _e(identifier), identifier


def _selection(
    spec: Element, name: str, answers: Answers | None, replay: bool, required: bool
) -> str:
    minimum = parse_int(child_text(spec, "MinSelectionCount"), 1)
    maximum = parse_int(child_text(spec, "MaxSelectionCount"), 1)
    minimum = 1 if minimum is None else minimum
    maximum = 1 if maximum is None else maximum
    style = child_text(spec, "StyleSuggestion").lower()
    selections_elem = find_child(spec, "Selections")
    selections = find_children(selections_elem, "Selection") if selections_elem is not None else []
    chosen = answer_values((answers or {}).get(name), split=False) if replay else set()
    multiple = maximum > 1 or style == "multichooser"
    disabled = " disabled" if replay else ""

    if style in ("dropdown", "combobox", "list", "multichooser"):
        size = (
            f' size="{min(max(len(selections), 2), 10)}"'
            if style in ("list", "multichooser")
            else ""
        )
        options = []
        for selection in selections:
            identifier = child_text(selection, "SelectionIdentifier")
            _, text = _selection_label(selection)
            selected = " selected" if identifier in chosen else ""
            options.append(f"<option{_attr('value', identifier)}{selected}>{_e(text)}</option>")
        blank = "" if multiple else '<option value="">Select one</option>'
        field_html = (
            f"<select{_attr('name', name)}{' multiple' if multiple else ''}{size}"
            f"{' required' if required else ''}{disabled}>{blank}{''.join(options)}</select>"
        )
    else:
        kind = "checkbox" if style == "checkbox" or multiple else "radio"
        items = []
        for selection in selections:
            identifier = child_text(selection, "SelectionIdentifier")
            label, _ = _selection_label(selection)
            checked = " checked" if identifier in chosen else ""
            items.append(
                f'<li><label><input type="{kind}"{_attr("name", name)}{_attr("value", identifier)}'
                f"{checked}{disabled}> {label}</label></li>"
            )
        field_html = f'<ul class="choices">{"".join(items)}</ul>'

    if maximum > 1 or minimum != 1:
        count = (
            f"Choose between {minimum} and {maximum}."
            if maximum != minimum
            else f"Choose {maximum}."
        )
        field_html += f'<p class="selection-count">{_e(count)}</p>'
    other = find_child(selections_elem, "OtherSelection")
    if other is not None:
        other_name = f"{name}.other"
        other_answer = (answers or {}).get(other_name) if replay else None
        field_html += (
            f'<div class="other"><label>Other: '
            f"{_free_text(other, other_name, other_answer, replay, False)}</label></div>"
        )
    return field_html


def _file_upload(spec: Element, name: str, answer: str | list[str] | None, replay: bool) -> str:
    low, high = child_text(spec, "MinFileSizeInBytes"), child_text(spec, "MaxFileSizeInBytes")
    note = f"A file of {low or 0} to {high or '?'} bytes."
    if replay:
        return f'<p>{_e(answer_text(answer) or "(no file)")}</p><p class="selection-count">{_e(note)}</p>'
    return f'<input type="file"{_attr("name", name)}><p class="selection-count">{_e(note)}</p>'


def _question(question: Element, answers: Answers | None, replay: bool) -> str:
    identifier = child_text(question, "QuestionIdentifier")
    display = child_text(question, "DisplayName")
    required = child_text(question, "IsRequired").lower() == "true"
    mark = ' <span class="required" title="Required">*<span hidden> (required)</span></span>'
    heading = (
        f'<h3 class="display-name">{_e(display)}{mark if required else ""}</h3>'
        if display
        else (f'<p class="required-only">{mark}</p>' if required else "")
    )
    content = _content(find_child(question, "QuestionContent"))
    spec = find_child(question, "AnswerSpecification")
    answer = (answers or {}).get(identifier) if replay else None
    field_html = '<p class="unsupported">(No answer specification.)</p>'
    if spec is not None:
        for child in spec:
            kind = local_name(child.tag)
            if kind == "FreeTextAnswer":
                field_html = _free_text(child, identifier, answer, replay, required)
            elif kind == "SelectionAnswer":
                field_html = _selection(child, identifier, answers, replay, required)
            elif kind == "FileUploadAnswer":
                field_html = _file_upload(child, identifier, answer, replay)
            else:
                continue
            break
    return (
        f'<section class="question"{_attr("data-question", identifier)}>{heading}{content}'
        f'<div class="answer">{field_html}</div></section>'
    )


def _document(body: str, title: str = "Question") -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{_QUESTION_FORM_STYLE}</style></head><body>{body}</body></html>"
    )


def render_question_form(xml: str, answers: Answers | None = None) -> str:
    """A QuestionForm rendered to a standalone HTML document, as MTurk draws it for workers.

    With ``answers`` (a replay), each control shows the worker's answer and is disabled. Never
    raises: a document that is not a readable QuestionForm renders as a message with the XML
    shown as text.
    """
    root, error = parse_xml(xml or "")
    if root is None or local_name(root.tag) != "QuestionForm":
        got = "nothing" if root is None else f"<{local_name(root.tag)}>"
        problem = error or f"expected <QuestionForm>, got {got}"
        return _document(
            f'<p class="unsupported">This QuestionForm could not be read: {_e(problem)}</p>'
            f"<pre>{_e(xml or '')}</pre>"
        )
    replay = answers is not None
    parts = []
    for child in root:
        name = local_name(child.tag)
        if name == "Overview":
            parts.append(f'<section class="overview">{_content(child)}</section>')
        elif name == "Question":
            parts.append(_question(child, answers, replay))
    # No action: the sandbox forbids submitting (and CSP form-action 'none' would block it anyway).
    return _document(f'<form method="post" novalidate>{"".join(parts)}</form>')
